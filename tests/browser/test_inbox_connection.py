"""A lost connection is visible (issue 12, point 6): when the server stops, the inbox and the
supervisor page say that they are reconnecting and that what they show may be out of date,
and presence says "reconnecting", not "Online"; when it is back, the banner goes and the
lists are loaded again."""

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.browser.workday import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    log_in,
    new_page,
    serving,
    site_fixture,
    words,
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("way", [("desktop", "pt-BR"), ("phone", "en-US")],
                         ids=lambda way: f"{way[0]}-{way[1]}")
def test_the_reconnecting_banner_shows_while_the_server_is_down(tmp_path, way):
    size, lang = way
    env, port, site = site_fixture(tmp_path)
    log = tmp_path / "uvicorn.log"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            with serving(env, port, log):
                page = new_page(browser, size, lang)
                boss = new_page(browser, size, lang)
                log_in(page, site.base, "ana")
                log_in(boss, site.base, "chefe")
                boss.goto(f"{site.base}/supervisor/")
                for each in (page, boss):
                    expect(each.get_by_test_id("presence-status")).to_have_text("Online")
                    expect(each.get_by_test_id("connection-banner")).to_be_hidden()
            # The server is down now.
            for each in (page, boss):
                banner = each.get_by_test_id("connection-banner")
                expect(banner).to_be_visible()
                expect(banner).to_contain_text(words(lang, "Reconectando", "Reconnecting"))
                expect(banner).to_contain_text(words(lang, "desatualizado", "out of date"))
                expect(each.get_by_test_id("presence-status")).to_have_text(
                    words(lang, "Reconectando…", "Reconnecting…"))
                expect(each.get_by_test_id("presence-toggle")).to_be_disabled()
            page.screenshot(path=ARTIFACTS / f"reconnecting-{size}-{lang}.png")
            with serving(env, port, log):
                # Back: the socket reconnects by itself and the pages load what is new.
                arrived = site.inbound("wa:after-restart", "Voltou?", name="Wanda",
                                       team="Vendas")
                for each in (page, boss):
                    expect(each.get_by_test_id("connection-banner")).to_be_hidden(timeout=20000)
                    expect(each.get_by_test_id("presence-status")).to_have_text("Online")
                expect(boss.get_by_test_id(f"open-conversation-{arrived['id']}")).to_have_count(1)
                expect(page.get_by_test_id(f"count-team-{site.teams['Vendas']}")).to_have_text("1")
        finally:
            browser.close()
