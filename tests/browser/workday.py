"""Helpers for the working-day browser tests: a live embedded server (uvicorn on a file-based
SQLite) seeded with people, teams, organizations and a few long conversations, clients in
Chromium at desktop (1280x800) and phone (390x844) sizes in pt-BR or English, and the API
calls a channel integration makes."""

import contextlib
import functools
import json
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.inbox.servers import ROOT, free_port, manage, server_env

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
PASSWORD = "secret-pass-1"
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
ARTIFACTS = ROOT / "test-artifacts"
# Two cores shared by many: give the pages time before an expectation fails (not a wait).
expect.set_options(timeout=10_000)

# People, teams and organizations; a thread spanning days; a thread of 150 messages.
SEED = """
import json
from datetime import timedelta
import time_machine
from django.utils import timezone
from apps.accounts.models import IntegrationClient, User
from apps.conversations.services import post_reply, receive_inbound_message
from apps.organizations.models import Contact, Organization, PreferentialRule
from apps.routing import services as routing
from apps.teams.models import Membership, Team

def person(username, name, **extra):
    return User.objects.create_user(username, password="secret-pass-1", name=name, **extra)

ana = person("ana", "Ana Souza")
beto = person("beto", "Beto Lima")
dani = person("dani", "Dani Rocha")
eva = person("eva", "Eva Prado", presence="away")
chefe = person("chefe", "Chefe Martins", role="supervisor")
root = person("root", "Root", role="admin", is_staff=True, is_superuser=True)
vendas = Team.objects.create(name="Vendas")
fila = Team.objects.create(name="Fila longa")
suporte = Team.objects.create(name="Suporte", distribution_mode="capacity")
financeiro = Team.objects.create(name="Financeiro")
for team, members in ((vendas, (ana, beto)), (fila, (ana, beto)), (suporte, (dani,)),
                      (financeiro, (eva,))):
    for member in members:
        Membership.objects.create(team=team, agent=member)
globex = Organization.objects.create(name="Globex")
brasil = Organization.objects.create(name="Globex Brasil", parent=globex)
compras = Organization.objects.create(name="Compras", parent=brasil, kind="department")
PreferentialRule.objects.create(organization=globex, agent=beto, type="queue")
bot = IntegrationClient(name="WhatsApp")
token = IntegrationClient.new_token()
bot.set_token(token)
bot.save()

# A thread that spans two days, assigned to Ana.
two_days_ago = timezone.now() - timedelta(days=2)
with time_machine.travel(two_days_ago, tick=False):
    old, _m, _c = receive_inbound_message(
        external_id="wa:5511900000001", body="Bom dia, meu pedido atrasou",
        contact_details={"name": "Olga Antiga", "email": "olga@globex.example"},
        organization=compras, team=vendas, channel="whatsapp")
    routing.claim_conversation(conversation_id=old.pk, agent=ana)
    post_reply(conversation_id=old.pk, author=ana, body="Vou verificar, Olga.")
receive_inbound_message(external_id="wa:5511900000001", body="Alguma novidade?")

# A long thread: 150 messages, the first one "m000".
with time_machine.travel(timezone.now() - timedelta(hours=3), tick=True):
    long, _m, _c = receive_inbound_message(
        external_id="wa:5511900000002", body="m000", contact_details={"name": "Lia Longa"},
        team=vendas, channel="webchat")
    routing.claim_conversation(conversation_id=long.pk, agent=ana)
    for n in range(1, 150):
        post_reply(conversation_id=long.pk, author=ana, body=f"m{n:03d}")

print(json.dumps({
    "token": token, "teams": {t.name: t.pk for t in Team.objects.all()},
    "people": {u.username: u.pk for u in User.objects.all()},
    "organizations": {o.name: o.pk for o in Organization.objects.all()},
    "old": old.pk, "long": long.pk,
}))
"""


@dataclass
class Site:
    base: str
    token: str
    teams: dict
    people: dict
    organizations: dict
    old: int
    long: int

    @functools.cached_property
    def http(self) -> httpx.Client:
        """One client for the test's calls (a client per call builds a TLS context each
        time: seconds under load, for a plain-HTTP server)."""
        return httpx.Client()

    def inbound(self, external_id, body, *, name=None, team=None, channel="whatsapp",
                organization=None):
        contact = {"external_id": external_id}
        if name:
            contact["name"] = name
        if organization:
            contact["organization"] = organization
        payload = {"contact": contact, "body": body, "channel": channel}
        if team:
            payload["team"] = self.teams[team]
        answer = self.http.post(f"{self.base}/api/v1/inbound", json=payload, timeout=10,
                                headers={"Authorization": f"Token {self.token}"})
        assert answer.status_code in (200, 201), answer.text
        return answer.json()

    def api(self, method, path, username="root", **kwargs):
        token = self.http.post(f"{self.base}/api/v1/auth/token", timeout=10,
                               json={"username": username, "password": PASSWORD}).json()["token"]
        return self.http.request(method, f"{self.base}/api/v1/{path}", timeout=10,
                                 headers={"Authorization": f"Token {token}"}, **kwargs)


def require_chromium():
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")


def prepare(tmp: Path) -> tuple[dict, dict]:
    env = server_env(
        DATABASE_URL=None, REDIS_URL=None, SQLITE_PATH=tmp / "workday.sqlite3",
        COUNTS_COALESCE_SECONDS="0.1", PRESENCE_GRACE_SECONDS="2",
    )
    manage("migrate", "--noinput", env=env)
    seeded = json.loads(manage("shell", env=env, input_text=SEED).strip().splitlines()[-1])
    return env, seeded


@contextlib.contextmanager
def serving(env: dict, port: int, log: Path):
    """uvicorn on ``port`` until the block ends (a test may stop and start it again on the
    same port, as a restart does)."""
    with open(log, "a") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning", "--lifespan", "off"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"uvicorn exited with {process.returncode} (log: {log})")
                with contextlib.suppress(OSError), socket.create_connection(
                    ("127.0.0.1", port), 0.5
                ):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("uvicorn did not start listening within 60 s")
                time.sleep(0.1)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def site_fixture(tmp: Path):
    """(env, port, Site) for a freshly seeded server (the caller starts it)."""
    require_chromium()
    env, seeded = prepare(tmp)
    port = free_port()
    return env, port, Site(base=f"http://127.0.0.1:{port}", **seeded)


def new_page(browser, size: str, lang: str):
    context = browser.new_context(locale=lang, viewport=SIZES[size])
    page = context.new_page()
    page.set_default_timeout(10000)
    return page


def log_in(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.get_by_test_id("username").fill(username)
    page.get_by_test_id("password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("logout")).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")  # the script runs


def words(lang: str, portuguese: str, english: str) -> str:
    return portuguese if lang.startswith("pt") else english


def open_queue(page, size, testid):
    """Choose a queue; on a phone the queues are a view of their own."""
    if size == "phone" and not page.get_by_test_id(testid).is_visible():
        page.get_by_test_id("list-title").locator("..").get_by_role("button").click()
    page.get_by_test_id(testid).click()


def in_viewport(page, locator) -> bool:
    """Wholly inside the window (to a pixel: layout boxes have fractional sizes)."""
    box = locator.bounding_box()
    size = page.viewport_size
    return bool(box) and box["y"] >= -1 and box["y"] + box["height"] <= size["height"] + 1 \
        and box["x"] >= -1 and box["x"] + box["width"] <= size["width"] + 1
