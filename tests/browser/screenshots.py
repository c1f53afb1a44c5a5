"""The screenshots in docs/screenshots: the inbox, the supervisor page and the admin on the
demo data (``seed_demo``), at desktop (1280x800) and phone (390x844) sizes, in Brazilian
Portuguese and English. Run from the repository's root:

    python -m tests.browser.screenshots [supervisor | reports]

(with ``supervisor``: only the supervisor's floor; ``reports``: only the Reports page, over
a history made by ``seed_history``). It starts its own embedded server on
a fresh SQLite file, and stops it when done.
"""

import json
import sys
import tempfile
from pathlib import Path

import httpx
from playwright.sync_api import expect, sync_playwright

from tests.browser.workday import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SIZES,
    require_chromium,
    serving,
)
from tests.inbox.servers import ROOT, free_port, manage, server_env

OUT = ROOT / "docs" / "screenshots"
PASSWORD = "atende123"
LANGS = {"pt-BR": "pt-br", "en": "en"}

FACTS = """
import json
from apps.conversations.models import Conversation
from apps.accounts.models import User
carla = User.objects.get(username="carla")
mine = Conversation.objects.filter(assignee=carla, status="assigned").order_by("id").first()
print(json.dumps({"carla_conversation": mine.pk if mine else None}))
"""


# The floor's last hour, made up: the demo is seeded in a moment, so its queues get an hour
# of per-minute depth behind them and their conversations a wait of some minutes.
FLOOR_HISTORY = """
import math
from datetime import timedelta
from django.utils import timezone
from apps.conversations.models import Conversation
from apps.floor.models import QueueSnapshot
from apps.floor.snapshots import minute_of
from apps.teams.models import Team
now = timezone.now()
for n, c in enumerate(Conversation.objects.filter(status__in=["queued", "waiting"]).order_by("id")):
    Conversation.objects.filter(pk=c.pk).update(queued_at=now - timedelta(seconds=95 + 170 * n))
for n, c in enumerate(Conversation.objects.filter(assigned_at__isnull=False).order_by("id")):
    wait = timedelta(seconds=(25, 140, 45, 70, 20, 95, 35)[n % 7])
    Conversation.objects.filter(pk=c.pk).update(queued_at=c.assigned_at - wait)
rows = []
for t, team in enumerate(Team.objects.order_by("id")):
    for m in range(1, 61):
        depth = max(0, round(2.5 + 2.5 * math.sin((m + 9 * t) / 7) - (t % 2)))
        rows.append(QueueSnapshot(team=team, taken_at=minute_of(now - timedelta(minutes=m)),
                                  queued=depth, reserved=0))
QueueSnapshot.objects.bulk_create(rows, ignore_conflicts=True)
print("{}")
"""


def sign_in(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.get_by_test_id("username").fill(username)
    page.get_by_test_id("password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("logout")).to_be_visible()


def admin_sign_in(page, base):
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def shoot(page, name, size, lang, *, full=False):
    path = OUT / f"{name}-{size}-{lang}.png"
    page.wait_for_timeout(400)  # let fonts and the last event settle before the picture
    page.screenshot(path=path, full_page=full)
    print(path.relative_to(ROOT))


def floor(browser, base, lang, code, size, viewport):
    """The supervisor's floor; on a phone also a team picked and a conversation read."""
    context = browser.new_context(locale=lang, viewport=viewport)
    context.add_cookies([{"name": "django_language", "value": code, "url": base}])
    page = context.new_page()
    sign_in(page, base, "sofia")
    page.goto(f"{base}/supervisor/")
    expect(page.locator('[data-testid^="open-conversation-"]').first).to_be_visible()
    expect(page.locator(".depth-chart").first).to_be_visible()
    shoot(page, "supervisor", size, lang, full=size == "desktop")
    if size == "phone":
        busiest = page.locator(".team-card.has-queue [data-pick]").first
        busiest.click()
        expect(page.get_by_test_id("show-all-teams")).to_be_visible()
        page.locator('[data-testid^="read-"]').first.click()
        expect(page.locator('[data-testid="reader-messages"] li').first).to_be_visible()
        shoot(page, "supervisor-reader", size, lang)
        page.get_by_test_id("reader-close").click()
    return page


def reports(browser, base, lang, code, size, viewport):
    """The Reports page: a supervisor's two teams over a week; an agent's own figures."""
    context = browser.new_context(locale=lang, viewport=viewport)
    context.add_cookies([{"name": "django_language", "value": code, "url": base}])
    page = context.new_page()
    sign_in(page, base, "sofia")
    page.goto(f"{base}/reports/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    for name in ("Histórico 01", "Histórico 02"):
        page.get_by_label(name).check()
    page.get_by_test_id("report-show").click()
    expect(page.locator("[data-testid=report-charts] figure")).to_have_count(3)
    expect(page.locator("[data-testid=report-table] tr.total")).to_have_count(2)
    shoot(page, "reports", size, lang, full=True)
    page.context.clear_cookies()
    context.add_cookies([{"name": "django_language", "value": code, "url": base}])
    sign_in(page, base, "historico-0001")
    page.goto(f"{base}/reports/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    shoot(page, "reports-agent", size, lang, full=True)
    context.close()


HISTORY_LOGIN = """
from apps.accounts.models import User
agent = User.objects.get(username="historico-0001")
agent.set_password("atende123")
agent.save()
print("{}")
"""


def main() -> int:
    expect.set_options(timeout=20_000)  # a loaded machine: pictures wait, they never assert speed
    only_floor = sys.argv[1:] == ["supervisor"]
    only_reports = sys.argv[1:] == ["reports"]
    require_chromium()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        env = server_env(DATABASE_URL=None, REDIS_URL=None,
                         SQLITE_PATH=Path(tmp) / "demo.sqlite3", PRESENCE_GRACE_SECONDS="2")
        manage("migrate", "--noinput", env=env)
        manage("seed_demo", env=env)
        facts = json.loads(manage("shell", env=env, input_text=FACTS).strip().splitlines()[-1])
        manage("shell", env=env, input_text=FLOOR_HISTORY)
        manage("seed_history", "--conversations=6000", "--days=14", "--teams=4",
               "--agents=12", env=env)
        manage("shell", env=env, input_text=HISTORY_LOGIN)
        port = free_port()
        with serving(env, port, Path(tmp) / "uvicorn.log") as base, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            # Carla's customer writes again, with two lines and a link; Carla answers.
            httpx.post(f"{base}/api/v1/inbound", timeout=10,
                       headers={"Authorization": "Token int_demo-whatsapp-connector-token"},
                       json={"contact": {"external_id": "demo-flavia"},
                             "body": "Já reinstalei.\nO erro aparece aqui: "
                                     "https://exemplo.com.br/suporte/4821"})
            token = httpx.post(f"{base}/api/v1/auth/token", timeout=10, json={
                "username": "carla", "password": PASSWORD}).json()["token"]
            httpx.post(f"{base}/api/v1/conversations/{facts['carla_conversation']}/messages",
                       timeout=10, headers={"Authorization": f"Token {token}"},
                       json={"body": "Obrigada, Flávia! Vou abrir um chamado com a equipe."})
            try:
                for lang, code in LANGS.items():
                    for size, viewport in SIZES.items():
                        if only_floor:
                            floor(browser, base, lang, code, size, viewport).context.close()
                            continue
                        reports(browser, base, lang, code, size, viewport)
                        if only_reports:
                            continue
                        context = browser.new_context(locale=lang, viewport=viewport)
                        context.add_cookies([{"name": "django_language", "value": code,
                                              "url": base}])
                        page = context.new_page()
                        sign_in(page, base, "carla")
                        if size == "phone":
                            shoot(page, "inbox-queues", size, lang)
                        page.get_by_test_id("queue-waiting").click()
                        expect(page.locator("li.row").first).to_be_visible()
                        shoot(page, "inbox-waiting", size, lang)
                        if size == "phone":
                            page.locator('[data-action="back-to-queues"]').click()
                        page.get_by_test_id("queue-mine").click()
                        row = page.get_by_test_id(f"conversation-{facts['carla_conversation']}")
                        row.click()
                        expect(page.get_by_test_id("reply-input")).to_be_visible()
                        expect(page.locator('[data-testid="system-line"]').first).to_be_visible()
                        shoot(page, "inbox-conversation", size, lang)
                        if size == "phone":
                            page.get_by_test_id("contact-toggle").click()
                            expect(page.get_by_test_id("contact-name")).to_be_visible()
                            shoot(page, "inbox-contact", size, lang)
                        context.close()

                        page = floor(browser, base, lang, code, size, viewport)
                        admin_sign_in(page, base)
                        shoot(page, "admin-index", size, lang)
                        page.goto(f"{base}/admin/organizations/organization/")
                        shoot(page, "admin-organizations", size, lang)
                        page.goto(f"{base}/admin/conversations/conversation/"
                                  f"{facts['carla_conversation']}/change/")
                        shoot(page, "admin-conversation", size, lang, full=True)
                        page.context.close()
            finally:
                browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
