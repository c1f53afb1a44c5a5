"""Waking a worker at a deadline: one wake-up per quarter second, never a countdown the
broker would redeliver in a loop, and the next deadline found for the chain."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from apps.conversations.models import Conversation, Status
from apps.organizations.models import RuleType
from apps.routing.services.time_rules import (
    WAKE_RESOLUTION,
    DeadlineKind,
    next_due,
    wake_ahead_seconds,
    wake_at,
)
from apps.teams.models import DistributionMode
from config.celery import app as celery_app
from tests.factories import AgentFactory, ContactFactory, RuleFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued_tasks():
    """Tasks go to the broker (nobody consumes them here) instead of running at once."""
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = True
    with celery_app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")


def quarter_after(moment, quarters: int):
    start = (int(moment.timestamp() / WAKE_RESOLUTION) + quarters) * WAKE_RESOLUTION
    return datetime.fromtimestamp(start, tz=UTC)


def test_deadlines_of_one_quarter_second_share_one_wake_up(queued_tasks):
    base = quarter_after(timezone.now(), 40)  # ten seconds ahead, on a quarter boundary
    assert wake_at(DeadlineKind.RESERVATION, base + timedelta(milliseconds=50))
    assert not wake_at(DeadlineKind.RESERVATION, base + timedelta(milliseconds=200))
    assert wake_at(DeadlineKind.REPLY, base + timedelta(milliseconds=200))  # another kind
    assert wake_at(DeadlineKind.RESERVATION, base + timedelta(milliseconds=300))


def test_no_countdown_longer_than_the_broker_keeps_it(queued_tasks, settings):
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 40}
    assert wake_ahead_seconds() == 10
    now = timezone.now()
    assert not wake_at(DeadlineKind.REPLY, now + timedelta(seconds=30))  # the sweep arms it
    assert wake_at(DeadlineKind.REPLY, now + timedelta(seconds=5))
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
    settings.DEADLINE_WAKE_AHEAD_SECONDS = 900
    assert not wake_at(DeadlineKind.REPLY, now + timedelta(seconds=1200))


def test_eager_mode_has_no_worker_to_wake():
    assert not wake_at(DeadlineKind.RESERVATION, timezone.now() + timedelta(seconds=5))


def test_the_next_deadline_of_each_kind(arrive):
    now = timezone.now()
    assert next_due(DeadlineKind.RESERVATION, now=now) is None
    diego = AgentFactory(capacity=0)
    team = TeamFactory(distribution_mode=DistributionMode.CAPACITY)
    for seconds in (120, 60):
        contact = ContactFactory()
        RuleFactory(contact=contact, agent=diego, type=RuleType.AUTO, max_wait_seconds=seconds)
        arrive(contact=contact, team=team)
    soonest = Conversation.objects.filter(status=Status.RESERVED).order_by(
        "reserved_until").first().reserved_until
    assert next_due(DeadlineKind.RESERVATION, now=now) == soonest
    assert next_due(DeadlineKind.RESERVATION, now=soonest) > soonest  # strictly ahead
    assert next_due(DeadlineKind.OFFLINE, now=now) is None
