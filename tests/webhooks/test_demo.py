"""The demo: seed_demo points its integration at the demo receiver, and `manage.py
webhook_receiver` prints what an agent's reply looks like when it leaves Atende."""

import os
import selectors
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from django.core.management import call_command

from apps.accounts.models import IntegrationClient
from apps.conversations.models import Conversation, Status
from apps.conversations.services import post_reply
from apps.demo.management.commands.seed_demo import (
    DEMO_INTEGRATION,
    DEMO_WEBHOOK_SECRET,
    DEMO_WEBHOOK_URL,
)
from apps.webhooks import crypto
from apps.webhooks import delivery as sending
from apps.webhooks.models import Delivery, DeliveryStatus
from apps.webhooks.signing import sign

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ReceiverProcess:
    def __init__(self, port: int):
        self.port = port
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "webhook_receiver", "--port", str(port)],
            cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self._lines = selectors.DefaultSelector()
        self._lines.register(self.process.stdout, selectors.EVENT_READ)

    def line(self, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._lines.select(timeout=0.2):
                line = self.process.stdout.readline()
                if line:
                    return line.strip()
            if self.process.poll() is not None:
                break
        raise AssertionError(f"the receiver printed nothing (exit {self.process.poll()})")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def demo_receiver():
    process = ReceiverProcess(free_port())
    try:
        started = process.line()
        assert "Listening on" in started and 'switched off: tick "active"' in started
        yield process
    finally:
        process.stop()


@pytest.fixture(autouse=True)
def _embedded_demo(settings):
    """The demo is seeded in embedded mode (in production mode it needs --force)."""
    settings.EMBEDDED = True


def test_seed_demo_points_its_integration_at_the_demo_receiver_switched_off(
    allow_private, capsys
):
    """Nothing listens on the demo receiver's port until someone starts it: the webhook is
    set up but off, so the demo integration does not look broken from the first minute."""
    call_command("seed_demo")
    bot = IntegrationClient.objects.get(name=DEMO_INTEGRATION)
    assert bot.webhook_url == DEMO_WEBHOOK_URL and not bot.active
    assert crypto.decrypt(bot.webhook_secret) == DEMO_WEBHOOK_SECRET
    out = capsys.readouterr().out
    assert ".venv/bin/python manage.py webhook_receiver --port 8001" in out
    assert 'tick "active" on Demo WhatsApp connector' in out
    assert Delivery.objects.count() == 0  # the demo's own history is not sent
    assert Conversation.objects.filter(integration=bot).exists()
    # An administrator's change survives seeding again.
    IntegrationClient.objects.filter(pk=bot.pk).update(webhook_url="")
    call_command("seed_demo")
    assert IntegrationClient.objects.get(pk=bot.pk).webhook_url == ""


def test_an_agents_reply_in_the_demo_is_printed_by_the_receiver(allow_private, demo_receiver):
    call_command("seed_demo")
    bot = IntegrationClient.objects.get(name=DEMO_INTEGRATION)
    IntegrationClient.objects.filter(pk=bot.pk).update(
        webhook_url=f"http://127.0.0.1:{demo_receiver.port}/atende", active=True
    )
    conversation = Conversation.objects.filter(integration=bot, status=Status.ASSIGNED).first()
    post_reply(conversation_id=conversation.pk, author=conversation.assignee,
               body="Seu pedido já saiu para entrega!")
    sending.run_deliveries(integration_id=bot.pk)
    line = demo_receiver.line()
    assert "message.created" in line and f"conversation #{conversation.pk}" in line
    assert f'{conversation.assignee.display_name} replied: "Seu pedido já saiu' in line
    assert "signed" in line
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED


def test_the_demo_receiver_refuses_a_wrong_signature(demo_receiver):
    url = f"http://127.0.0.1:{demo_receiver.port}/atende"
    body = b'{"id": "x", "type": "ping", "conversation": null, "integration": {"name": "Me"}}'
    wrong = httpx.post(url, content=body, headers={"X-Atende-Signature": sign(body, "nope")})
    assert wrong.status_code == 401
    assert "signature does not match" in demo_receiver.line()
    right = httpx.post(url, content=body,
                       headers={"X-Atende-Signature": sign(body, DEMO_WEBHOOK_SECRET)})
    assert right.status_code == 200
    assert "test event from Me" in demo_receiver.line()
