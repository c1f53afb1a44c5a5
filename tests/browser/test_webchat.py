"""The web chat in real browsers (Debian's Chromium through Playwright) against a live
uvicorn server in embedded mode: customers on the demo site (http://localhost:PORT, another
origin than Atende's http://127.0.0.1:PORT) and an agent in the inbox, side by side.
Screenshots of both sides go to docs/screenshots/webchat-*.png."""

import json

import pytest
from playwright.sync_api import expect, sync_playwright

from apps.demo.webchat import DEMO_SECRET
from apps.webchat.identity import expected_hash
from tests.browser.workday import CHROMIUM_ARGS, SIZES, log_in
from tests.inbox.servers import ROOT, manage, server_env, uvicorn

pytestmark = pytest.mark.browser

SHOTS = ROOT / "docs" / "screenshots"

SEED = """
import json
from datetime import datetime
from zoneinfo import ZoneInfo
from apps.accounts.models import User
from apps.demo.webchat import demo_webchat
from apps.teams.models import ClosedDate, DistributionMode, Membership, Team
ana = User.objects.create_user("ana", password="secret-pass-1", name="Ana Souza",
                               email="ana.souza@example.com")
vendas = Team.objects.create(name="Vendas", distribution_mode=DistributionMode.MANUAL)
suporte = Team.objects.create(name="Suporte", distribution_mode=DistributionMode.MANUAL)
financeiro = Team.objects.create(name="Financeiro")
for team in (vendas, suporte):
    Membership.objects.create(team=team, agent=ana)
today = datetime.now(ZoneInfo(financeiro.timezone)).date()
ClosedDate.objects.create(team=financeiro, date=today)
webchat = demo_webchat(origins=["http://localhost:%(port)s"])
print(json.dumps({"vendas": vendas.pk, "key": webchat.public_key}))
"""


@pytest.fixture
def server(chromium, tmp_path):
    env = server_env(
        DATABASE_URL=None, REDIS_URL=None, SQLITE_PATH=tmp_path / "webchat.sqlite3",
        COUNTS_COALESCE_SECONDS="0.1",
    )
    manage("migrate", "--noinput", env=env)
    with uvicorn(env, log_path=tmp_path / "uvicorn.log") as address:
        port = address.rsplit(":", 1)[1]
        seeded = json.loads(
            manage("shell", env=env, input_text=SEED % {"port": port}).strip().splitlines()[-1]
        )
        yield port, seeded


@pytest.fixture
def browser(chromium):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def customer_page(browser, url, *, locale="pt-BR", size="desktop"):
    context = browser.new_context(locale=locale, viewport=SIZES[size])
    page = context.new_page()
    page.set_default_timeout(10000)
    page.goto(url)
    expect(page.locator("[data-chat=launcher]")).to_be_visible()
    return page


def chat(page, hook):
    return page.locator(f"[data-chat={hook}]")


def write(page, text, *, choice=None):
    if chat(page, "panel").is_hidden():
        chat(page, "launcher").click()
    if choice is not None:
        chat(page, "choices").get_by_label(choice).check()
    chat(page, "body").fill(text)
    chat(page, "send").click()
    expect(chat(page, "messages").locator("[data-from=me]").filter(has_text=text)).to_be_visible()


def test_customers_and_an_agent_side_by_side(server, browser):
    port, seeded = server
    site, atende = f"http://localhost:{port}/demo/site/", f"http://127.0.0.1:{port}"
    vendas = seeded["vendas"]
    agent_ctx = browser.new_context(locale="en-US", viewport=SIZES["desktop"])
    agent = agent_ctx.new_page()
    agent.set_default_timeout(10000)
    log_in(agent, atende, "ana")
    agent.get_by_test_id(f"queue-team-{vendas}").click()

    paula = customer_page(browser, site)
    chat(paula, "launcher").click()
    expect(chat(paula, "choices")).to_contain_text("Sobre o que é?")
    paula.get_by_label("Seu nome (opcional)").fill("Paula")
    write(paula, "Quero um café <b>especial</b>", choice="Quero comprar")
    expect(chat(paula, "status-position")).to_have_text("Você é o número 1 na fila.")

    # The agent is alerted: the team's count and the row, live.
    expect(agent.get_by_test_id(f"count-team-{vendas}")).to_have_text("1")
    row = agent.get_by_test_id("conversation-list").get_by_text("Paula")
    expect(row).to_be_visible()

    # A second customer, in English on a phone, queues behind her.
    john = customer_page(browser, site, locale="en-US", size="phone")
    write(john, "Do you ship abroad?", choice="Quero comprar")
    expect(chat(john, "status-position")).to_have_text("You are number 2 in the queue.")
    john.screenshot(path=SHOTS / "webchat-queued-phone-en.png")
    paula.screenshot(path=SHOTS / "webchat-queued-desktop-pt-BR.png")

    row.click()
    expect(agent.get_by_test_id("messages")).to_contain_text("Quero um café")
    agent.get_by_test_id("claim").click()
    expect(agent.get_by_test_id("conversation-status")).to_have_text("Assigned to you")
    expect(chat(paula, "status-answering")).to_have_text("Ana está atendendo.")
    # The queue moved: John is first now, told without asking.
    expect(chat(john, "status-position")).to_have_text("You are number 1 in the queue.")

    agent.get_by_test_id("reply-input").fill("Olá Paula! Temos sim.")
    agent.get_by_test_id("reply-send").click()
    reply = chat(paula, "messages").locator("[data-from=agent]")
    expect(reply).to_contain_text("Olá Paula! Temos sim.")
    expect(reply).to_contain_text("Ana")
    expect(reply).not_to_contain_text("Souza")
    # Text stays text: the customer's markup is shown, not rendered.
    expect(agent.get_by_test_id("messages")).to_contain_text("<b>especial</b>")
    expect(chat(paula, "messages")).to_contain_text("<b>especial</b>")
    paula.screenshot(path=SHOTS / "webchat-answered-desktop-pt-BR.png")
    agent.screenshot(path=SHOTS / "webchat-agent-desktop-en.png")

    # A reload brings the whole conversation back, as does a second tab.
    paula.reload()
    chat(paula, "launcher").click()
    expect(chat(paula, "messages").locator("[data-chat=message]")).to_have_count(2)
    second_tab = paula.context.new_page()
    second_tab.goto(site)
    chat(second_tab, "launcher").click()
    expect(chat(second_tab, "messages")).to_contain_text("Olá Paula! Temos sim.")
    second_tab.close()

    agent.get_by_test_id("close").click()  # at desktop size, closed at once
    expect(chat(paula, "status-conversation_closed")).to_have_text("Esta conversa foi encerrada.")
    rating = chat(paula, "rating")
    rating.get_by_role("button", name="5 de 5").click()
    rating.get_by_label("Um comentário (opcional)").fill("Rápido e simpático")
    paula.screenshot(path=SHOTS / "webchat-rating-desktop-pt-BR.png")
    chat(paula, "rate-send").click()
    expect(chat(paula, "rated")).to_have_text("Obrigado pela sua avaliação.")

    # Keyboard: Escape closes the window and gives the focus back to the launcher.
    paula.keyboard.press("Escape")
    expect(chat(paula, "panel")).to_be_hidden()
    expect(chat(paula, "launcher")).to_be_focused()


def test_closed_team_identified_customers_and_refusals(server, browser):
    port, _seeded = server
    site = f"http://localhost:{port}/demo/site/"

    maria = customer_page(browser, site + "?as=maria", locale="en-US", size="phone")
    chat(maria, "launcher").click()
    choice = chat(maria, "choices").get_by_label("Boletos e pagamentos")
    expect(choice.locator("..")).to_contain_text("closed now, opens")
    # Identified: no name or email asked.
    expect(maria.get_by_label("Your name (optional)")).to_have_count(0)
    write(maria, "My invoice is wrong", choice="Boletos e pagamentos")
    expect(chat(maria, "status-closed_team_at")).to_contain_text("We are closed now and open")
    maria.screenshot(path=SHOTS / "webchat-closed-team-phone-en.png")
    state = maria.evaluate("window.AtendeChat.state().session")
    assert state["identified"] is True and state["visitor"] is None

    # A bad hash is refused: the visitor stays anonymous (and is asked for a name).
    forged = customer_page(browser, site + "?as=maria&hash=bad&lang=pt-BR", size="phone")
    chat(forged, "launcher").click()
    expect(forged.get_by_label("Seu nome (opcional)")).to_be_visible()
    state = forged.evaluate("window.AtendeChat.state()")
    assert state["identityRefused"] is True and state["session"]["identified"] is False
    forged.screenshot(path=SHOTS / "webchat-start-phone-pt-BR.png")

    # The page of an origin the chat does not allow gets no chat at all.
    elsewhere = browser.new_context(locale="pt-BR").new_page()
    elsewhere.goto(f"http://127.0.0.1:{port}/demo/site/")
    elsewhere.wait_for_function("() => window.AtendeChat && window.AtendeChat.state().refused")
    refused = elsewhere.evaluate("window.AtendeChat.state().refused")
    assert refused["code"] == "origin_not_allowed"
    expect(elsewhere.locator("[data-chat=launcher]")).to_have_count(0)

    # English on a desktop, before writing.
    start = customer_page(browser, site + "?lang=en")
    chat(start, "launcher").click()
    expect(chat(start, "choices")).to_contain_text("What is it about?")
    start.screenshot(path=SHOTS / "webchat-start-desktop-en.png")
    # The site learns who the visitor is later, and says so from script.
    identity = {"externalId": "loja-cliente-joao", "name": "João",
                "hash": expected_hash(DEMO_SECRET, "loja-cliente-joao")}
    start.evaluate("(identity) => window.AtendeChat.identify(identity)", identity)
    start.wait_for_function("() => window.AtendeChat.state().session.identified")
    expect(start.get_by_label("Your name (optional)")).to_have_count(0)
