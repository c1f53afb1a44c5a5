"""The Reports page in Chromium against a live embedded server with a seeded history: a
supervisor picks a period, a grouping and a team and reads the table, the three charts and
the agents, and the CSV link asks the same question; an agent reads only their own figures;
on a phone in Portuguese the page fits the screen. Nothing is mocked."""

import json
from datetime import date, timedelta

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from tests.browser.test_inbox_live import CHROMIUM_ARGS, log_in
from tests.inbox.servers import manage, server_env, uvicorn

pytestmark = pytest.mark.browser

SEED = """
import json
from apps.accounts.models import User
from apps.teams.models import Membership, Team
chefe = User.objects.create_user("chefe", password="secret-pass-1", name="Chefe",
                                 role="supervisor")
first = User.objects.filter(username__startswith="historico-").order_by("id").first()
first.set_password("secret-pass-1")
first.save()
teams = list(Team.objects.filter(name__startswith="Histórico").order_by("id")
             .values_list("id", flat=True))
print(json.dumps({"teams": teams, "agent": first.username, "agent_id": first.pk}))
"""


@pytest.fixture
def reports_server(chromium, tmp_path):
    env = server_env(DATABASE_URL=None, REDIS_URL=None, SQLITE_PATH=tmp_path / "r.sqlite3")
    manage("migrate", "--noinput", env=env)
    manage("seed_history", "--conversations=1500", "--days=10", "--teams=3", "--agents=6",
           env=env)
    seeded = json.loads(manage("shell", env=env, input_text=SEED).strip().splitlines()[-1])
    with uvicorn(env, log_path=tmp_path / "uvicorn.log") as address:
        yield f"http://{address}", seeded


def test_a_supervisor_reads_the_figures_and_an_agent_their_own(chromium, reports_server):
    base, seeded = reports_server
    today = date.today()
    start = (today - timedelta(days=6)).isoformat()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            desk = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
            page = desk.new_page()
            log_in(page, base, "chefe")
            page.goto(f"{base}/supervisor/")
            page.get_by_test_id("nav-reports").click()
            expect(page.locator("body")).to_have_attribute("data-ready", "true")
            page.get_by_test_id("report-from").fill(start)
            page.get_by_test_id("report-to").fill(today.isoformat())
            page.get_by_test_id(f"report-team-{seeded['teams'][0]}").check()
            page.get_by_test_id("report-show").click()
            rows = page.locator("[data-testid=report-table] tbody tr")
            expect(rows).to_have_count(8)  # seven days and the total
            total = page.locator("[data-testid=report-table] tr.total")
            expect(total.locator("[data-figure=conversations]")).not_to_have_text("0")
            expect(page.locator("[data-testid=report-charts] figure")).to_have_count(3)
            expect(page.locator("[data-testid=report-charts] svg .bar")).to_have_count(7)
            expect(page.locator("[data-testid=report-agents] tbody tr")).to_have_count(2)
            href = page.get_by_test_id("report-csv").get_attribute("href")
            assert f"team={seeded['teams'][0]}" in href and "format=csv" in href
            csv = httpx.get(base + href, cookies={c["name"]: c["value"] for c in desk.cookies()})
            assert csv.status_code == 200 and csv.text.startswith("team,team_name,period,")
            page.get_by_test_id("report-group").select_option("hour")
            page.get_by_test_id("report-from").fill(today.isoformat())
            page.get_by_test_id("report-show").click()
            expect(rows).to_have_count(25)  # the day's hours and the total
            page.get_by_test_id("report-from").fill("2020-01-01")
            page.get_by_test_id("report-show").click()
            expect(page.get_by_test_id("report-error")).to_contain_text("31")

            phone = browser.new_context(locale="pt-BR", viewport={"width": 390, "height": 844})
            pocket = phone.new_page()
            log_in(pocket, base, seeded["agent"])
            pocket.goto(f"{base}/reports/")
            expect(pocket.locator("body")).to_have_attribute("data-ready", "true")
            expect(pocket.get_by_test_id("report-table")).to_have_count(0)
            agent_rows = pocket.locator("[data-testid=report-agents] tbody tr")
            expect(agent_rows).to_have_count(8)  # the last seven days and the total
            assert {row.get_attribute("data-agent") for row in agent_rows.all()} == {
                str(seeded["agent_id"])}
            width = pocket.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, "the page scrolls sideways on a phone"
        finally:
            browser.close()
