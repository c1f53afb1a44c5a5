"""What the floor told a supervisor that was not so (issue 18 item 8), in Chromium against a
live embedded server, at desktop and phone sizes in English and Portuguese:

- "within target" counts the customers still waiting past the target (it read 100% in
  green while most of the queue waited past it);
- the load counts the conversations members who went away or offline still hold (it read
  0/0 while two were being answered);
- the queue chart is readable: a plot of some height, a time axis, the reserved count it
  stores beside the queued one, with a legend;
- "assign to" lists the conversation's team members first, then the other people, and no
  administrator who is not a member;
- assigning to an agent who is offline and at their limit says both.

The screenshots of docs/ are made again with ATENDE_SCREENSHOTS=1 (otherwise they go to
test-artifacts/).
"""

import json
import os
import re

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.browser.test_inbox_live import CHROMIUM_ARGS, log_in
from tests.inbox.servers import ROOT, manage, server_env, uvicorn

pytestmark = pytest.mark.browser

SHOTS = ROOT / ("docs/screenshots" if os.environ.get("ATENDE_SCREENSHOTS") == "1"
                else "test-artifacts")

SEED = """
import json
from datetime import timedelta
from django.utils import timezone
from apps.accounts.models import Presence, User
from apps.conversations.models import Conversation
from apps.conversations.services import receive_inbound_message
from apps.floor.models import QueueSnapshot
from apps.routing import services as routing
from apps.teams.models import Membership, Team
ana = User.objects.create_user("ana", password="secret-pass-1", name="Ana", capacity=2)
bia = User.objects.create_user("bia", password="secret-pass-1", name="Bia", capacity=1)
zeca = User.objects.create_user("zeca", password="secret-pass-1", name="Zeca")
root = User.objects.create_user("root", password="secret-pass-1", name="Root Admin",
                                role="admin")
chefe = User.objects.create_user("chefe", password="secret-pass-1", name="Chefe",
                                 role="supervisor")
team = Team.objects.create(name="Vendas", answer_target_seconds=60)
Team.objects.create(name="Suporte")
for agent in (ana, bia):
    Membership.objects.create(team=team, agent=agent)
for agent in (ana, bia):
    routing.set_presence(agent=agent, status=Presence.ONLINE)
    taken = receive_inbound_message(external_id=f"taken-{agent.username}", body="Oi",
                                    team=team)[0]
    routing.claim_conversation(conversation_id=taken.pk, agent=agent)  # within the target
routing.set_presence(agent=ana, status=Presence.AWAY)
routing.set_presence(agent=bia, status=Presence.OFFLINE)  # and at her limit of 1
late = [receive_inbound_message(external_id=f"late-{n}", body="Alô?", team=team)[0].pk
        for n in range(3)]
now = timezone.now()
Conversation.objects.filter(pk__in=late).update(queued_at=now - timedelta(minutes=5))
minute = now.replace(second=0, microsecond=0)
for n in range(1, 60):
    QueueSnapshot.objects.create(team=team, taken_at=minute - timedelta(minutes=n),
                                 queued=min(n // 6, 6), reserved=2 if 10 <= n < 30 else 0)
print(json.dumps({"team": team.pk, "late": late, "ana": ana.pk, "bia": bia.pk,
                  "zeca": zeca.pk, "root": root.pk, "chefe": chefe.pk}))
"""

WORDS = {
    "en-US": {"members": "Members of Vendas", "others": "Other people",
              "offline": "Bia is offline", "full": "Bia already has 1 open conversations",
              "past": "Waiting past the target now: 3",
              "away_load": "away or offline: 2",
              "reserved": "Reserved: 0", "queued": "Queued: 3"},
    "pt-BR": {"members": "Membros de Vendas", "others": "Outras pessoas",
              "offline": "Bia está offline", "full": "Bia já tem 1 atendimentos abertos",
              "past": "Esperando além da meta agora: 3",
              "away_load": "ausentes ou offline: 2",
              "reserved": "Reservados: 0", "queued": "Na fila: 3"},
}


@pytest.fixture
def floor_server(chromium, tmp_path):
    env = server_env(DATABASE_URL=None, REDIS_URL=None, SQLITE_PATH=tmp_path / "floor.sqlite3",
                     COUNTS_COALESCE_SECONDS="0.1")
    manage("migrate", "--noinput", env=env)
    seeded = json.loads(manage("shell", env=env, input_text=SEED).strip().splitlines()[-1])
    with uvicorn(env, log_path=tmp_path / "uvicorn.log") as address:
        yield f"http://{address}", seeded


@pytest.mark.parametrize(("size", "locale"), [
    ("desktop", "en-US"), ("desktop", "pt-BR"), ("phone", "pt-BR"), ("phone", "en-US"),
])
def test_the_floor_tells_the_truth(chromium, floor_server, size, locale):
    base, seeded = floor_server
    team, words = seeded["team"], WORDS[locale]
    viewport = {"width": 1280, "height": 900} if size == "desktop" else {"width": 390,
                                                                        "height": 844}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(locale=locale, viewport=viewport,
                                       timezone_id="America/Sao_Paulo").new_page()
            log_in(page, base, "chefe")
            page.goto(f"{base}/supervisor/")
            expect(page.locator("body")).to_have_attribute("data-ready", "true")

            # Two taken within the minute, three waiting for five: 2 of 5 within, not 100%.
            target = page.get_by_test_id(f"floor-target-{team}")
            expect(target.locator(".pct")).to_have_text(re.compile(r"^40\s?%$"))
            expect(target).to_have_attribute("data-level", "poor")
            expect(page.get_by_test_id(f"floor-past-target-{team}")).to_have_text(words["past"])

            # Ana (away) and Bia (offline) still hold one each; nobody online has room.
            expect(page.get_by_test_id(f"floor-load-{team}")).to_contain_text("2/0")
            expect(page.get_by_test_id(f"floor-load-away-{team}")).to_have_text(
                words["away_load"])

            # The chart: a plot one can read, a time axis, queued and reserved.
            chart = page.get_by_test_id(f"floor-chart-{team}")
            # 59 snapshots and now (the oldest leaves the hour as the test goes on).
            expect(chart).to_have_attribute("data-points", re.compile(r"^(5[5-9]|60)$"))
            height = page.evaluate(f"""document.querySelector(
                '[data-testid="floor-chart-{team}"]').getBoundingClientRect().height""")
            assert height >= 70, height
            times = page.get_by_test_id(f"floor-chart-times-{team}").locator("span")
            expect(times).to_have_count(5)
            for label in times.all_inner_texts():
                assert re.fullmatch(r"\d{1,2}:\d{2}(\s?[AP]M)?", label), label
            expect(page.get_by_test_id(f"floor-chart-max-{team}")).to_have_text("6")
            reserved = page.get_by_test_id(f"floor-chart-reserved-{team}")
            assert len(reserved.get_attribute("points").split()) >= 55
            expect(page.get_by_test_id(f"floor-chart-legend-reserved-{team}")).to_have_text(
                words["reserved"])
            expect(page.get_by_test_id(f"floor-chart-box-{team}")).to_contain_text(
                words["queued"])
            card = page.get_by_test_id(f"team-row-{team}")
            card.scroll_into_view_if_needed()
            lang = "en" if locale == "en-US" else locale
            card.screenshot(path=_shot(f"floor-card-{size}-{lang}.png"))

            # "Assign to" for a Vendas conversation: its members, then others, no admin.
            late = seeded["late"][0]
            select = page.get_by_test_id(f"assign-agent-{late}")
            groups = select.locator("optgroup")
            expect(groups).to_have_count(2)
            expect(groups.nth(0)).to_have_attribute("label", words["members"])
            assert [int(v) for v in groups.nth(0).locator("option").evaluate_all(
                "nodes => nodes.map(n => n.value)")] == [seeded["ana"], seeded["bia"]]
            expect(groups.nth(1)).to_have_attribute("label", words["others"])
            others = [int(v) for v in groups.nth(1).locator("option").evaluate_all(
                "nodes => nodes.map(n => n.value)")]
            assert others == [seeded["chefe"], seeded["zeca"]]  # no Root Admin
            assert select.locator(f'option[value="{seeded["root"]}"]').count() == 0

            # Bia is offline and at her limit: the question says both.
            select.select_option(str(seeded["bia"]))
            page.get_by_test_id(f"assign-{late}").click()
            question = page.get_by_test_id("confirm-text")
            expect(question).to_contain_text(words["offline"])
            expect(question).to_contain_text(words["full"])
            page.get_by_test_id("confirm-dialog").screenshot(
                path=_shot(f"floor-assign-warning-{size}-{lang}.png"))
            page.get_by_test_id("confirm-cancel").click()
            if size == "phone":
                assert page.evaluate(
                    "document.documentElement.scrollWidth - window.innerWidth") <= 0
        finally:
            browser.close()


def _shot(name: str):
    SHOTS.mkdir(exist_ok=True)
    return SHOTS / name
