"""Two agents in two real browsers (Debian's Chromium through Playwright) against a live
uvicorn server: a conversation arrives, both see the counts move without reloading, one
clicks ATENDER, the other sees it leave the queue and who took it.

The server runs in embedded mode on its own file-based SQLite database (the page's
liveness is what is under test here; tests/inbox/test_multiprocess.py covers Redis and
PostgreSQL across processes). Screenshots go to test-artifacts/.
"""

import json

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from tests.browser.workday import CHROMIUM_ARGS, log_in
from tests.inbox.servers import ROOT, manage, server_env, uvicorn

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts"

SEED = """
import json
from apps.accounts.models import IntegrationClient, User
from apps.teams.models import Membership, Team
from apps.routing.services import set_presence
from django.contrib.auth.models import AnonymousUser
ana = User.objects.create_user("ana", password="secret-pass-1", name="Ana")
beto = User.objects.create_user("beto", password="secret-pass-1", name="Beto")
chefe = User.objects.create_user("chefe", password="secret-pass-1", name="Chefe", role="supervisor")
team = Team.objects.create(name="Vendas")
Membership.objects.create(team=team, agent=ana)
Membership.objects.create(team=team, agent=beto)
bot = IntegrationClient(name="Bot")
token = IntegrationClient.new_token()
bot.set_token(token)
bot.save()
print(json.dumps({"team": team.pk, "ana": ana.pk, "beto": beto.pk, "token": token}))
"""


@pytest.fixture
def server(chromium, tmp_path):
    env = server_env(
        DATABASE_URL=None, REDIS_URL=None, SQLITE_PATH=tmp_path / "browser.sqlite3",
        COUNTS_COALESCE_SECONDS="0.1", PRESENCE_GRACE_SECONDS="2",
    )
    manage("migrate", "--noinput", env=env)
    seeded = json.loads(manage("shell", env=env, input_text=SEED).strip().splitlines()[-1])
    with uvicorn(env, log_path=tmp_path / "uvicorn.log") as address:
        yield f"http://{address}", seeded



def test_two_agents_see_a_conversation_arrive_and_leave(chromium, server):
    base, seeded = server
    team = seeded["team"]
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            ana_ctx = browser.new_context(locale="pt-BR", viewport={"width": 1280, "height": 800})
            beto_ctx = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
            chefe_ctx = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
            ana, beto, chefe = ana_ctx.new_page(), beto_ctx.new_page(), chefe_ctx.new_page()
            log_in(ana, base, "ana")
            log_in(beto, base, "beto")
            log_in(chefe, base, "chefe")
            chefe.goto(f"{base}/supervisor/")
            expect(ana.get_by_test_id("queue-mine")).to_contain_text("Meus atendimentos")
            for page in (ana, beto):
                expect(page.get_by_test_id(f"count-team-{team}")).to_have_text("0")
                # Live: connecting made them online (the page was rendered offline); the
                # label reads the same in Portuguese and English.
                expect(page.get_by_test_id("presence-status")).to_have_text("Online")
            # Beto is on a phone: pick the team queue before anything arrives.
            beto.get_by_test_id(f"queue-team-{team}").click()
            ana.get_by_test_id(f"queue-team-{team}").click()

            response = httpx.post(
                f"{base}/api/v1/inbound",
                json={"contact": {"external_id": "wa-5511", "name": "Paula"},
                      "body": "Quero comprar", "team": team, "channel": "whatsapp"},
                headers={"Authorization": f"Token {seeded['token']}"},
            )
            assert response.status_code == 201, response.text
            conversation = response.json()["id"]
            row = f"conversation-{conversation}"

            for page in (ana, beto):
                expect(page.get_by_test_id(f"count-team-{team}")).to_have_text("1")
                expect(page.get_by_test_id(row)).to_contain_text("Paula")
            expect(chefe.get_by_test_id(f"backlog-{team}")).to_have_text("1")
            ana.screenshot(path=ARTIFACTS / "inbox-ana-arrived.png")
            beto.screenshot(path=ARTIFACTS / "inbox-beto-arrived.png")

            beto.get_by_test_id(row).click()
            expect(beto.get_by_test_id("claim")).to_be_visible()
            ana.get_by_test_id(row).click()
            expect(ana.get_by_test_id("messages")).to_contain_text("Quero comprar")
            ana.get_by_test_id("claim").click()
            expect(ana.get_by_test_id("conversation-status")).to_contain_text("Atribuído a você")

            # Beto sees it leave his queue, and who took it.
            expect(beto.get_by_test_id("conversation-status")).to_have_text("Taken by Ana")
            expect(beto.get_by_test_id("claim")).to_be_hidden()
            expect(beto.get_by_test_id("toasts")).to_contain_text("Ana")
            expect(beto.get_by_test_id(f"count-team-{team}")).to_have_text("0")
            beto.get_by_test_id("conversation-pane").get_by_role("button", name="Back").click()
            expect(beto.get_by_test_id(row)).to_have_count(0)
            beto.screenshot(path=ARTIFACTS / "inbox-beto-taken.png")
            expect(ana.get_by_test_id("count-mine")).to_have_text("1")
            expect(chefe.get_by_test_id(f"backlog-{team}")).to_have_text("0")
            expect(chefe.get_by_test_id(f"agent-load-{seeded['ana']}")).to_have_text("1/5")

            # Ana replies; the message shows up in her pane.
            ana.get_by_test_id("reply-input").fill("Olá Paula! Como posso ajudar?")
            ana.get_by_test_id("reply-send").click()
            expect(ana.get_by_test_id("messages")).to_contain_text("Como posso ajudar?")

            # Ana goes away; the supervisor sees it.
            ana.get_by_test_id("presence-toggle").click()
            expect(ana.get_by_test_id("presence-status")).to_have_text("Ausente")
            expect(chefe.get_by_test_id(f"agent-presence-{seeded['ana']}")).to_have_text("Away")
            ana.screenshot(path=ARTIFACTS / "inbox-ana-claimed.png")
            chefe.screenshot(path=ARTIFACTS / "supervisor.png")
        finally:
            browser.close()
