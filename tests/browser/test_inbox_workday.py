"""A working day in the inbox, in Debian's Chromium at desktop (1280x800) and phone (390x844)
sizes, in Brazilian Portuguese and English (issue 12): every waiting customer in view, panes
that scroll on their own, work that announces itself, a thread with its context, honest
actions, Portuguese throughout, and the small things people notice."""

import re

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.browser.workday import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    in_viewport,
    log_in,
    new_page,
    open_queue,
    serving,
    site_fixture,
    words,
)

pytestmark = pytest.mark.browser

DESKTOP_PT, PHONE_EN = ("desktop", "pt-BR"), ("phone", "en-US")
DESKTOP_EN, PHONE_PT = ("desktop", "en-US"), ("phone", "pt-BR")
EVERY_WAY = [DESKTOP_PT, PHONE_EN, DESKTOP_EN, PHONE_PT]
TWO_WAYS = [DESKTOP_PT, PHONE_EN]
OTHER_WAYS = [DESKTOP_EN, PHONE_PT]
QUEUE_LENGTH = 60


def way_id(way):
    return f"{way[0]}-{way[1]}"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    env, port, site = site_fixture(tmp_path_factory.mktemp("workday"))
    with serving(env, port, tmp_path_factory.getbasetemp() / "workday-uvicorn.log"):
        # Sixty customers in the long queue, the first one waiting longest.
        site.queue = [
            site.inbound(f"wa:fila{n:02d}", f"Cliente {n:02d} na fila", name=f"Cliente {n:02d}",
                         team="Fila longa")["id"]
            for n in range(1, QUEUE_LENGTH + 1)
        ]
        yield site


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page_for(browser, site):
    """page_for(username, way): a signed-in page; every context closes after the test."""
    pages = []

    def make(username, way):
        size, lang = way
        page = new_page(browser, size, lang)
        pages.append(page)
        log_in(page, site.base, username)
        return page

    yield make
    for page in pages:
        page.context.close()


def queued_in(site, team):
    answer = site.api("GET", "conversations/", params={
        "team": site.teams[team], "status": "queued", "ordering": "queue", "page_size": 200})
    return [c["id"] for c in answer.json()["results"]]


def page_does_not_scroll(page):
    return page.evaluate(
        "document.scrollingElement.scrollHeight <= window.innerHeight + 1"
    )


# --------------------------------------------------------------------------- 1. every customer


@pytest.mark.parametrize("way", TWO_WAYS, ids=way_id)
def test_a_long_queue_lists_oldest_first_and_is_reached_to_its_end_by_scrolling(
    site, page_for, way
):
    size, lang = way
    page = page_for("beto", way)
    team = site.teams["Fila longa"]
    waiting = queued_in(site, "Fila longa")
    assert len(waiting) >= QUEUE_LENGTH - 1
    expect(page.get_by_test_id(f"count-team-{team}")).to_have_text(str(len(waiting)))
    open_queue(page, size, f"queue-team-{team}")
    rows = page.get_by_test_id("conversation-list").locator("li.row")
    # Oldest first: the one who waited longest is on top, with how long, channel and star.
    expect(rows.first).to_have_attribute("data-testid", f"conversation-{waiting[0]}")
    expect(rows.first.get_by_test_id("waited")).to_have_text(re.compile(r"\d+ (s|min)"))
    expect(rows.first.get_by_test_id("channel")).to_have_text("WhatsApp")
    expect(rows).to_have_count(50)  # the first page
    newest = page.get_by_test_id(f"conversation-{waiting[-1]}")
    expect(newest).to_have_count(0)
    # Scrolling the list (not the page) to its end brings in the rest.
    page.get_by_test_id("conversation-list").evaluate("el => el.scrollTop = el.scrollHeight")
    expect(rows).to_have_count(len(waiting))
    newest.scroll_into_view_if_needed()
    assert in_viewport(page, newest)
    ids = [int(r.get_attribute("data-id")) for r in rows.all()]
    assert ids == waiting, "every waiting customer, oldest first"
    assert page_does_not_scroll(page)
    page.screenshot(path=ARTIFACTS / f"queue-end-{way_id(way)}.png")


# --------------------------------------------------------------------------- 2. panes scroll


@pytest.mark.parametrize("way", TWO_WAYS, ids=way_id)
def test_after_opening_the_30th_row_the_thread_head_and_reply_box_stay_in_view(
    site, page_for, way
):
    size, lang = way
    page = page_for("ana", way)
    team = site.teams["Fila longa"]
    open_queue(page, size, f"queue-team-{team}")
    rows = page.get_by_test_id("conversation-list").locator("li.row")
    expect(rows).to_have_count(50)
    thirtieth = rows.nth(29)
    chosen = int(thirtieth.get_attribute("data-id"))
    thirtieth.scroll_into_view_if_needed()
    thirtieth.click()
    title, claim = page.get_by_test_id("pane-title"), page.get_by_test_id("claim")
    expect(title).to_have_text(re.compile("Cliente"))
    expect(claim).to_be_visible()
    assert in_viewport(page, title) and in_viewport(page, claim)
    claim.click()
    reply = page.get_by_test_id("reply-input")
    expect(reply).to_be_visible()
    # The claimed conversation stays open, now under Mine, ready for a reply.
    expect(page.get_by_test_id("list-title")).to_have_text(words(lang, "Meus atendimentos",
                                                                 "Mine"))
    expect(page.get_by_test_id("conversation-status")).to_have_text(
        words(lang, "Atribuído a você", "Assigned to you"))
    for node in (title, reply, page.get_by_test_id("reply-send"),
                 page.get_by_test_id("close")):
        assert in_viewport(page, node), node
    assert page_does_not_scroll(page)
    page.screenshot(path=ARTIFACTS / f"row-30-claimed-{way_id(way)}.png")
    assert chosen not in queued_in(site, "Fila longa")


# ------------------------------------------------------------------ 3. work announces itself


@pytest.mark.parametrize("way", TWO_WAYS, ids=way_id)
def test_an_automatic_assignment_shows_a_toast_and_counts_in_the_tab_title(site, page_for, way):
    size, lang = way
    page = page_for("dani", way)
    expect(page.get_by_test_id("presence-status")).to_have_text("Online")
    base_title = page.title()
    # Alerts: sound off by default, notifications only asked from a button.
    if size == "phone":
        expect(page.get_by_test_id("sound-toggle")).to_be_visible()
    expect(page.get_by_test_id("sound-toggle")).to_have_attribute("aria-pressed", "false")
    expect(page.get_by_test_id("notify-permission")).to_be_visible()
    assert page.evaluate("Notification.permission") == "default"
    page.get_by_test_id("sound-toggle").click()
    expect(page.get_by_test_id("sound-toggle")).to_have_attribute("aria-pressed", "true")
    chimes = int(page.evaluate("document.body.dataset.chimed || 0"))  # the sample played

    name = f"Renata {way_id(way)}"
    conversation = site.inbound(f"wa:auto-{way_id(way)}", "Preciso de suporte", name=name,
                                team="Suporte")
    assert conversation["status"] == "assigned"
    toast = page.get_by_test_id("toast").filter(has_text=name)
    expect(toast).to_be_visible()
    expect(toast).to_contain_text(words(lang, "Novo atendimento para você", "New conversation"))
    expect(page).to_have_title(f"(1) {base_title}")
    assert int(page.evaluate("document.body.dataset.chimed")) == chimes + 1
    toast.click()
    expect(page.get_by_test_id("pane-title")).to_have_text(name)
    expect(page).to_have_title(base_title)  # seen
    page.screenshot(path=ARTIFACTS / f"auto-assigned-{way_id(way)}.png")
    site.api("POST", f"conversations/{conversation['id']}/close", username="dani")


# ------------------------------------------------------------------ 4. a thread with context


@pytest.mark.parametrize("way", EVERY_WAY, ids=way_id)
def test_enter_sends_and_a_transfer_leaves_a_system_line_and_no_atender(site, page_for, way):
    size, lang = way
    name = f"Tomás {way_id(way)}"
    conversation = site.inbound(f"wa:transfer-{way_id(way)}", "Quero falar do boleto",
                                name=name, team="Vendas")["id"]
    site.api("POST", f"conversations/{conversation}/claim", username="ana")
    page = page_for("ana", way)
    beto = page_for("beto", way)
    open_queue(page, size, "queue-mine")
    page.get_by_test_id(f"conversation-{conversation}").click()
    reply = page.get_by_test_id("reply-input")
    reply.fill("Primeira linha")
    reply.press("Shift+Enter")
    reply.press_sequentially("segunda linha")
    assert reply.input_value() == "Primeira linha\nsegunda linha"
    reply.press("Enter")
    messages = page.get_by_test_id("messages")
    mine = messages.locator(".message.agent").filter(has_text="segunda linha")
    expect(mine).to_be_visible()
    expect(mine.get_by_test_id("message-author")).to_have_text("Ana Souza")
    expect(reply).to_have_value("")
    # Links are links, text is text: nothing a customer writes runs as HTML.
    site.inbound(f"wa:transfer-{way_id(way)}",
                 '<img src=x onerror="window.__xss=1"> veja https://example.com/pedido?id=7.')
    link = messages.get_by_role("link", name="https://example.com/pedido?id=7")
    expect(link).to_have_attribute("href", "https://example.com/pedido?id=7")
    expect(link).to_have_attribute("target", "_blank")
    expect(messages.locator("img")).to_have_count(0)
    assert page.evaluate("window.__xss") is None

    # To Beto: both threads show the move as a history line, Beto is told it is his.
    page.get_by_test_id("transfer-target").select_option(f"agent:{site.people['beto']}")
    page.get_by_test_id("transfer").click()
    moved = words(lang, "Ana Souza transferiu o atendimento para Beto Lima.",
                  "Ana Souza transferred it to Beto Lima.")
    expect(messages.get_by_test_id("system-line").filter(has_text=moved)).to_be_visible()
    expect(page.get_by_test_id("reply-form")).to_be_hidden()
    toast = beto.get_by_test_id("toast").filter(has_text=name)
    expect(toast).to_be_visible()
    toast.click()
    theirs = beto.get_by_test_id("messages")
    expect(theirs.get_by_test_id("system-line").filter(has_text=moved)).to_be_visible()
    expect(theirs.locator(".message.agent").filter(has_text="segunda linha")
           .get_by_test_id("message-author")).to_have_text("Ana Souza")

    # Beto sends it to a team that is not his: no ATENDER, and the page says why.
    beto.get_by_test_id("transfer-target").select_option(f"team:{site.teams['Financeiro']}")
    beto.get_by_test_id("transfer").click()
    expect(beto.get_by_test_id("claim")).to_be_hidden()
    expect(beto.get_by_test_id("reply-form")).to_be_hidden()
    expect(beto.get_by_test_id("notice")).to_contain_text(
        words(lang, "não está mais com você", "no longer yours"))
    expect(beto.get_by_test_id("conversation-status")).to_have_text(
        words(lang, "Na fila de Financeiro", "In the Financeiro queue"))
    beto.screenshot(path=ARTIFACTS / f"transferred-{way_id(way)}.png")


@pytest.mark.parametrize("way", TWO_WAYS, ids=way_id)
def test_the_thread_has_dates_history_authors_and_the_contact_panel(site, page_for, way):
    size, lang = way
    page = page_for("ana", way)
    open_queue(page, size, "queue-mine")
    # Mine lists by last activity; the customer wrote last and Ana has not looked yet.
    rows = page.get_by_test_id("conversation-list").locator("li.row")
    expect(rows.first).to_have_attribute("data-id", re.compile(r"\d+"))
    row = page.get_by_test_id(f"conversation-{site.old}")
    expect(row.get_by_test_id("unread")).to_be_visible()
    row.click()
    messages = page.get_by_test_id("messages")
    expect(messages.get_by_test_id("day-separator")).to_have_count(2)  # two days apart
    expect(messages.get_by_test_id("system-line").first).to_contain_text(
        words(lang, "estrela para Beto Lima", "starred for Beto Lima"))
    expect(messages.get_by_test_id("system-line").filter(
        has_text=words(lang, "assumiu o atendimento da fila de Vendas",
                       "took it from the Vendas queue"))).to_be_visible()
    expect(messages.locator(".message.agent").get_by_test_id("message-author")).to_have_text(
        "Ana Souza")
    if size == "phone":
        page.get_by_test_id("contact-toggle").click()
    panel = page.get_by_test_id("contact-panel")
    expect(panel).to_be_visible()
    expect(panel.get_by_test_id("contact-organization")).to_have_text(
        "Globex › Globex Brasil › Compras")
    expect(panel.get_by_test_id("contact-email")).to_have_text("olga@globex.example")
    expect(panel.get_by_test_id("contact-preferred")).to_contain_text("★ Beto Lima")
    expect(panel.get_by_test_id("contact-channel")).to_have_text("WhatsApp")
    page.screenshot(path=ARTIFACTS / f"thread-context-{way_id(way)}.png")
    if size == "phone":
        page.get_by_test_id("contact-panel").get_by_role("button").first.click()
        page.get_by_test_id("conversation-pane").locator('[data-action="back-to-list"]').click()
    expect(row.get_by_test_id("unread")).to_have_count(0)  # seen


@pytest.mark.parametrize("way", [DESKTOP_EN], ids=way_id)
def test_older_messages_load_on_scroll_up(site, page_for, way):
    size, _lang = way
    page = page_for("ana", way)
    open_queue(page, size, "queue-mine")
    page.get_by_test_id(f"conversation-{site.long}").click()
    messages = page.get_by_test_id("messages")
    expect(messages.locator(".message").last).to_contain_text("m149")
    expect(messages.locator(".message")).to_have_count(100)
    expect(messages.locator(".message").filter(has_text="m000")).to_have_count(0)
    messages.evaluate("el => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')); }")
    expect(messages.locator(".message").filter(has_text="m000")).to_have_count(1)
    expect(messages.locator(".message")).to_have_count(150)
    expect(messages.get_by_test_id("older-messages")).to_have_count(0)


@pytest.mark.parametrize("way", OTHER_WAYS, ids=way_id)
def test_closed_conversations_are_found_again_by_name_or_external_id(site, page_for, way):
    size, lang = way
    name = f"Quitéria {way_id(way)}"
    external = f"wa:busca-{way_id(way)}"
    conversation = site.inbound(external, "Obrigada!", name=name, team="Vendas")["id"]
    site.api("POST", f"conversations/{conversation}/claim", username="beto")
    site.api("POST", f"conversations/{conversation}/close", username="beto")
    page = page_for("ana", way)
    if size == "phone":
        expect(page.get_by_test_id("search-input")).to_be_visible()
    for query in (name.split()[0], external):
        page.get_by_test_id("search-input").fill(query)
        page.get_by_test_id("search-input").press("Enter")
        row = page.get_by_test_id(f"conversation-{conversation}")
        expect(row).to_contain_text(words(lang, "Encerrado", "Closed"))
        if size == "phone":  # back to the queues, where the search box is
            page.get_by_test_id("list-title").locator("..").get_by_role("button").click()
    # The form works before (or without) the page's script: the search is in the address.
    page.goto(f"{site.base}/?q={external}")
    expect(page.get_by_test_id(f"conversation-{conversation}")).to_be_visible()


# --------------------------------------------------------------------------- 5. honest actions


@pytest.mark.parametrize("way", TWO_WAYS, ids=way_id)
def test_transfer_targets_show_presence_and_load_and_an_away_agent_asks_first(
    site, page_for, way
):
    size, lang = way
    name = f"Ulisses {way_id(way)}"
    conversation = site.inbound(f"wa:away-{way_id(way)}", "Oi", name=name, team="Vendas")["id"]
    site.api("POST", f"conversations/{conversation}/claim", username="ana")
    page = page_for("ana", way)
    open_queue(page, size, "queue-mine")
    page.get_by_test_id(f"conversation-{conversation}").click()
    target = page.get_by_test_id("transfer-target")
    target.focus()  # refreshes presence and load
    eva = target.locator(f'option[value="agent:{site.people["eva"]}"]')
    expect(eva).to_have_text(re.compile(words(lang, r"Eva Prado — Ausente · \d+/5",
                                              r"Eva Prado — Away · \d+/5")))
    expect(target).to_have_value("")  # nothing chosen by default
    expect(page.get_by_test_id("transfer")).to_be_disabled()
    target.select_option(f"agent:{site.people['eva']}")
    page.get_by_test_id("transfer").click()
    dialog = page.get_by_test_id("confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(words(lang, "Eva Prado está ausente", "Eva Prado is away"))
    page.get_by_test_id("confirm-cancel").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("conversation-status")).to_have_text(
        words(lang, "Atribuído a você", "Assigned to you"))
    page.get_by_test_id("transfer").click()
    page.get_by_test_id("confirm-ok").click()
    expect(page.get_by_test_id("conversation-status")).to_have_text(
        words(lang, "Atendido por Eva Prado", "Taken by Eva Prado"))


@pytest.mark.parametrize("way", TWO_WAYS, ids=way_id)
def test_the_supervisors_assign_list_starts_empty_and_warns_before_an_away_agent(
    site, page_for, way
):
    size, lang = way
    name = f"Vitória {way_id(way)}"
    conversation = site.inbound(f"wa:sup-{way_id(way)}", "Olá", name=name)["id"]  # Waiting
    page = page_for("chefe", way)
    page.goto(f"{site.base}/supervisor/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    row = page.get_by_test_id(f"open-conversation-{conversation}")
    select = page.get_by_test_id(f"assign-agent-{conversation}")
    row.scroll_into_view_if_needed()
    expect(select).to_have_value("")
    expect(page.get_by_test_id(f"assign-{conversation}")).to_be_disabled()
    select.select_option(str(site.people["eva"]))
    # A half-made choice survives live events (a new conversation arrives meanwhile).
    other = site.inbound(f"wa:sup2-{way_id(way)}", "Oi", name=f"Xênia {way_id(way)}")["id"]
    expect(page.get_by_test_id(f"open-conversation-{other}")).to_have_count(1)
    expect(select).to_have_value(str(site.people["eva"]))
    page.get_by_test_id(f"assign-{conversation}").click()
    dialog = page.get_by_test_id("confirm-dialog")
    expect(dialog).to_contain_text(words(lang, "Eva Prado está ausente", "Eva Prado is away"))
    page.get_by_test_id("confirm-cancel").click()
    expect(row).to_contain_text(words(lang, "Aguardando", "Waiting"))
    # Teams and people created after the page loaded show up.
    team = site.api("POST", "teams/", json={"name": f"Nova {way_id(way)}", "members": []})
    assert team.status_code == 201, team.text
    answer = site.api("POST", "inbound", json={
        "contact": {"external_id": f"wa:nova-{way_id(way)}"}, "body": "Oi",
        "team": team.json()["id"]})
    assert answer.status_code == 201, answer.text
    expect(page.get_by_test_id(f"team-row-{team.json()['id']}")).to_be_visible()
    expect(page.get_by_test_id(f"backlog-{team.json()['id']}")).to_have_text("1")
    username = f"novata{way[0]}{way[1][:2]}".lower()
    person = site.api("POST", "agents/", json={
        "username": username, "name": f"Novata {way_id(way)}", "password": "secret-pass-1"})
    assert person.status_code == 201, person.text
    newcomer = page_for(username, way)  # she signs in: online, and on the floor at once
    expect(newcomer.get_by_test_id("presence-status")).to_have_text("Online")
    presence = page.get_by_test_id(f"agent-presence-{person.json()['id']}")
    expect(presence).to_have_text("Online")
    expect(select.locator(f'option[value="{person.json()["id"]}"]')).to_have_count(1)
    page.screenshot(path=ARTIFACTS / f"supervisor-{way_id(way)}.png", full_page=True)


@pytest.mark.parametrize("way", [PHONE_PT], ids=way_id)
def test_closing_on_a_phone_asks_first(site, page_for, way):
    size, lang = way
    name = f"Zeca {way_id(way)}"
    conversation = site.inbound(f"wa:close-{way_id(way)}", "Tchau", name=name, team="Vendas")
    site.api("POST", f"conversations/{conversation['id']}/claim", username="beto")
    page = page_for("beto", way)
    open_queue(page, size, "queue-mine")
    page.get_by_test_id(f"conversation-{conversation['id']}").click()
    close = page.get_by_test_id("close")
    reply_box = page.get_by_test_id("reply-form").bounding_box()
    assert close.bounding_box()["y"] > reply_box["y"]  # under the reply box
    close.click()
    dialog = page.get_by_test_id("confirm-dialog")
    expect(dialog).to_contain_text(f"Encerrar o atendimento de {name}?")
    page.get_by_test_id("confirm-cancel").click()
    expect(page.get_by_test_id("conversation-status")).to_have_text("Atribuído a você")
    close.click()
    page.get_by_test_id("confirm-ok").click()
    expect(page.get_by_test_id("conversation-status")).to_have_text("Encerrado")


# --------------------------------------------------------------------------- 7 and 8. words, pages


@pytest.mark.parametrize("way", [DESKTOP_PT, PHONE_PT], ids=way_id)
def test_the_pages_are_portuguese_and_the_language_switch_is_remembered(site, page_for, way):
    size, _lang = way
    page = page_for("root", way)
    for path in ("/", "/supervisor/"):
        page.goto(site.base + path)
        expect(page.locator("body")).to_have_attribute("data-ready", "true")
        text = page.locator("body").inner_text()
        for english in ("Waiting", "Sign out", "Search", "Mine", "Assign", "Team backlogs"):
            assert not re.search(rf"\b{english}\b", text), (path, english)
    expect(page.get_by_test_id("nav-admin")).to_have_text("Administração")
    expect(page.get_by_test_id("nav-api-docs")).to_have_attribute("href", "/api/docs/")
    page.get_by_test_id("language").select_option("en")
    expect(page.get_by_test_id("logout")).to_have_text("Sign out")
    page.goto(site.base + "/")
    expect(page.get_by_test_id("queue-mine")).to_contain_text("Mine")
    page.get_by_test_id("language").select_option("pt-br")
    expect(page.get_by_test_id("logout")).to_have_text("Sair")


@pytest.mark.parametrize("way", [DESKTOP_EN, PHONE_PT], ids=way_id)
def test_403_and_404_are_pages_in_the_inbox_look(site, page_for, way):
    _size, lang = way
    page = page_for("ana", way)
    missing = page.goto(f"{site.base}/no-such-page/")
    assert missing.status == 404
    expect(page.get_by_test_id("error-404")).to_contain_text(
        words(lang, "Esta página não existe", "This page does not exist"))
    expect(page.get_by_test_id("nav-inbox")).to_be_visible()
    denied = page.goto(f"{site.base}/supervisor/")
    assert denied.status == 403
    expect(page.get_by_test_id("error-403")).to_contain_text(
        words(lang, "não é para o seu papel", "not for your role"))
    expect(page.get_by_test_id("nav-admin")).to_have_count(0)  # agents: no Admin link


@pytest.mark.parametrize("way", [DESKTOP_PT], ids=way_id)
def test_moving_an_organization_with_a_subtree_asks_first(site, page_for, way):
    """django-mptt's drag posts the move at once; Atende's script asks first when the node
    has nodes under it (the drop is what sends the move: here the move is sent as the drop
    sends it)."""
    page = page_for("root", way)
    page.goto(f"{site.base}/admin/organizations/organization/")
    expect(page.locator(".rule-mark")).to_contain_text("★ Beto Lima (Fila de chat (estrela))")
    asked = []

    def answer(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", answer)
    orgs = site.organizations
    with page.expect_navigation():  # refused: the page reloads as it was
        page.evaluate("""([cut, pasted]) => { django.jQuery.ajax({
            method: "POST", complete: () => window.location.reload(),
            data: {cmd: "move_node", position: "last-child", cut_item: cut, pasted_on: pasted},
        }); }""", [orgs["Globex Brasil"], orgs["Globex"]])
    assert asked == ["Mover “Globex Brasil” junto com 1 organização da sua subárvore?"]
    tree = site.api("GET", f"organizations/{orgs['Globex Brasil']}/").json()
    assert tree["parent"] == orgs["Globex"]  # unchanged
