"""Intake through a Redis outage (issue 18 item 4): Redis holds nothing intake needs, so a
server whose Redis stops keeps taking conversations and routing them. The test runs a
Redis of its own (started and stopped here) under a real ASGI server on PostgreSQL.

It needs PostgreSQL (production mode: CI sets DATABASE_URL and REDIS_URL); every wait is
bounded and every process it starts is stopped, however the test ends.
"""

import contextlib
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest
from django.conf import settings
from django.test import override_settings

from apps.conversations.models import Conversation, Status
from apps.teams import config_cache
from apps.teams.models import DistributionMode, RoutingSettings
from tests.factories import AgentFactory, IntegrationFactory, TeamFactory
from tests.inbox.servers import ROOT, free_port, server_env, uvicorn
from tests.inbox.test_multiprocess import database_url
from tests.inbox.test_server_faults import private_redis

OUTAGE_SECONDS = 4.0


def wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 10
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        assert time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.05)


def post_inbound(client: httpx.Client, base: str, bot, external_id: str) -> httpx.Response:
    # No team: the default team comes from the routing configuration (the cached one).
    return client.post(
        f"{base}/inbound", headers={"Authorization": f"Token {bot.raw_token}"},
        json={"contact": {"external_id": external_id, "name": external_id}, "body": "Oi"},
    )


def restart(redis_url: str) -> subprocess.Popen:
    port = redis_url.rsplit(":", 1)[1].split("/")[0]
    return subprocess.Popen(
        ["redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_inbound_answers_and_routes_while_redis_is_down(tmp_path):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL: production mode (CI sets it)")
    agent = AgentFactory(username="ana", capacity=500)
    team = TeamFactory(name="Suporte", agents=[agent],
                       distribution_mode=DistributionMode.CAPACITY)
    RoutingSettings.objects.update_or_create(
        id=RoutingSettings.SINGLETON_ID, defaults={"default_team": team}
    )
    bot = IntegrationFactory()
    answers: list[tuple[str, int, str]] = []  # (phase, status, body)
    phase = {"now": "before"}
    stop = threading.Event()
    restarted = None

    with private_redis() as (redis_url, redis_process):
        env = server_env(DATABASE_URL=database_url(), REDIS_URL=redis_url)
        with uvicorn(env, log_path=tmp_path / "uvicorn.log") as address:
            base = f"http://{address}/api/v1"

            def traffic():
                with httpx.Client(timeout=30) as client:
                    n = 0
                    while not stop.is_set():
                        n += 1
                        response = post_inbound(client, base, bot, f"outage-{n}")
                        answers.append((phase["now"], response.status_code, response.text))
                        time.sleep(0.05)

            sender = threading.Thread(target=traffic)
            sender.start()
            try:
                time.sleep(1.0)
                phase["now"] = "during"
                redis_process.terminate()
                redis_process.wait(timeout=10)
                time.sleep(OUTAGE_SECONDS)
                restarted = restart(redis_url)
                time.sleep(1.5)
                phase["now"] = "after"
                time.sleep(1.0)
            finally:
                stop.set()
                sender.join(timeout=60)
                if restarted is not None:
                    restarted.terminate()
                    restarted.wait(timeout=10)

    during = [a for a in answers if a[0] == "during"]
    assert len(during) >= 5, answers
    assert [a for a in answers if a[1] != 201] == []
    # The live updates that could not go out are told once in a while, in a line, not as
    # a traceback per request.
    log = (tmp_path / "uvicorn.log").read_text()
    assert "Traceback" not in log, log[:3000]
    assert "could not reach a backing service" in log
    assert [a for a in answers if a[0] == "after"], "no traffic after Redis came back"
    # Every conversation opened was routed: the default team took it and gave it to Ana.
    opened = Conversation.objects.filter(contact__external_id__startswith="outage-")
    assert opened.count() == len(answers)
    assert set(opened.values_list("status", "team", "assignee")) == {
        (Status.ASSIGNED, team.pk, agent.pk)
    }


READER = """
import sys
from apps.teams import config_cache
for _line in sys.stdin:
    team = config_cache.default_team()
    print("default:", team.name if team else "-", flush=True)
"""


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_change_made_while_redis_is_down_reaches_the_other_processes(tmp_path):
    """A process that kept the configuration before the outage and asked nothing during it
    reads the change made meanwhile once Redis is back (with the data it had: a restart
    that kept its keys)."""
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL: production mode (CI sets it)")
    sales, support = TeamFactory(name="Vendas"), TeamFactory(name="Suporte")
    RoutingSettings.objects.update_or_create(
        id=RoutingSettings.SINGLETON_ID, defaults={"default_team": sales}
    )
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir",
               str(tmp_path), "--dbfilename", "dump.rdb", "--save", "", "--appendonly", "no"]
    redis_url = f"redis://127.0.0.1:{port}/0"
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    reader = None
    private_cache = None
    try:
        wait_for_port(port)
        private_cache = override_settings(CACHES={"default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}})
        private_cache.enable()
        env = server_env(DATABASE_URL=database_url(), REDIS_URL=redis_url)
        reader = subprocess.Popen(
            [sys.executable, "manage.py", "shell", "-c", READER], cwd=ROOT, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True,
        )

        def read_default() -> str:
            reader.stdin.write("\n")
            reader.stdin.flush()
            while not (line := reader.stdout.readline()).startswith("default:"):
                assert line, "the reader process stopped"
            return line.removeprefix("default:").strip()

        assert read_default() == "Vendas"  # kept, under the version of the moment
        # Redis goes away (keeping its data) while an administrator changes the default.
        subprocess.run(["redis-cli", "-p", str(port), "shutdown", "save"], timeout=10,
                       capture_output=True)
        server.wait(timeout=10)
        routing_settings = RoutingSettings.objects.get()
        routing_settings.default_team = support
        routing_settings.save()  # the change's announcements fail: owed
        assert config_cache.default_team().name == "Suporte"  # from the database meanwhile
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        wait_for_port(port)
        time.sleep(config_cache.RETRY_CACHE_SECONDS + 0.5)
        assert config_cache.default_team().name == "Suporte"  # Redis again: the bump paid
        assert read_default() == "Suporte"
    finally:
        if private_cache is not None:
            private_cache.disable()
        if reader is not None:
            reader.stdin.close()
            reader.terminate()
            reader.wait(timeout=10)
        server.terminate()
        server.wait(timeout=10)
