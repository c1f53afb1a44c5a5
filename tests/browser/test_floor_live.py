"""The supervisor's floor in a real browser (Debian's Chromium through Playwright) against a
live embedded server: a conversation arrives and the team's card counts it and starts
ticking its wait, Waiting counts its own, an agent claims it and the card moves it to
"being answered" with the last hour's figures, the queue-depth chart gets the minute the
server's own periodic loop recorded; on a phone the supervisor picks the team, reads the
conversation and reassigns it. Nothing is reloaded: every number changes live."""

import json
import re

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from tests.browser.test_inbox_live import ARTIFACTS, CHROMIUM_ARGS, log_in
from tests.inbox.servers import manage, server_env, uvicorn

pytestmark = pytest.mark.browser

SEED = """
import json
from apps.accounts.models import IntegrationClient, User
from apps.teams.models import Membership, Team
ana = User.objects.create_user("ana", password="secret-pass-1", name="Ana", capacity=4)
bia = User.objects.create_user("bia", password="secret-pass-1", name="Bia")
chefe = User.objects.create_user("chefe", password="secret-pass-1", name="Chefe", role="supervisor")
from django.utils import timezone
team = Team.objects.create(name="Vendas", answer_target_seconds=3600)
night = Team.objects.create(name="Noite", timezone="UTC")
night.closed_dates.create(date=timezone.now().date())  # closed today: opens at midnight
Membership.objects.create(team=team, agent=ana)
Membership.objects.create(team=team, agent=bia)
bot = IntegrationClient(name="Bot")
token = IntegrationClient.new_token()
bot.set_token(token)
bot.save()
print(json.dumps({"team": team.pk, "night": night.pk, "ana": ana.pk, "bia": bia.pk,
                  "token": token}))
"""


@pytest.fixture
def floor_server(chromium, tmp_path):
    env = server_env(
        DATABASE_URL=None, REDIS_URL=None, SQLITE_PATH=tmp_path / "floor.sqlite3",
        COUNTS_COALESCE_SECONDS="0.1", PRESENCE_GRACE_SECONDS="2",
        EMBEDDED_SWEEP="1", FLOOR_SNAPSHOT_SECONDS="1",  # the chart's minute, recorded soon
    )
    manage("migrate", "--noinput", env=env)
    seeded = json.loads(manage("shell", env=env, input_text=SEED).strip().splitlines()[-1])
    with uvicorn(env, log_path=tmp_path / "uvicorn.log") as address:
        yield f"http://{address}", seeded


def token_of(base, username):
    answer = httpx.post(f"{base}/api/v1/auth/token", timeout=10,
                        json={"username": username, "password": "secret-pass-1"})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Token {answer.json()['token']}"}


def test_the_floor_moves_live_as_conversations_arrive_and_are_taken(chromium, floor_server):
    base, seeded = floor_server
    team, bot = seeded["team"], {"Authorization": f"Token {seeded['token']}"}
    ana = token_of(base, "ana")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            desk = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
            phone = browser.new_context(locale="pt-BR", viewport={"width": 390, "height": 844})
            boss, pocket = desk.new_page(), phone.new_page()
            for page in (boss, pocket):
                log_in(page, base, "chefe")
                page.goto(f"{base}/supervisor/")
                expect(page.locator("body")).to_have_attribute("data-ready", "true")
            expect(boss.get_by_test_id(f"backlog-{team}")).to_have_text("0")
            for page in (boss, pocket):  # every card's name reads on a line, open or closed
                for name in page.locator(".team-card h3").all():
                    box = name.bounding_box()
                    assert box["height"] < 40 and box["width"] > 30, (name.inner_text(), box)
            expect(boss.get_by_test_id(f"floor-assigned-hour-{team}")).to_have_text("0")
            expect(boss.get_by_test_id(f"floor-median-{team}")).to_have_text("—")
            expect(boss.get_by_test_id(f"floor-agents-{team}")).to_contain_text("0 Online")
            expect(boss.get_by_test_id(f"floor-state-{team}")).to_have_text("Open")
            expect(boss.get_by_test_id(f"floor-state-{seeded['night']}")).to_have_text(
                re.compile(r"^Closed · opens .+"))

            # Ana comes online: the card counts her, with her room.
            assert httpx.put(f"{base}/api/v1/me/presence", headers=ana, timeout=10,
                             json={"status": "online"}).status_code == 200
            expect(boss.get_by_test_id(f"floor-agents-{team}")).to_contain_text("1 Online")
            expect(boss.get_by_test_id(f"floor-load-{team}")).to_contain_text("0/4")

            # A customer writes to Vendas, another with no team.
            arrived = httpx.post(f"{base}/api/v1/inbound", headers=bot, timeout=10, json={
                "contact": {"external_id": "wa-1", "name": "Paula"}, "body": "Quero comprar",
                "team": team})
            assert arrived.status_code == 201, arrived.text
            conversation = arrived.json()["id"]
            assert httpx.post(f"{base}/api/v1/inbound", headers=bot, timeout=10, json={
                "contact": {"external_id": "wa-2", "name": "Rui"}, "body": "Oi"},
            ).status_code == 201
            for page in (boss, pocket):
                expect(page.get_by_test_id(f"backlog-{team}")).to_have_text("1")
                expect(page.get_by_test_id("count-waiting")).to_have_text("1")
            oldest = boss.get_by_test_id(f"floor-oldest-{team}").locator("[data-since]")
            expect(oldest).to_have_text("2 s", timeout=10000)  # it ticks, every second
            expect(oldest).to_have_text("3 s")
            expect(boss.get_by_test_id("floor-waiting-oldest").locator("[data-since]")
                   ).to_have_text("3 s", timeout=10000)
            # The server's own loop records each minute: the chart has them, and now.
            chart = boss.get_by_test_id(f"floor-chart-{team}")
            expect(chart).to_have_attribute("data-points", re.compile(r"^([2-9]|\d\d+)$"),
                                            timeout=15000)
            boss.screenshot(path=ARTIFACTS / "floor-arrived.png", full_page=True)

            # Ana claims it: out of the queue, being answered, taken within the target.
            claimed = httpx.post(f"{base}/api/v1/conversations/{conversation}/claim",
                                 headers=ana, timeout=10)
            assert claimed.status_code == 200, claimed.text
            expect(boss.get_by_test_id(f"backlog-{team}")).to_have_text("0")
            expect(boss.get_by_test_id(f"floor-oldest-{team}")).not_to_contain_text(" s")
            expect(boss.get_by_test_id(f"floor-assigned-{team}")).to_have_text("1")
            expect(boss.get_by_test_id(f"floor-assigned-hour-{team}")).to_have_text("1")
            expect(boss.get_by_test_id(f"floor-median-{team}")).to_have_text(re.compile(r"^\d+ s$"))
            expect(boss.get_by_test_id(f"floor-target-{team}")).to_contain_text("100%")
            expect(boss.get_by_test_id(f"floor-load-{team}")).to_contain_text("1/4")
            boss.screenshot(path=ARTIFACTS / "floor-claimed.png", full_page=True)

            # On the phone: pick the team, read the conversation, give it to Bia.
            expect(pocket.get_by_test_id(f"floor-assigned-hour-{team}")).to_have_text("1")
            pocket.get_by_test_id(f"floor-open-{team}").click()
            expect(pocket.get_by_test_id("show-all-teams")).to_be_visible()
            rows = pocket.locator('[data-testid^="open-conversation-"]')
            expect(rows).to_have_count(1)  # Rui, in Waiting, is not Vendas'
            pocket.get_by_test_id(f"read-{conversation}").click()
            reader = pocket.get_by_test_id("reader")
            expect(reader).to_be_visible()
            expect(pocket.get_by_test_id("reader-messages")).to_contain_text("Quero comprar")
            expect(pocket.get_by_test_id("reader-status")).to_contain_text("Ana")
            box = reader.bounding_box()
            assert box["width"] <= 390 and box["height"] <= 844
            # Paula writes again while the supervisor reads: it shows up.
            assert httpx.post(f"{base}/api/v1/inbound", headers=bot, timeout=10, json={
                "contact": {"external_id": "wa-1"}, "body": "Tem desconto?",
            }).status_code in (200, 201)
            expect(pocket.get_by_test_id("reader-messages")).to_contain_text("Tem desconto?")
            pocket.get_by_test_id("reader-assign-agent").select_option(str(seeded["bia"]))
            pocket.get_by_test_id("reader-assign").click()
            pocket.get_by_test_id("confirm-ok").click()  # Bia is offline: asked first
            expect(pocket.get_by_test_id("reader-status")).to_contain_text("Bia")
            pocket.screenshot(path=ARTIFACTS / "floor-phone-reader.png")
            pocket.get_by_test_id("reader-close").click()
            expect(pocket.get_by_test_id(f"open-conversation-{conversation}")).to_contain_text(
                "Bia")
            # A hand-over between agents is not an answer from the queue: still one.
            expect(boss.get_by_test_id(f"floor-load-{team}")).to_contain_text("1/4")  # Bia holds it
            expect(boss.get_by_test_id(f"floor-assigned-hour-{team}")).to_have_text("0")
            pocket.get_by_test_id("show-all-teams").click()
            expect(rows).to_have_count(2)
        finally:
            browser.close()
