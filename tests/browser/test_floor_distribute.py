"""The floor's "Distribuir" asks first and says what will happen: how many go to whom now
and how many stay queued (nobody is taken past their limit, even in a manual team). Cancel
changes nothing; confirming does what it said. Desktop and phone, pt-BR and English, in
Debian's Chromium against a live embedded server."""

import json

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.browser.workday import (
    ARTIFACTS,
    CHROMIUM_ARGS,
    SIZES,
    log_in,
    new_page,
    require_chromium,
    serving,
    words,
)
from tests.inbox.servers import ROOT, free_port, manage, server_env

pytestmark = pytest.mark.browser

SHOTS = ROOT / "docs" / "screenshots"
CASES = [(size, lang) for size in SIZES for lang in ("pt-BR", "en")]

# One manual team per case: its one agent (limit 2) is online, 5 conversations wait.
SEED = """
import json
from django.utils import timezone
from apps.accounts.models import User
from apps.teams.models import Membership, Team
from tests.factories import queued_backlog
User.objects.create_user("chefe", password="secret-pass-1", name="Chefe", role="supervisor")
teams = {}
for n, case in enumerate(%(cases)r):
    agent = User.objects.create_user(f"agent{n}", password="secret-pass-1", name=f"Ana {n}",
                                     capacity=2, presence="online",
                                     last_heartbeat=timezone.now())
    team = Team.objects.create(name=f"Vendas {n}", distribution_mode="manual")
    Membership.objects.create(team=team, agent=agent)
    queued_backlog(team, 5)
    teams[case] = team.pk
print(json.dumps(teams))
"""


@pytest.fixture(scope="module")
def floor(tmp_path_factory):
    require_chromium()
    tmp = tmp_path_factory.mktemp("distribute")
    env = server_env(DATABASE_URL=None, REDIS_URL=None, SQLITE_PATH=tmp / "floor.sqlite3",
                     COUNTS_COALESCE_SECONDS="0.1")
    manage("migrate", "--noinput", env=env)
    cases = [f"{size}-{lang}" for size, lang in CASES]
    seeded = json.loads(
        manage("shell", env=env, input_text=SEED % {"cases": cases}).strip().splitlines()[-1]
    )
    with serving(env, free_port(), tmp / "uvicorn.log") as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield base, browser, seeded
        finally:
            browser.close()


@pytest.mark.parametrize(("size", "lang"), CASES)
def test_distribute_asks_first_and_never_buries_the_one_agent(floor, size, lang):
    base, browser, seeded = floor
    team = seeded[f"{size}-{lang}"]
    n = list(seeded).index(f"{size}-{lang}")
    page = new_page(browser, size, lang)
    log_in(page, base, "chefe")
    page.goto(f"{base}/supervisor/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    backlog = page.get_by_test_id(f"backlog-{team}")
    expect(backlog).to_have_text("5")
    button = page.get_by_test_id(f"distribute-{team}")
    button.scroll_into_view_if_needed()
    button.click()

    dialog = page.get_by_test_id("confirm-dialog")
    expect(dialog).to_be_visible()
    text = page.get_by_test_id("confirm-text")
    expect(text).to_contain_text(words(lang, f"Distribuir a fila de Vendas {n} agora?",
                                       f"Distribute the queue of Vendas {n} now?"))
    expect(text).to_contain_text(words(lang, f"Serão atribuídos agora: 2 (Ana {n}: 2).",
                                       f"To be assigned now: 2 (Ana {n}: 2)."))
    expect(text).to_contain_text(words(lang, "Continuarão na fila: 3", "To stay queued: 3"))
    expect(page.get_by_test_id("confirm-ok")).to_have_text(
        words(lang, "Distribuir", "Distribute"))
    box = dialog.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= SIZES[size]["width"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / f"floor-distribute-confirm-{size}-{lang}.png")

    # Cancel: nothing happens.
    page.get_by_test_id("confirm-cancel").click()
    expect(dialog).to_be_hidden()
    expect(backlog).to_have_text("5")

    # Confirm: two go to the agent (her limit), three stay, and the card says so.
    button.click()
    expect(dialog).to_be_visible()
    page.get_by_test_id("confirm-ok").click()
    expect(page.get_by_test_id(f"distributed-{team}")).to_have_text(
        words(lang, f"2 atribuídos (Ana {n}: 2); 3 ainda na fila",
              f"2 assigned (Ana {n}: 2); 3 still queued"))
    expect(backlog).to_have_text("3")
    expect(page.get_by_test_id(f"floor-load-{team}")).to_contain_text("2/2")  # live
    page.screenshot(path=SHOTS / f"floor-distribute-done-{size}-{lang}.png")

    # Again: nobody has room, so it does not even ask.
    button.click()
    expect(page.get_by_test_id(f"distributed-{team}")).to_have_text(
        words(lang, "Ninguém online tem espaço: 3 ainda na fila.",
              "Nobody online has room: 3 still queued."))
    expect(dialog).to_be_hidden()
    expect(backlog).to_have_text("3")
    page.context.close()
