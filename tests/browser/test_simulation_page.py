"""The simulation page in Chromium against a live embedded server (simulations run
eagerly there): a supervisor builds a scenario (arrivals, a team switched to capacity,
capacities raised, two extra agents in the afternoon), runs it, and reads the baseline and
the scenario side by side with the wait histogram and the queue depth; on a phone in
Portuguese the same, and the page fits the screen. An agent is refused the page. With
ATENDE_SCREENSHOTS=1 the pictures go to docs/screenshots."""

import json
import os

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.browser.test_inbox_live import CHROMIUM_ARGS, log_in
from tests.inbox.servers import ROOT, manage, server_env, uvicorn

pytestmark = pytest.mark.browser

SEED = """
import json
from apps.accounts.models import User
from apps.teams.models import Membership, Team
chefe = User.objects.create_user("chefe", password="secret-pass-1", name="Chefe",
                                 role="supervisor")
User.objects.create_user("ze", password="secret-pass-1", name="Zé", role="agent")
suporte = Team.objects.create(name="Suporte", distribution_mode="capacity")
balcao = Team.objects.create(name="Balcão", distribution_mode="manual")
agents = [User.objects.create_user(f"a{n}", password="secret-pass-1", name=f"Agente {n}",
                                   capacity=2) for n in range(4)]
for agent in agents[:3]:
    Membership.objects.create(team=suporte, agent=agent)
for agent in agents[2:]:
    Membership.objects.create(team=balcao, agent=agent)
print(json.dumps({"suporte": suporte.pk, "balcao": balcao.pk, "agent": agents[0].pk}))
"""
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def simulation_server(chromium, tmp_path):
    env = server_env(DATABASE_URL=None, REDIS_URL=None, SQLITE_PATH=tmp_path / "s.sqlite3")
    manage("migrate", "--noinput", env=env)
    seeded = json.loads(manage("shell", env=env, input_text=SEED).strip().splitlines()[-1])
    with uvicorn(env, log_path=tmp_path / "uvicorn.log") as address:
        yield f"http://{address}", seeded


def build_and_run(page, base, seeded):
    page.goto(f"{base}/supervisor/")
    page.get_by_test_id("nav-simulation").click()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.get_by_test_id(f"simulation-rate-{seeded['suporte']}").fill("40")
    page.get_by_test_id(f"simulation-patience-{seeded['suporte']}").fill("240")
    page.get_by_test_id(f"simulation-rate-{seeded['balcao']}").fill("10")
    page.get_by_test_id(f"simulation-mode-{seeded['balcao']}").select_option("capacity")
    page.get_by_test_id(f"simulation-capacity-{seeded['agent']}").fill("4")
    page.get_by_test_id("simulation-extra").fill("2")
    page.get_by_test_id("simulation-extra-team").select_option(str(seeded["suporte"]))
    page.get_by_test_id("simulation-extra-from").fill("4")
    ladder = page.get_by_test_id(f"simulation-ladder-{seeded['suporte']}")
    ladder.fill("[{")
    page.get_by_test_id("simulation-run").click()
    expect(page.get_by_test_id("simulation-error")).to_contain_text("JSON")
    ladder.fill(f'[{{"after_seconds": 90, "action": "overflow", "team": {seeded["balcao"]}}}]')
    page.get_by_test_id("simulation-run").click()
    results = page.get_by_test_id("simulation-results")
    expect(results).to_be_visible()
    overall = page.locator("[data-scope=overall][data-figure=conversations]")
    baseline = overall.locator("[data-side=baseline]").inner_text()
    assert baseline not in ("", "0", "–")
    expect(overall.locator("[data-side=scenario]")).to_have_text(baseline)  # same traffic
    expect(page.locator("[data-testid=simulation-charts] figure")).to_have_count(2)
    expect(page.locator("[data-testid=simulation-charts] svg rect")).to_have_count(16)
    rows = page.locator("[data-testid=simulation-agent-results] tbody tr")
    expect(rows).to_have_count(6)  # four agents and the two extra ones
    # The extra agents and the higher capacity shorten the waits.
    wait = page.locator("[data-scope=overall][data-figure=wait_mean]")
    assert wait.locator("[data-side=baseline]").inner_text() != (
        wait.locator("[data-side=scenario]").inner_text())


def shoot(page, size, lang):
    if os.environ.get("ATENDE_SCREENSHOTS"):
        page.wait_for_timeout(400)
        page.screenshot(path=ROOT / "docs" / "screenshots" / f"simulation-{size}-{lang}.png",
                        full_page=True)


def test_a_supervisor_builds_runs_and_reads_a_scenario(chromium, simulation_server):
    base, seeded = simulation_server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            for lang, size in (("en", "desktop"), ("pt-BR", "phone"), ("pt-BR", "desktop"),
                               ("en", "phone")):
                context = browser.new_context(locale=lang, viewport=SIZES[size])
                page = context.new_page()
                log_in(page, base, "chefe")
                build_and_run(page, base, seeded)
                if lang == "pt-BR":
                    expect(page.get_by_test_id("simulation-results")).to_contain_text(
                        "Configuração atual")
                if size == "phone":
                    width = page.evaluate("document.documentElement.scrollWidth")
                    assert width <= 390, "the page scrolls sideways on a phone"
                shoot(page, size, lang)
                context.close()
            agent = browser.new_context(locale="en")
            page = agent.new_page()
            log_in(page, base, "ze")
            answer = page.goto(f"{base}/simulation/")
            assert answer.status == 403
            expect(page.get_by_test_id("nav-simulation")).to_have_count(0)
        finally:
            browser.close()
