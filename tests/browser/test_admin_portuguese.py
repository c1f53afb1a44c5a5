"""The admin as a Brazilian administrator reads it (issue 18 item 10), in Chromium against a
live embedded server seeded with the demo: team memberships, permissions, webhook
deliveries and their errors in Portuguese, every label starting with a capital letter, and
the integrations and deliveries lists within a 1,366-pixel screen; on a phone the pages do
not scroll sideways. English stays English.

The screenshots of docs/ are made again with ATENDE_SCREENSHOTS=1 (otherwise they go to
test-artifacts/).
"""

import os
import re

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.browser.test_inbox_live import CHROMIUM_ARGS
from tests.inbox.servers import ROOT, manage, server_env, uvicorn

pytestmark = pytest.mark.browser

SHOTS = ROOT / ("docs/screenshots" if os.environ.get("ATENDE_SCREENSHOTS") == "1"
                else "test-artifacts")
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}

# The demo connector's webhook switched on and pointed where nothing listens: its
# deliveries fail, as a newcomer's would have.
FAILING_WEBHOOK = """
import json, socket
from apps.accounts.models import IntegrationClient
from apps.conversations.models import Conversation, Status
from apps.conversations.services import post_reply
from apps.teams.models import Team
from apps.webhooks import delivery
with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
bot = IntegrationClient.objects.get(name="Demo WhatsApp connector")
IntegrationClient.objects.filter(pk=bot.pk).update(
    active=True, webhook_url=f"http://127.0.0.1:{port}/atende/a-long-path/for-the-receiver")
conversation = Conversation.objects.filter(integration=bot, status=Status.ASSIGNED).first()
post_reply(conversation_id=conversation.pk, author=conversation.assignee, body="Oi!")
delivery.run_deliveries(integration_id=bot.pk)
print(json.dumps({"finance": Team.objects.get(name="Financeiro").pk,
                  "delivery": bot.deliveries.get().pk, "bot": bot.pk}))
"""


@pytest.fixture
def admin_server(chromium, tmp_path):
    env = server_env(DATABASE_URL=None, REDIS_URL=None, SQLITE_PATH=tmp_path / "admin.sqlite3")
    manage("migrate", "--noinput", env=env)
    manage("seed_demo", env=env)
    import json

    seeded = json.loads(manage("shell", env=env, input_text=FAILING_WEBHOOK).splitlines()[-1])
    with uvicorn(env, log_path=tmp_path / "uvicorn.log") as address:
        yield f"http://{address}", seeded


def sign_in(page, base):
    page.goto(f"{base}/admin/login/")
    page.locator("#id_username").fill("admin")
    page.locator("#id_password").fill("atende123")
    page.locator("input[type=submit]").click()
    expect(page.locator("#user-tools")).to_be_visible()


def lower_case_labels(page) -> list[str]:
    """Labels, column titles and choosers' titles that a person reads starting with a
    lower-case letter (a label capitalised by its style reads capitalised)."""
    return page.evaluate(r"""() => Array.from(document.querySelectorAll(
            '#content label, #content thead th, #content fieldset h2'))
        .filter(el => el.offsetParent !== null || el.closest('.collapse'))
        .filter(el => getComputedStyle(el, '::first-letter').textTransform !== 'uppercase'
                      && getComputedStyle(el).textTransform !== 'uppercase')
        .map(el => el.textContent.trim())
        .filter(text => /^[a-zà-ú]/.test(text))""")


def list_overflow(page) -> int:
    """How many pixels the changelist's table is wider than the room it has."""
    return page.evaluate("""() => {
        const table = document.querySelector('#result_list');
        const room = document.querySelector('#changelist .results');
        return Math.ceil(table.getBoundingClientRect().width - room.clientWidth);
    }""")


def page_overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def shot(page, name):
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / name, full_page=False)


def test_the_admin_reads_in_portuguese_and_fits_the_screen(chromium, admin_server):
    base, seeded = admin_server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
                page = browser.new_context(locale="pt-BR", viewport=viewport).new_page()
                sign_in(page, base)

                # A team's members read as a sentence in Portuguese.
                page.goto(f"{base}/admin/teams/team/{seeded['finance']}/change/")
                members = page.locator("#memberships-group")
                expect(members).to_contain_text("Diego Rocha em Financeiro")
                expect(members).not_to_contain_text(" in Financeiro")
                assert lower_case_labels(page) == []
                assert page_overflow(page) <= 0
                if size == "desktop":
                    members.scroll_into_view_if_needed()
                    shot(page, "admin-team-desktop-pt-BR.png")

                # Permissions are named in Portuguese, under capitalised titles.
                page.goto(f"{base}/admin/auth/group/add/")
                options = page.locator("#id_permissions_from option")
                expect(options.first).to_be_attached()
                texts = options.all_inner_texts()
                assert not [t for t in texts if "Can " in t], texts[:5]
                assert "Equipes e roteamento | Participação | Pode adicionar participação" \
                    in texts, [t for t in texts if "articipa" in t]
                expect(page.locator(".selector-available-title label")).to_have_text(
                    "permissões disponíveis")  # Django's, capitalised where it stands alone
                assert lower_case_labels(page) == []
                if size == "desktop":
                    page.locator("#id_permissions_from").scroll_into_view_if_needed()
                    shot(page, "admin-permissions-desktop-pt-BR.png")

                # A rule's and the routing settings' forms: labels start in capitals.
                for path in ("organizations/preferentialrule/add/", "teams/routingsettings/",
                             "accounts/integrationclient/add/", "accounts/user/add/"):
                    page.goto(f"{base}/admin/{path}")
                    assert lower_case_labels(page) == [], path

                # The integrations list fits a 1,366-pixel screen beside its filters.
                page.goto(f"{base}/admin/accounts/integrationclient/")
                row = page.locator("#result_list tbody tr").first
                expect(row).to_contain_text("Demo WhatsApp connector")
                expect(row).to_contain_text("falhando desde")
                assert lower_case_labels(page) == []
                assert page_overflow(page) <= 0
                if size == "desktop":
                    assert list_overflow(page) <= 0
                shot(page, f"admin-integrations-{size}-pt-BR.png")

                # Deliveries: titles, states and errors in Portuguese; the list fits too.
                page.goto(f"{base}/admin/webhooks/delivery/")
                row = page.locator("#result_list tbody tr").first
                expect(row).to_contain_text("Um agente respondeu")
                expect(row).to_contain_text("Falhando")
                expect(row).to_contain_text("não foi possível conectar a 127.0.0.1")
                assert page_overflow(page) <= 0
                if size == "desktop":
                    assert list_overflow(page) <= 0
                page.goto(f"{base}/admin/webhooks/delivery/{seeded['delivery']}/change/")
                title = page.locator("#content h2").first
                expect(title).to_have_text(re.compile(
                    r"^Um agente respondeu, entrega [0-9a-f]{8} \(Falhando\)$"))
                expect(page.locator("#content")).to_contain_text(
                    "não foi possível conectar a 127.0.0.1: conexão recusada")
                expect(page.locator("#content")).not_to_contain_text("(pending)")
                assert lower_case_labels(page) == []
                assert page_overflow(page) <= 0
                shot(page, f"admin-delivery-{size}-pt-BR.png")
                page.context.close()

            # English stays English.
            page = browser.new_context(locale="en-US", viewport=DESKTOP).new_page()
            sign_in(page, base)
            page.goto(f"{base}/admin/teams/team/{seeded['finance']}/change/")
            expect(page.locator("#memberships-group")).to_contain_text(
                "Diego Rocha in Financeiro")
            page.goto(f"{base}/admin/auth/group/add/")
            texts = page.locator("#id_permissions_from option").all_inner_texts()
            assert "Teams and routing | Membership | Can add membership" in texts, [
                t for t in texts if "embership" in t]
            page.goto(f"{base}/admin/webhooks/delivery/{seeded['delivery']}/change/")
            expect(page.locator("#content")).to_contain_text(
                "cannot connect to 127.0.0.1: connection refused")
            page.goto(f"{base}/admin/accounts/integrationclient/")
            assert list_overflow(page) <= 0
            shot(page, "admin-integrations-desktop-en.png")
        finally:
            browser.close()
