"""Deliveries by real Celery workers (PostgreSQL, Redis), and their faults: a hanging
receiver, Redis gone during a reply, a worker killed mid-delivery, concurrent claims."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

from apps.accounts.services import issue_person_token
from apps.conversations.services import post_reply
from apps.routing import services as routing
from apps.webhooks import delivery as sending
from apps.webhooks.models import Delivery, DeliveryStatus
from config.celery import app as celery_app
from tests.factories import AgentFactory, TeamFactory
from tests.helpers import arrive, wait_until
from tests.inbox.servers import server_env, uvicorn

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.worker]

FAST = {  # small timings, so that leases and sweeps happen within a test's patience
    "WEBHOOK_TIMEOUT_SECONDS": "3",
    "WEBHOOK_BATCH_SIZE": "1",
    "WEBHOOK_RUN_SECONDS": "2",
    "WEBHOOK_SWEEP_SECONDS": "1",
    "CELERY_VISIBILITY_TIMEOUT": "3",
}


def database_url() -> str:
    db = connection.settings_dict
    return (f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}")


def worker_env(redis_url: str, **extra) -> dict:
    return server_env(**{
        "DATABASE_URL": database_url(), "REDIS_URL": redis_url, "WEBHOOK_ALLOW_PRIVATE": "1",
        "SECRET_KEY": settings.SECRET_KEY, **FAST, **extra,
    })


class Worker:
    """``celery -A config worker`` (both queues) with its beat, as a subprocess."""

    def __init__(self, env: dict, tmp: Path):
        self.log = open(tmp / f"worker-{time.monotonic_ns()}.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-B",
             "-s", str(tmp / "beat-schedule"), "--concurrency=1", "--loglevel=WARNING",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        subprocess.run(["pkill", "-KILL", "-P", str(self.process.pid)], check=False)
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


@pytest.fixture
def broker(allow_private):
    """The shared Redis (REDIS_URL) as the broker of this process and of the workers."""
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL for a real broker (CI sets it)")
    celery_app.conf.task_always_eager = False
    with celery_app.connection_for_write() as conn:
        conn.default_channel.client.flushdb()  # nothing left over from another run
    yield settings.REDIS_URL
    celery_app.conf.task_always_eager = True


@pytest.fixture
def workers(tmp_path):
    started = []

    def start(redis_url: str, **env) -> Worker:
        worker = Worker(worker_env(redis_url, **env), tmp_path)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()



def test_a_worker_delivers_a_conversations_story_in_order_and_retries(
        broker, workers, receiver, hooked):
    ana, bruno = AgentFactory(name="Ana"), AgentFactory(name="Bruno")
    sales = TeamFactory(agents=[ana])
    bot = hooked(receiver.url)
    receiver.script.statuses = [500]  # the first attempt fails: the worker retries it
    workers(broker)
    conversation = arrive(team=sales, actor=bot)
    routing.claim_conversation(conversation_id=conversation.pk, agent=ana)
    post_reply(conversation_id=conversation.pk, author=ana, body="Olá!")
    routing.transfer_conversation(conversation_id=conversation.pk, actor=ana,
                                  agent_id=bruno.pk)
    routing.close_conversation(conversation_id=conversation.pk, actor=bruno)
    assert receiver.wait_for(6, timeout=60), [r.event["type"] for r in receiver.received]
    got = receiver.received
    assert [r.event["type"] for r in got] == [
        "conversation.queued", "conversation.queued", "conversation.assigned",
        "message.created", "conversation.transferred", "conversation.closed",
    ]
    assert got[0].delivery_id == got[1].delivery_id  # the retry: same id
    assert all(r.signed_with(bot.secret) for r in got)
    assert wait_until(lambda: not Delivery.objects.exclude(
        status=DeliveryStatus.DELIVERED).exists(), within=10)
    time.sleep(2)  # a sweep or two later: nothing is sent again
    assert len(receiver.received) == 6


def test_a_hanging_receiver_does_not_hold_up_the_reply_request(
        broker, workers, receiver, hooked):
    receiver.script.hold = threading.Event()
    agent = AgentFactory()
    token = issue_person_token(user=agent)
    bot = hooked(receiver.url)
    workers(broker, WEBHOOK_TIMEOUT_SECONDS="60")  # the worker waits as long as we do
    conversation = arrive(team=TeamFactory(agents=[agent]), actor=bot)
    routing.claim_conversation(conversation_id=conversation.pk, agent=agent)
    assert receiver.wait_for(1), "the worker never sent the first event"  # it hangs there
    with uvicorn(server_env(DATABASE_URL=database_url(), REDIS_URL=broker,
                            SECRET_KEY=settings.SECRET_KEY)) as address:
        reply = httpx.post(
            f"http://{address}/api/v1/conversations/{conversation.pk}/messages",
            json={"body": "Estou aqui"}, headers={"Authorization": f"Token {token}"},
            timeout=30,
        )
    assert reply.status_code == 201
    assert not receiver.script.hold.is_set() and len(receiver.received) == 1  # still hanging
    receiver.script.hold.set()
    assert receiver.wait_for(3, timeout=60)
    assert [r.event["type"] for r in receiver.received] == [
        "conversation.queued", "conversation.assigned", "message.created"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateRedis:
    """A redis-server of this test's own (the shared one is never stopped)."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        assert wait_until(self._answers, within=20), "redis-server did not start"

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


@pytest.fixture
def private_redis():
    redis = PrivateRedis()
    redis.start()
    yield redis
    redis.stop()


def test_redis_down_during_a_reply_delays_the_event_and_loses_nothing(
        allow_private, private_redis, workers, receiver, hooked):
    agent = AgentFactory()
    token = issue_person_token(user=agent)
    team = TeamFactory(agents=[agent])
    bot = hooked(receiver.url)
    workers(private_redis.url)
    env = server_env(DATABASE_URL=database_url(), REDIS_URL=private_redis.url,
                     SECRET_KEY=settings.SECRET_KEY)
    with uvicorn(env) as address:
        api = httpx.Client(base_url=f"http://{address}/api/v1/", timeout=30)
        inbound = api.post("inbound", json={"contact": {"external_id": "wa:redis"},
                                            "body": "Oi", "team": team.pk},
                           headers={"Authorization": f"Token {bot.raw_token}"})
        assert inbound.status_code == 201
        conversation_id = inbound.json()["id"]
        person = {"Authorization": f"Token {token}"}
        assert api.post(f"conversations/{conversation_id}/claim", headers=person
                        ).status_code == 200
        assert receiver.wait_for(2, timeout=60), "the worker never sent the first events"
        assert wait_until(lambda: Delivery.objects.filter(
            status=DeliveryStatus.DELIVERED).count() == 2, within=10)
        time.sleep(float(FAST["WEBHOOK_RUN_SECONDS"]) + 1)  # its run is over: the worker idles

        private_redis.stop()
        reply = api.post(f"conversations/{conversation_id}/messages",
                         json={"body": "Resposta durante a queda"}, headers=person)
        assert reply.status_code == 201
        (written,) = Delivery.objects.filter(type="message.created")
        assert written.status == DeliveryStatus.PENDING
        time.sleep(1)
        assert len(receiver.received) == 2  # nothing can carry it while Redis is down

        private_redis.start()
        assert receiver.wait_for(3, timeout=90), "the event was not sent after Redis returned"
    last = receiver.received[2]
    assert last.event["type"] == "message.created"
    assert last.event["message"]["body"] == "Resposta durante a queda"
    assert last.delivery_id == str(written.uuid) and last.signed_with(bot.secret)


@pytest.mark.parametrize("kill", ["pool child", "whole worker"])
def test_a_worker_killed_mid_delivery_sends_it_again_with_the_same_id(
        broker, workers, receiver, hooked, kill):
    receiver.script.hold = threading.Event()
    bot = hooked(receiver.url)
    worker = workers(broker)
    arrive(team=TeamFactory(), actor=bot)
    assert receiver.wait_for(1, timeout=60), "the worker never sent it"
    if kill == "pool child":
        children = subprocess.run(["pgrep", "-P", str(worker.process.pid)],
                                  capture_output=True, text=True).stdout.split()
        assert children, "no pool process found"
        for pid in children:
            os.kill(int(pid), signal.SIGKILL)
    else:
        worker.kill()
    receiver.script.hold.set()  # the answer goes to a dead socket
    claimed = Delivery.objects.get()
    assert claimed.status == DeliveryStatus.PENDING and claimed.lease_until is not None
    if kill == "whole worker":
        workers(broker)
    assert receiver.wait_for(2, timeout=90), "the event was not sent again"
    first, again = receiver.received
    assert first.delivery_id == again.delivery_id == str(claimed.uuid)
    assert again.signed_with(bot.secret)
    assert wait_until(lambda: Delivery.objects.get().status == DeliveryStatus.DELIVERED,
                      within=10)
    time.sleep(2)
    assert len(receiver.received) == 2
    assert Delivery.objects.get().attempts == 2


def test_concurrent_claims_never_take_a_delivery_twice(allow_private, hooked):
    bot = hooked("http://127.0.0.1:9/hooks")
    team = TeamFactory()
    for _ in range(60):
        arrive(team=team, actor=bot)
    # The first few were attempted (and failed) right after their commit, there being no
    # broker here: two hours on, every one of them is due.
    now = timezone.now() + timedelta(hours=2)
    taken: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(6)

    def claimer():
        try:
            start.wait(timeout=10)
            while batch := sending.claim(bot.pk, limit=4, now=now):
                with lock:
                    taken.extend(d.pk for d in batch)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claimer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(taken) == sorted(Delivery.objects.values_list("pk", flat=True))
    assert len(taken) == len(set(taken)) == 60
