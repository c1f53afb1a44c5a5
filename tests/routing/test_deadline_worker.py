"""Deadlines acted on by real processes on PostgreSQL and Redis: a worker's countdown at the
moment, the sweep (celery beat) when the worker holding the countdown was killed, and a
worker's run and a sweep at once acting on each deadline exactly once."""

import os
import subprocess
import sys
import threading
from collections import Counter
from datetime import timedelta

import psycopg
import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.conversations.models import Conversation, ConversationEvent, EventKind, Status
from apps.organizations.models import RuleType
from apps.routing.invariants import check_invariants
from apps.routing.services import act_on_due, sweep_deadlines
from apps.routing.services.time_rules import DeadlineKind
from apps.teams.models import DistributionMode
from config.celery import app as celery_app
from tests.factories import AgentFactory, ContactFactory, RuleFactory, TeamFactory
from tests.helpers import arrive, wait_until
from tests.routing.test_worker import ROOT, broker, stop  # noqa: F401 - fixture

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def start_worker(*, beat: bool = False, tmp_path=None) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_VISIBILITY_TIMEOUT": "3600",  # a lost countdown is not redelivered here
        "DISTRIBUTION_SWEEP_SECONDS": "1",
    }
    args = [sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency=1",
            "--loglevel=WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    if beat:
        args += ["--beat", f"--schedule={tmp_path / 'beat-schedule'}"]
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def kill_whole(worker: subprocess.Popen) -> None:
    subprocess.run(["pkill", "-KILL", "-P", str(worker.pid)], check=False)
    worker.kill()
    worker.wait()


def reserved_for_a_busy_agent(seconds: int) -> Conversation:
    diego = AgentFactory(name="Diego", capacity=0)
    ana = AgentFactory(name="Ana")
    team = TeamFactory(distribution_mode=DistributionMode.CAPACITY, agents=[ana])
    contact = ContactFactory()
    RuleFactory(contact=contact, agent=diego, type=RuleType.AUTO, max_wait_seconds=seconds)
    conversation = arrive(contact=contact, team=team)  # arms a countdown after commit
    assert conversation.status == Status.RESERVED
    return conversation


def released(conversation) -> bool:
    return Conversation.objects.get(pk=conversation.pk).status != Status.RESERVED


def broker_holds_countdowns() -> bool:
    with celery_app.connection_for_write() as conn:
        client = conn.default_channel.client
        return client.llen("celery") == 0 and client.hlen("unacked") >= 1


@pytest.mark.worker
@pytest.mark.usefixtures("broker")
def test_a_workers_countdown_acts_at_the_deadline():
    worker = start_worker()
    try:
        conversation = reserved_for_a_busy_agent(2)
        # No beat runs: only the countdown armed on commit can release it.
        assert wait_until(lambda: released(conversation), within=30), (
            worker.stderr.read1().decode() if worker.poll() is not None else "not released"
        )
    finally:
        stop(worker)
    event = ConversationEvent.objects.get(conversation=conversation, kind=EventKind.RELEASED)
    assert event.at >= conversation.reserved_until  # never before its time
    assert Conversation.objects.get(pk=conversation.pk).status == Status.ASSIGNED
    assert check_invariants() == []


@pytest.mark.worker
@pytest.mark.usefixtures("broker")
def test_with_the_worker_killed_the_sweep_acts_once(tmp_path):
    worker = start_worker()
    try:
        conversation = reserved_for_a_busy_agent(4)
        assert wait_until(broker_holds_countdowns, within=30), "the worker took no countdown"
        kill_whole(worker)  # its countdown dies with it, unacknowledged
        assert wait_until(lambda: timezone.now() > conversation.reserved_until, within=10)
        assert not released(conversation)
        worker = start_worker(beat=True, tmp_path=tmp_path)
        assert wait_until(lambda: released(conversation), within=60), (
            worker.stderr.read1().decode() if worker.poll() is not None else "not released"
        )
    finally:
        stop(worker)
    assert ConversationEvent.objects.filter(
        conversation=conversation, kind=EventKind.RELEASED
    ).count() == 1
    assert check_invariants() == []


def _run_at_once(actions) -> None:
    barrier = threading.Barrier(len(actions))
    errors = []

    def run(action):
        try:
            barrier.wait(timeout=10)
            action()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(a,)) for a in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert not any(t.is_alive() for t in threads)


def test_a_workers_run_and_the_sweep_at_once_release_each_reservation_once():
    diego = AgentFactory(capacity=0)
    agents = [AgentFactory(capacity=30) for _ in range(5)]
    team = TeamFactory(distribution_mode=DistributionMode.CAPACITY, agents=agents)
    contacts = [ContactFactory() for _ in range(240)]
    for contact in contacts:
        RuleFactory(contact=contact, agent=diego, type=RuleType.AUTO, max_wait_seconds=60)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for contact in contacts:
            arrive(contact=contact, team=team)
    with time_machine.travel(start + timedelta(seconds=61)):
        _run_at_once([
            lambda: act_on_due(kind=DeadlineKind.RESERVATION),
            lambda: act_on_due(kind=DeadlineKind.RESERVATION),
            sweep_deadlines,
        ])
        per_conversation = Counter(
            ConversationEvent.objects.filter(kind=EventKind.RELEASED).values_list(
                "conversation_id", flat=True
            )
        )
        assert len(per_conversation) == 240 and set(per_conversation.values()) == {1}
        assert Conversation.objects.filter(status=Status.ASSIGNED).count() == 150
        assert Conversation.objects.filter(status=Status.QUEUED).count() == 90
        assert check_invariants() == []


def test_a_workers_run_and_the_sweep_at_once_hand_each_conversation_over_once():
    agents = [AgentFactory(capacity=40) for _ in range(6)]
    team = TeamFactory(distribution_mode=DistributionMode.CAPACITY, agents=agents)
    team.first_reply_seconds = 120
    team.save()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        conversations = [arrive(team=team) for _ in range(180)]
    first_holder = {c.pk: c.assignee_id for c in conversations}
    with time_machine.travel(start + timedelta(seconds=121)):
        _run_at_once([
            lambda: act_on_due(kind=DeadlineKind.REPLY),
            sweep_deadlines,
        ])
        handed = Counter(
            ConversationEvent.objects.filter(kind=EventKind.HANDED_OVER).values_list(
                "conversation_id", flat=True
            )
        )
        assert len(handed) == 180 and set(handed.values()) == {1}
        for conversation in Conversation.objects.all():
            assert conversation.status == Status.ASSIGNED
            assert conversation.assignee_id != first_holder[conversation.pk]
        assert check_invariants() == []


def test_a_killed_process_holding_due_rows_leaves_them_to_the_next_run():
    """A run that dies in the middle (its connection with it) rolls back: its rows are due
    again, and the next run acts on them, once. Meanwhile nobody waits for them."""
    conversation = reserved_for_a_busy_agent(60)
    db = connection.settings_dict
    holder = psycopg.connect(
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"] or "postgres",
        dbname=db["NAME"],
    )
    try:
        holder.execute(
            "SELECT id FROM conversations_conversation WHERE id = %s FOR UPDATE",
            [conversation.pk],
        )
        pid = holder.execute("SELECT pg_backend_pid()").fetchone()[0]
        with time_machine.travel(timezone.now() + timedelta(seconds=61)):
            assert act_on_due(kind=DeadlineKind.RESERVATION) == 0  # held: skipped, no wait
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])  # it dies
            assert wait_until(
                lambda: act_on_due(kind=DeadlineKind.RESERVATION) == 1, within=10
            )
            assert act_on_due(kind=DeadlineKind.RESERVATION) == 0
    finally:
        holder.close()
    assert ConversationEvent.objects.filter(kind=EventKind.RELEASED).count() == 1
