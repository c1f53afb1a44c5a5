"""New work in a team's queue, toasts and the top bar (issue 18 item 8), and the inbox's list
drawn row by row (issue 24 item 3), in Debian's Chromium at desktop (1280x800) and phone
(390x844) sizes, in Brazilian Portuguese and English:

- a bell next to each team queue: on, new conversations in that queue announce themselves
  (toast, chime, desktop notice, the tab title), remembered by the browser; off, silence;
- toasts have a strip of their own: they never cover a control (Transfer, above all);
- on a phone the reconnecting state keeps the top bar on one row;
- a change redraws its own row: the others stay the nodes they were.

Screenshots go to docs/screenshots/ (inbox-queue-alert-*, inbox-toast-*, inbox-reconnecting-*).
"""

import re

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.browser.workday import (
    CHROMIUM,
    CHROMIUM_ARGS,
    log_in,
    new_page,
    open_queue,
    serving,
    site_fixture,
    words,
)
from tests.inbox.servers import ROOT

pytestmark = pytest.mark.browser

SHOTS = ROOT / "docs" / "screenshots"
DESKTOP_PT, PHONE_EN = ("desktop", "pt-BR"), ("phone", "en-US")
DESKTOP_EN, PHONE_PT = ("desktop", "en-US"), ("phone", "pt-BR")


def way_id(way):
    return f"{way[0]}-{way[1]}"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    env, port, site = site_fixture(tmp_path_factory.mktemp("alerts"))
    with serving(env, port, tmp_path_factory.getbasetemp() / "alerts-uvicorn.log"):
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
    pages = []

    def make(username, way):
        page = new_page(browser, *way)
        pages.append(page)
        log_in(page, site.base, username)
        expect(page.get_by_test_id("presence-status")).to_have_text("Online")
        return page

    yield make
    for page in pages:
        page.context.close()


def title_number(page) -> int:
    found = re.match(r"^\((\d+)\) ", page.title())
    return int(found.group(1)) if found else 0


def overlaps(a, b) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


@pytest.mark.parametrize("way", [DESKTOP_PT, PHONE_EN], ids=way_id)
def test_a_team_queue_with_its_bell_on_announces_new_work_and_is_remembered(site, page_for, way):
    size, lang = way
    page = page_for("ana", way)
    team = site.teams["Vendas"]
    bell = page.get_by_test_id(f"queue-alert-{team}")
    expect(bell).to_have_attribute("aria-pressed", "false")  # opt-in
    expect(bell).to_have_attribute("title", words(
        lang, "Avisar-me dos novos atendimentos na fila Vendas",
        "Alert me of new conversations in Vendas"))
    # Silence while it is off: a manual team's queue only counts.
    quiet = f"Quieto {way_id(way)}"
    site.inbound(f"wa:quiet-{way_id(way)}", "Oi", name=quiet, team="Vendas")
    expect(page.get_by_test_id(f"count-team-{team}")).not_to_have_text("0")
    page.wait_for_timeout(1000)  # what would have come by now (the flush is 0.1 s)
    expect(page.get_by_test_id("toast").filter(has_text=quiet)).to_have_count(0)

    page.get_by_test_id("sound-toggle").click()
    chimes = int(page.evaluate("document.body.dataset.chimed || 0"))
    # Ana's own work wanting a look: Olga wrote after her last reply (the seed).
    expect(page).to_have_title(re.compile(r"^\(1\) "))
    unread = 1
    queued = int(page.get_by_test_id(f"count-team-{team}").inner_text())
    bell.click()
    expect(bell).to_have_attribute("aria-pressed", "true")
    # The tab title counts what waits in the queues with a bell on.
    expect(page).to_have_title(re.compile(rf"^\({unread + queued}\) "))
    before = unread + queued

    name = f"Nina {way_id(way)}"
    arrived = site.inbound(f"wa:bell-{way_id(way)}", "Alguém?", name=name, team="Vendas")
    assert arrived["status"] == "queued"
    toast = page.get_by_test_id("toast").filter(has_text=name)
    expect(toast).to_be_visible()
    expect(toast).to_have_text(
        words(lang, f"Novo em Vendas: {name}", f"New in Vendas: {name}"))
    expect(page).to_have_title(re.compile(rf"^\({before + 1}\) "))
    assert int(page.evaluate("document.body.dataset.chimed")) == chimes + 1
    page.screenshot(path=SHOTS / f"inbox-queue-alert-{way_id(way)}.png")

    # The toast opens it, in its queue.
    toast.click()
    expect(page.get_by_test_id("pane-title")).to_have_text(name)
    expect(page.get_by_test_id("claim")).to_be_visible()
    expect(page.get_by_test_id("list-title")).to_have_text("Vendas")

    # Remembered by this browser.
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    if size == "phone" and not bell.is_visible():
        page.locator('[data-action="back-to-queues"]').click()
    expect(bell).to_have_attribute("aria-pressed", "true")
    bell.click()
    expect(bell).to_have_attribute("aria-pressed", "false")
    later = f"Depois {way_id(way)}"
    site.inbound(f"wa:later-{way_id(way)}", "Oi", name=later, team="Vendas")
    page.wait_for_timeout(1000)
    expect(page.get_by_test_id("toast").filter(has_text=later)).to_have_count(0)


@pytest.mark.parametrize("way", [DESKTOP_EN, PHONE_PT], ids=way_id)
def test_a_toast_never_covers_the_transfer_button(site, page_for, way):
    size, lang = way
    page = page_for("beto", way)
    team = site.teams["Fila longa"]
    page.get_by_test_id(f"queue-alert-{team}").click()
    mine = site.inbound(f"wa:mine-{way_id(way)}", "Oi", name=f"Tina {way_id(way)}", team="Vendas")
    site.api("POST", f"conversations/{mine['id']}/claim", username="beto")
    open_queue(page, size, "queue-mine")
    page.get_by_test_id(f"conversation-{mine['id']}").click()
    transfer = page.get_by_test_id("transfer")
    expect(transfer).to_be_visible()
    page.get_by_test_id("transfer-target").select_option(f"team:{site.teams['Fila longa']}")
    expect(transfer).to_be_enabled()

    names = [f"Ugo {n} {way_id(way)}" for n in range(3)]
    for n, name in enumerate(names):
        site.inbound(f"wa:toast-{n}-{way_id(way)}", "Oi", name=name, team="Fila longa")
    for name in names:
        expect(page.get_by_test_id("toast").filter(has_text=name)).to_be_visible()
    page.screenshot(path=SHOTS / f"inbox-toast-{way_id(way)}.png")
    controls = page.locator("button:visible, select:visible, textarea:visible, input:visible")
    boxes = [box for box in (c.bounding_box() for c in controls.all()) if box]
    toast_boxes = [t.bounding_box() for t in page.get_by_test_id("toast").all()]
    assert toast_boxes and boxes
    for toast in toast_boxes:
        # A toast that is a button overlaps itself only.
        assert [box for box in boxes if overlaps(toast, box) and box != toast] == []
    # What is under Transfer's middle is Transfer.
    box = transfer.bounding_box()
    hit = page.evaluate("([x, y]) => document.elementFromPoint(x, y)?.dataset.testid",
                        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2])
    assert hit == "transfer"


def test_a_change_redraws_its_own_row_only(site, page_for):
    page = page_for("ana", DESKTOP_EN)
    team = site.teams["Fila longa"]
    first = site.inbound("wa:row-a", "Primeira", name="Rita Row", team="Fila longa")
    second = site.inbound("wa:row-b", "Segunda", name="Saulo Row", team="Fila longa")
    open_queue(page, "desktop", f"queue-team-{team}")
    a = page.get_by_test_id(f"conversation-{first['id']}")
    b = page.get_by_test_id(f"conversation-{second['id']}")
    expect(b).to_contain_text("Segunda")
    a.evaluate("(node) => { node.dataset.probe = 'kept'; }")
    # A new message changes B's row; a new conversation adds one; a claim elsewhere takes B.
    site.inbound("wa:row-b", "Ainda aqui?", team="Fila longa")
    expect(b).to_contain_text("Ainda aqui?")
    third = site.inbound("wa:row-c", "Terceira", name="Tito Row", team="Fila longa")
    expect(page.get_by_test_id(f"conversation-{third['id']}")).to_be_visible()
    site.api("POST", f"conversations/{second['id']}/claim", username="beto")
    expect(b).to_have_count(0)
    expect(a).to_have_attribute("data-probe", "kept")
    # The list is in queue order all along.
    ids = page.locator('[data-part="row"]').evaluate_all(
        "(rows) => rows.map((r) => Number(r.dataset.id))")
    assert ids.index(first["id"]) < ids.index(third["id"])


@pytest.mark.parametrize("way", [PHONE_PT, PHONE_EN], ids=way_id)
def test_on_a_phone_the_reconnecting_state_keeps_the_top_bar_on_one_row(tmp_path, browser, way):
    size, lang = way
    env, port, site = site_fixture(tmp_path)  # a server of its own: the test stops it
    log = tmp_path / "uvicorn.log"
    page = new_page(browser, size, lang)
    try:
        with serving(env, port, log):
            log_in(page, site.base, "ana")
            expect(page.get_by_test_id("presence-status")).to_have_text("Online")
            online = page.locator(".topbar").bounding_box()["height"]
        status = page.get_by_test_id("presence-status")
        expect(status).to_have_text(words(lang, "Reconectando…", "Reconnecting…"))
        expect(page.get_by_test_id("presence-toggle")).to_be_disabled()
        page.screenshot(path=SHOTS / f"inbox-reconnecting-{way_id(way)}.png")
        bar = page.locator(".topbar").bounding_box()
        assert bar["height"] <= online + 1, (bar["height"], online)
        # Every control of the bar's end on one row, inside the window, its text unwrapped.
        middles = [item.bounding_box() for item in page.locator(".topbar-end > :visible").all()]
        tops = {round(box["y"] + box["height"] / 2) for box in middles}
        assert max(tops) - min(tops) <= 4, tops
        one_line = page.locator(".topbar select").bounding_box()["height"] + 4
        for item in page.locator(".topbar button:visible, .topbar select:visible").all():
            box = item.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390 + 1
            assert box["height"] <= one_line, item.inner_text()  # its words on one line
        with serving(env, port, log):
            expect(status).to_have_text("Online", timeout=20000)
            expect(page.get_by_test_id("presence-toggle")).to_be_visible()
    finally:
        page.context.close()
