"""Backlog distribution on a real Celery worker (Redis broker, PostgreSQL), and its faults."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from apps.accounts.models import Presence, User
from apps.conversations.models import Conversation, Status
from apps.routing.invariants import check_invariants
from apps.routing.services import set_presence
from apps.routing.tasks import distribute_team
from apps.teams.models import DistributionMode
from config.celery import app as celery_app
from tests.factories import TeamFactory, UserFactory, queued_backlog
from tests.helpers import wait_until

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.worker]


@pytest.fixture
def broker():
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL for a real broker (CI sets it)")
    celery_app.conf.task_always_eager = False
    with celery_app.connection_for_write() as conn:
        conn.default_channel.client.flushdb()  # nothing left over from another run
    yield
    celery_app.conf.task_always_eager = True


def start_worker(*, visibility_timeout: int = 3600) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_VISIBILITY_TIMEOUT": str(visibility_timeout),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency=1",
         "--loglevel=WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()



def test_backlog_is_assigned_by_the_worker_when_an_agent_comes_online(broker):
    agent = UserFactory(capacity=3)
    team = TeamFactory(distribution_mode=DistributionMode.CAPACITY, agents=[agent])
    queued_backlog(team, 5)
    worker = start_worker()
    try:
        set_presence(agent=agent, status=Presence.ONLINE)  # enqueues after commit
        assert wait_until(
            lambda: Conversation.objects.filter(assignee=agent).count() == 3
        ), worker.stderr.read1().decode() if worker.poll() is not None else "worker too slow"
    finally:
        stop(worker)
    assert Conversation.objects.filter(status=Status.QUEUED).count() == 2
    assert check_invariants() == []


def _advisory_lock_held() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND database"
            " = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        return cursor.fetchone()[0] > 0


def _slow_down_inserts_of_events():
    """Make the distribution's transaction last long enough to be killed in the middle."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE OR REPLACE FUNCTION atende_test_slow() RETURNS trigger AS $$
            BEGIN PERFORM pg_sleep(0.002); RETURN NEW; END $$ LANGUAGE plpgsql;
            CREATE TRIGGER atende_test_slow BEFORE INSERT ON conversations_conversationevent
            FOR EACH ROW EXECUTE FUNCTION atende_test_slow();
            """
        )


def _remove_slow_down():
    with connection.cursor() as cursor:
        cursor.execute(
            "DROP TRIGGER IF EXISTS atende_test_slow ON conversations_conversationevent;"
            "DROP FUNCTION IF EXISTS atende_test_slow();"
        )


@pytest.mark.parametrize("kill", ["pool child", "whole worker"])
def test_a_worker_killed_mid_distribution_loses_nothing_and_double_assigns_nothing(
    broker, kill
):
    agents = [UserFactory(capacity=40, presence=Presence.ONLINE) for _ in range(25)]
    team = TeamFactory(distribution_mode=DistributionMode.CAPACITY, agents=agents)
    queued_backlog(team, 1200)
    _slow_down_inserts_of_events()
    worker = start_worker(visibility_timeout=3)
    try:
        distribute_team.delay(team.pk)
        assert wait_until(_advisory_lock_held), "the distribution never started"
        time.sleep(0.3)  # well inside its transaction
        if kill == "pool child":
            children = subprocess.run(
                ["pgrep", "-P", str(worker.pid)], capture_output=True, text=True
            ).stdout.split()
            assert children, "no pool process found"
            for pid in children:
                os.kill(int(pid), signal.SIGKILL)
        else:
            subprocess.run(["pkill", "-KILL", "-P", str(worker.pid)], check=False)
            worker.kill()
            worker.wait()
        assert Conversation.objects.filter(status=Status.ASSIGNED).count() == 0  # rolled back
        _remove_slow_down()
        if kill == "whole worker":
            # Its message stays unacknowledged in Redis; a new worker restores it once the
            # visibility timeout has passed.
            time.sleep(4)
            worker = start_worker(visibility_timeout=3)
        assert wait_until(
            lambda: Conversation.objects.filter(status=Status.ASSIGNED).count() == 1000,
            within=90,
        ), "the distribution did not run again"
    finally:
        stop(worker)
        _remove_slow_down()
    assert Conversation.objects.count() == 1200
    assert Conversation.objects.filter(status=Status.QUEUED).count() == 200
    assert set(
        User.objects.filter(pk__in=[a.pk for a in agents]).values_list("open_count", flat=True)
    ) == {40}
    assert check_invariants() == []
