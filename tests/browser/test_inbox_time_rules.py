"""The time rules in the inbox (issue 11, point 3; routing.md 8) and what the inbox does when
the server closes its socket (api.md, "Limits and refusals"), in Debian's Chromium at desktop
(1280x800) and phone (390x844) sizes, in English and Brazilian Portuguese:

- a reservation for a busy preferred agent shows its remaining wait, ticking, in the row and
  the thread's head, and goes when the server releases it;
- an automatic assignment shows its reply due time to its assignee only, turning to a warning
  under 30 s, and goes when they reply;
- a closed team's queue says so and when it opens, in the browser's zone;
- deactivation (4403) and signing out elsewhere (4401) take the page to the sign-in page;
  too many sockets (4429) waits, says so, and tries again.

One embedded server for the module, with the periodic sweep every second (it releases the
reservations that run out) and at most two sockets a person. With ATENDE_SCREENSHOTS=1 the
last test makes docs/screenshots/inbox-time-rules-*.png again:

    ATENDE_SCREENSHOTS=1 pytest -p no:xdist tests/browser/test_inbox_time_rules.py -k screenshots
"""

import json
import os
import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.browser.workday import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SIZES,
    Site,
    open_queue,
    require_chromium,
    serving,
)
from tests.inbox.servers import ROOT, free_port, manage, server_env

pytestmark = pytest.mark.browser

DESKTOP_EN, PHONE_PT = ("desktop", "en-US"), ("phone", "pt-BR")
DESKTOP_PT, PHONE_EN = ("desktop", "pt-BR"), ("phone", "en-US")
TWO_WAYS = [DESKTOP_EN, PHONE_PT]
# The screenshots of docs/ are made again with ATENDE_SCREENSHOTS=1; otherwise they go with
# the other test pictures (a test run leaves the tracked files as they are).
SHOTS = ROOT / ("docs/screenshots" if os.environ.get("ATENDE_SCREENSHOTS") == "1"
                else "test-artifacts")
BROWSER_ZONE = "America/Sao_Paulo"  # the team's hours are in UTC: the page shows its own zone
MAX_SOCKETS = 2
LONG_WAIT = 1500  # Carla waits for Diego for the whole module
SHORT_WAIT = 12  # seconds a reservation of the release test lasts
QUICK_REPLY_SECONDS = 5  # Rápido hands over after this: the handover test waits for it
REPLY_SECONDS = 40  # Vendas hands an unanswered automatic assignment over after this

# The team Noturno opens two days from now at 08:00 UTC (05:00 in São Paulo).
OPENS = (datetime.now(UTC) + timedelta(days=2)).replace(hour=8, minute=0, second=0,
                                                        microsecond=0)

SEED = f"""
import json
from apps.accounts.models import IntegrationClient, User
from apps.conversations.services import receive_inbound_message
from apps.organizations.models import Contact, PreferentialRule
from apps.routing import services as routing
from apps.teams.services import create_team

def person(username, name, **extra):
    return User.objects.create_user(username, password="secret-pass-1", name=name, **extra)

ana = person("ana", "Ana Souza", capacity=3)
diego = person("diego", "Diego Rocha", capacity=1)
people = [person(u, n) for u, n in (("beto", "Beto Lima"), ("bia", "Bia Reis"),
                                     ("eva", "Eva Prado"), ("gil", "Gil Neves"))]
chefe = person("chefe", "Chefe Martins", role="supervisor")
root = person("root", "Root", role="admin", is_staff=True, is_superuser=True)
suporte = create_team(name="Suporte", distribution_mode="capacity",
                      member_ids={{ana.pk, diego.pk}})
vendas = create_team(name="Vendas", distribution_mode="capacity", member_ids={{ana.pk}},
                     first_reply_seconds={REPLY_SECONDS})
rapido = create_team(name="Rápido", distribution_mode="capacity", member_ids={{people[1].pk}},
                     first_reply_seconds={QUICK_REPLY_SECONDS})
noturno = create_team(name="Noturno", member_ids={{ana.pk, diego.pk, people[1].pk}},
                      timezone="UTC", business_hours=[({OPENS.weekday()}, 8 * 60, 18 * 60)])
bot = IntegrationClient(name="WhatsApp")
token = IntegrationClient.new_token()
bot.set_token(token)
bot.save()

# Diego is online and full: what his rule sends him waits for him, reserved.
routing.set_presence(agent=diego, status="online")
busy, _m, _c = receive_inbound_message(external_id="wa:busy", body="Oi",
                                       contact_details={{"name": "Bruno Ocupa"}}, team=suporte)
routing.claim_conversation(conversation_id=busy.pk, agent=diego)
for external_id, name, wait in (("wa:carla", "Carla Reis", {LONG_WAIT}), ("wa:rui", "Rui Breve",
                                                                   {SHORT_WAIT})):
    contact = Contact.objects.create(external_id=external_id, name=name)
    PreferentialRule.objects.create(contact=contact, agent=diego, type="auto",
                                    max_wait_seconds=wait)
carla, _m, _c = receive_inbound_message(external_id="wa:carla", body="Quero falar com o Diego",
                                        team=suporte)
assert carla.status == "reserved", carla.status
for n in range(1, 4):
    receive_inbound_message(external_id=f"wa:noite{{n}}", body=f"Alguém aí? {{n}}",
                            contact_details={{"name": f"Cliente Noturno {{n}}"}}, team=noturno)
print(json.dumps({{
    "token": token, "teams": {{t.name: t.pk for t in (suporte, vendas, noturno, rapido)}},
    "people": {{u.username: u.pk for u in User.objects.all()}},
    "organizations": {{}}, "old": carla.pk, "long": busy.pk,
}}))
"""


def way_id(way):
    return f"{way[0]}-{way[1]}"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    require_chromium()
    tmp = tmp_path_factory.mktemp("time-rules")
    env = server_env(
        DATABASE_URL=None, REDIS_URL=None, SQLITE_PATH=tmp / "time-rules.sqlite3",
        COUNTS_COALESCE_SECONDS="0.1", EMBEDDED_SWEEP="1",
        # Diego stays online between the tests (an absent agent's reservations are released).
        PRESENCE_GRACE_SECONDS="3600", PRESENCE_TIMEOUT="3600",
        DISTRIBUTION_SWEEP_SECONDS="1", WS_MAX_SOCKETS_PER_PERSON=str(MAX_SOCKETS),
    )
    manage("migrate", "--noinput", env=env)
    seeded = json.loads(manage("shell", env=env, input_text=SEED).strip().splitlines()[-1])
    port = free_port()
    site = Site(base=f"http://127.0.0.1:{port}", **seeded)
    site.carla = seeded["old"]
    with serving(env, port, tmp / "uvicorn.log"):
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
    """page_for(username, way): a signed-in page in its own context (its own session), in
    the way's language and the São Paulo time zone."""
    contexts = []

    def make(username, way, *, context=None):
        size, lang = way
        if context is None:
            context = browser.new_context(locale=lang, viewport=SIZES[size],
                                          timezone_id=BROWSER_ZONE)
            contexts.append(context)
            context.add_cookies([{"name": "django_language", "value": lang.lower()
                                  if lang.startswith("pt") else "en", "url": site.base}])
        page = context.new_page()
        page.set_default_timeout(10000)
        if context in contexts and len(context.pages) == 1:
            page.goto(f"{site.base}/accounts/login/")
            page.get_by_test_id("username").fill(username)
            page.get_by_test_id("password").fill("secret-pass-1")
            page.get_by_test_id("login-submit").click()
        else:  # another tab of a signed-in context: signing in again would cycle its session
            page.goto(f"{site.base}/")
        expect(page.get_by_test_id("logout")).to_be_visible()
        expect(page.locator("body")).to_have_attribute("data-ready", "true")
        return page

    yield make
    for context in contexts:
        context.close()


def clock_seconds(text: str) -> int:
    """The seconds of the first "m:ss" in ``text``."""
    minutes, seconds = re.search(r"(\d+):(\d\d)", text).groups()
    return int(minutes) * 60 + int(seconds)


def said(page, key, **values):
    """The page's own text ``key`` (apps/inbox/views.py page_strings, in the page's language:
    new texts are English until the catalogue is translated) as a pattern, placeholders
    filled with ``values`` (patterns) or anything."""
    template = page.evaluate(
        "(key) => JSON.parse(document.getElementById('strings-data').textContent)[key]", key)
    assert template, key
    parts = re.split(r"%\((\w+)\)s", template)
    pattern = "".join(
        re.escape(part) if n % 2 == 0 else f"(?:{values.get(part, '.+?')})"
        for n, part in enumerate(parts)
    )
    return re.compile(pattern)


# --------------------------------------------------------------------------- reservations


@pytest.mark.parametrize("way", TWO_WAYS, ids=way_id)
def test_a_reservation_shows_its_remaining_wait_ticking_in_the_row_and_the_head(
    site, page_for, way
):
    size, lang = way
    page = page_for("diego", way)
    open_queue(page, size, "queue-reserved")
    row = page.get_by_test_id(f"conversation-{site.carla}")
    countdown = row.get_by_test_id("reserved-left")
    expect(row).to_contain_text(said(page, "reserved_for_you"))
    expect(countdown).to_have_text(said(page, "time_left", time=r"\d+:\d\d"))
    first = clock_seconds(countdown.inner_text())
    assert 0 < first <= LONG_WAIT
    # It ticks in the page, without the server saying anything.
    expect(countdown).not_to_have_text(countdown.inner_text(), timeout=5000)
    assert clock_seconds(countdown.inner_text()) < first
    row.click()
    head = page.get_by_test_id("conversation-status")
    expect(head.get_by_test_id("reserved-left")).to_have_text(said(page, "time_left"))
    expect(head).to_contain_text(said(page, "reserved_for_you"))
    assert abs(clock_seconds(head.inner_text()) - clock_seconds(countdown.inner_text())) <= 1


def test_a_supervisor_sees_whom_it_is_reserved_for_and_the_release_updates_the_page(
    site, page_for
):
    diego = page_for("diego", DESKTOP_PT)
    boss = page_for("chefe", DESKTOP_EN)
    rui = site.inbound("wa:rui", "Cadê o Diego?", team="Suporte")
    assert rui["status"] == "reserved" and rui["reserved_until"]
    # Diego: in his reserved list, and open.
    open_queue(diego, "desktop", "queue-reserved")
    row = diego.get_by_test_id(f"conversation-{rui['id']}")
    expect(row.get_by_test_id("reserved-left")).to_have_text(said(diego, "time_left"))
    row.click()
    expect(diego.get_by_test_id("conversation-status").get_by_test_id("reserved-left")
           ).to_be_visible()
    # The supervisor finds it and sees whom it waits for.
    boss.get_by_test_id("nav-inbox").click()
    boss.get_by_test_id("search-input").fill("Rui Breve")
    boss.get_by_test_id("search-input").press("Enter")
    found = boss.get_by_test_id(f"conversation-{rui['id']}")
    expect(found).to_contain_text("Reserved for Diego Rocha")
    expect(found.get_by_test_id("reserved-left")).to_contain_text("left")
    found.click()
    expect(boss.get_by_test_id("conversation-status")).to_contain_text("Reserved for Diego Rocha")
    # The server releases it when the wait runs out (the sweep): the countdowns go.
    timeout = (SHORT_WAIT + 15) * 1000
    expect(row).to_have_count(0, timeout=timeout)
    status = diego.get_by_test_id("conversation-status")
    expect(status.get_by_test_id("reserved-left")).to_have_count(0, timeout=timeout)
    expect(status).not_to_contain_text(said(diego, "reserved_for_you"))
    expect(boss.get_by_test_id("conversation-status").get_by_test_id("reserved-left")
           ).to_have_count(0, timeout=timeout)
    expect(found.get_by_test_id("reserved-left")).to_have_count(0)


def test_the_floor_view_shows_a_reservations_remaining_wait_beside_the_inboxs_countdowns(
    site, page_for
):
    """The floor's bare countdowns and the inbox's labelled ones share the page's ticking: a
    reserved conversation on the floor lists with its remaining wait, and nothing throws."""
    boss = page_for("chefe", DESKTOP_EN)
    errors = []
    boss.on("pageerror", lambda error: errors.append(str(error)))
    boss.goto(f"{site.base}/supervisor/")
    expect(boss.locator("body")).to_have_attribute("data-ready", "true")
    carla = boss.get_by_test_id(f"open-conversation-{site.carla}")
    expect(carla).to_contain_text("Diego Rocha")
    # Carla's reservation lasts LONG_WAIT (25 min) from the seed: some minutes are left.
    expect(carla.locator(".where-cell [data-until]")).to_have_text(re.compile(r"^\d+ min$"))
    release = boss.get_by_test_id(f"floor-release-{site.teams['Suporte']}")
    expect(release).to_have_text(re.compile(r"\d"))
    assert errors == []


# --------------------------------------------------------------------------- reply due


@pytest.mark.parametrize("way", [PHONE_EN], ids=way_id)
def test_the_reply_due_time_shows_to_the_assignee_only_warns_and_goes_with_a_reply(
    site, page_for, way
):
    size, lang = way
    ana = page_for("ana", way)
    boss = page_for("chefe", DESKTOP_PT)
    expect(ana.get_by_test_id("presence-status")).to_have_text("Online")  # given work now
    arrived = site.inbound("wa:pressa", "Preciso de ajuda rápido", name="Paula Pressa",
                           team="Vendas")
    assert arrived["status"] == "assigned" and arrived["assignee"] == site.people["ana"]
    assert arrived["reply_due_at"]
    open_queue(ana, size, "queue-mine")
    row = ana.get_by_test_id(f"conversation-{arrived['id']}")
    due = row.get_by_test_id("reply-due")
    expect(due).to_have_text(re.compile(r"^Reply within 0:[0-4]\d$"))
    assert "soon" not in (due.get_attribute("class") or "")
    row.click()
    head = ana.get_by_test_id("conversation-status")
    expect(head).to_contain_text("Assigned to you")
    expect(head.get_by_test_id("reply-due")).to_contain_text("Reply within")
    # Not to anyone else: the supervisor sees where it is, not the assignee's clock.
    boss.goto(f"{site.base}/?q=Paula")
    found = boss.get_by_test_id(f"conversation-{arrived['id']}")
    expect(found).to_be_visible()
    found.click()
    expect(boss.get_by_test_id("conversation-status")).to_contain_text("Ana Souza")
    expect(boss.get_by_test_id("reply-due")).to_have_count(0)
    # Under 30 s left it turns to a warning.
    expect(head.get_by_test_id("reply-due")).to_have_class(re.compile(r"\bsoon\b"),
                                                           timeout=20000)
    ana.screenshot(path=ROOT / "test-artifacts" / f"reply-due-{way_id(way)}.png")
    # Ana answers: the server stops the clock, and the page shows no countdown any more.
    ana.get_by_test_id("reply-input").fill("Olá Paula, estou aqui!")
    ana.get_by_test_id("reply-input").press("Enter")
    expect(head.get_by_test_id("reply-due")).to_have_count(0)
    expect(head).to_contain_text("Assigned to you")


def test_a_handover_for_no_reply_tells_the_agent_and_takes_it_from_mine(site, page_for):
    bia = page_for("bia", DESKTOP_PT)
    # Online once the page says so (its socket counted): only then is she given work.
    expect(bia.get_by_test_id("presence-status")).to_have_text("Online")
    arrived = site.inbound("wa:lento", "Oi, tem alguém?", name="Lucas Lento", team="Rápido")
    assert arrived["assignee"] == site.people["bia"] and arrived["reply_due_at"]
    open_queue(bia, "desktop", "queue-mine")
    row = bia.get_by_test_id(f"conversation-{arrived['id']}")
    expect(row.get_by_test_id("reply-due")).to_be_visible()
    # Nobody answers: the sweep takes it back into the team, and Bia is told why.
    told = said(bia, "handed_over", contact="Lucas Lento", team="Rápido", time=r"5\D+")
    expect(bia.get_by_test_id("toast").filter(has_text=told)).to_be_visible(timeout=20000)
    expect(row).to_have_count(0)


# --------------------------------------------------------------------------- business hours


@pytest.mark.parametrize("way", TWO_WAYS, ids=way_id)
def test_a_closed_team_says_so_and_when_it_opens_in_the_browsers_zone(site, page_for, way):
    size, lang = way
    page = page_for("ana", way)
    open_queue(page, size, f"queue-team-{site.teams['Noturno']}")
    state = page.get_by_test_id("team-state")
    expect(state).to_be_visible()
    expect(state).to_have_text(said(page, "team_closed_opens"))
    # 08:00 UTC is 05:00 in São Paulo; the weekday as the page's language writes it.
    expected = page.evaluate(
        """([iso, lang]) => new Intl.DateTimeFormat(lang, {weekday: "short", hour: "2-digit",
        minute: "2-digit"}).format(new Date(iso))""", [OPENS.isoformat(), lang])
    assert "05:00" in expected
    expect(state).to_contain_text(expected)
    expect(page.locator("li.row")).to_have_count(3)
    # A conversation queued there says it too, in its head.
    page.locator("li.row").first.click()
    expect(page.get_by_test_id("conversation-team-state")).to_have_text(state.inner_text())
    if size == "phone":
        page.locator('[data-action="back-to-list"]').click()
    # An open team's queue has no such line.
    open_queue(page, size, f"queue-team-{site.teams['Suporte']}")
    expect(state).to_be_hidden()


# --------------------------------------------------------------------------- close codes


def test_deactivating_the_agent_sends_the_browser_to_the_sign_in_page(site, page_for):
    page = page_for("beto", DESKTOP_PT)
    expect(page.get_by_test_id("presence-status")).to_have_text("Online")
    answer = site.api("DELETE", f"agents/{site.people['beto']}/")
    assert answer.status_code in (200, 204), answer.text
    banner = page.get_by_test_id("connection-banner")
    expect(banner).to_contain_text(said(page, "access_changed"))
    page.wait_for_url(re.compile(r"/accounts/login/\?next=(%2F|/)"), timeout=15000)
    expect(page.get_by_test_id("username")).to_be_visible()


def test_signing_out_in_another_tab_sends_this_one_to_the_sign_in_page(site, page_for):
    page = page_for("gil", PHONE_EN)
    other = page_for("gil", PHONE_EN, context=page.context)  # the same session
    open_queue(page, "phone", "queue-mine")
    other.get_by_test_id("logout").click()
    banner = page.get_by_test_id("connection-banner")
    expect(banner).to_contain_text("Your session has ended")
    expect(banner).to_contain_text("sign-in page")
    page.wait_for_url(re.compile(r"/accounts/login/\?next=(%2F|/)"), timeout=15000)


def test_too_many_sockets_backs_off_says_so_and_connects_when_one_closes(site, page_for):
    first = page_for("eva", DESKTOP_EN)
    page_for("eva", DESKTOP_EN)
    third = page_for("eva", DESKTOP_EN)
    banner = third.get_by_test_id("connection-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Too many connections")
    expect(banner).to_contain_text(re.compile(r"Trying again in \d+ s"))
    expect(third.get_by_test_id("toast")).to_have_count(0)  # the banner says it, once
    expect(third.get_by_test_id("list-loading")).to_have_count(0)  # the page works meanwhile
    wait = int(re.search(r"in (\d+) s", banner.inner_text()).group(1))
    assert 1 <= wait <= 5  # the first wait: 2.5 to 5 s
    third.screenshot(path=ROOT / "test-artifacts" / "too-many-desktop-en.png")
    # The waits grow, capped, never all the same: 2.5-5 s, 5-10 s, ... at most 5 min.
    waits = third.evaluate("""async () => {
        const inbox = document.querySelector('script[src*="inbox"]').src;
        const { backoffDelay } = await import(new URL("common.js", inbox));
        return [0, 1, 2, 3, 10, 50].map((n) => [0, 1].map((r) => backoffDelay(n, () => r)));
    }""")
    assert waits == [[2500, 5000], [5000, 10000], [10000, 20000], [20000, 40000],
                     [150000, 300000], [150000, 300000]]
    first.context.close()
    # After its wait it tries again, and now there is room.
    expect(banner).to_be_hidden(timeout=20000)
    expect(third.get_by_test_id("presence-status")).to_have_text("Online")


# --------------------------------------------------------------------------- screenshots


@pytest.mark.parametrize(
    "way", [DESKTOP_EN, DESKTOP_PT, PHONE_EN, PHONE_PT], ids=way_id,
)
def test_screenshots_of_the_time_rules(site, page_for, way):
    """Diego's inbox: a closed team's queue and a reservation's remaining wait."""
    size, lang = way
    page = page_for("diego", way)
    open_queue(page, size, "queue-reserved")
    page.get_by_test_id(f"conversation-{site.carla}").click()
    expect(page.get_by_test_id("conversation-status").get_by_test_id("reserved-left")
           ).to_be_visible()
    if size == "desktop":
        page.get_by_test_id(f"queue-team-{site.teams['Noturno']}").click()
    else:
        page.locator('[data-action="back-to-list"]').click()
    expect(page.get_by_test_id("team-state" if size == "desktop" else "reserved-left")
           .first).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(400)
    short = "pt-BR" if lang.startswith("pt") else "en"
    page.screenshot(path=SHOTS / f"inbox-time-rules-{size}-{short}.png")

