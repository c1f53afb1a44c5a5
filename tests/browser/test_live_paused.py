"""Live updates paused while Redis is away (issue 18 item 5): the inbox keeps its socket
and says that live updates are paused and what it shows may be out of date; when Redis is
back the banner goes and the counts move again. Production mode (PostgreSQL, and a Redis of
the test's own that it stops and starts)."""

import json
import subprocess
import time
import uuid

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.browser.workday import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    SEED,
    Site,
    log_in,
    new_page,
    require_chromium,
    serving,
    words,
)
from tests.inbox.servers import free_port, manage, server_env
from tests.inbox.test_redis_outage import start_redis, stop_redis

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

SHOTS = ROOT / "docs" / "screenshots"


@pytest.fixture
def fresh_postgres():
    name = f"atende_paused_{uuid.uuid4().hex[:8]}"
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
    try:
        yield f"postgres://postgres@127.0.0.1:5432/{name}"
    finally:
        subprocess.run(["dropdb", "--if-exists", "--force", "-h", "127.0.0.1", "-U", "postgres",
                        name], check=False)


@pytest.mark.parametrize("way", [("desktop", "pt-BR"), ("phone", "en-US")],
                         ids=lambda way: f"{way[0]}-{way[1]}")
def test_the_inbox_says_live_updates_are_paused_while_redis_is_away(tmp_path, way,
                                                                    fresh_postgres):
    require_chromium()
    size, lang = way
    redis_port, port = free_port(), free_port()
    redis_process = start_redis(redis_port)
    env = server_env(DATABASE_URL=fresh_postgres, REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
                     SECRET_KEY="test-paused-" + "x" * 40, DEBUG="1",
                     COUNTS_COALESCE_SECONDS="0.1", PRESENCE_GRACE_SECONDS="30")
    manage("migrate", "--noinput", env=env)
    seeded = json.loads(manage("shell", env=env, input_text=SEED).strip().splitlines()[-1])
    site = Site(base=f"http://127.0.0.1:{port}", **seeded)
    try:
        with sync_playwright() as p, serving(env, port, tmp_path / "uvicorn.log"):
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = new_page(browser, size, lang)
            heard = []  # what the page's sockets received
            page.on("websocket",
                    lambda ws: ws.on("framereceived", lambda frame: heard.append(frame)))
            log_in(page, site.base, "ana")
            # The socket is open (its first counts came) before Redis goes away.
            deadline = time.monotonic() + 20
            while not any("queue.counts" in str(frame) for frame in heard):
                assert time.monotonic() < deadline, "the inbox socket did not open"
                page.wait_for_timeout(100)
            banner = page.get_by_test_id("connection-banner")
            expect(banner).to_be_hidden()
            count = page.get_by_test_id(f"count-team-{site.teams['Vendas']}")
            before = int(count.text_content() or 0)

            stop_redis(redis_process)
            expect(banner).to_be_visible(timeout=20000)
            expect(banner).to_contain_text(words(lang, "pausadas", "paused"))
            expect(banner).to_contain_text(words(lang, "desatualizado", "out of date"))
            shot = f"inbox-live-paused-{size}-{'pt-BR' if lang == 'pt-BR' else 'en'}.png"
            page.screenshot(path=SHOTS / shot)

            redis_process = start_redis(redis_port)
            expect(banner).to_be_hidden(timeout=30000)
            site.inbound("wa:after-redis", "Voltou?", name="Wanda", team="Vendas")
            expect(count).to_have_text(str(before + 1), timeout=20000)
            browser.close()
    finally:
        stop_redis(redis_process)
