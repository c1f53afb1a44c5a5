"""When the time rules fall due (docs/time-rules.md), and waking a worker at that moment.

Every deadline is a column of the row it concerns, found through a partial index:
``Conversation.reserved_until`` (a reservation for a busy preferred agent ends),
``Conversation.reply_due_at`` (an automatic assignment without a reply is handed over) and
``User.offline_since`` (with the team's ``offline_requeue_seconds``: an absent agent's
conversations go back to the team). Whoever sets a deadline arms a wake-up after commit: a
Celery task with a countdown that acts on whatever of that kind is due by then
(``deadlines.act_on_due``). Wake-ups are shared per quarter second (the cache remembers
which are armed), and only armed when the countdown is well inside the broker's visibility
timeout; the periodic sweep acts on anything a lost wake-up missed and arms the next one.
"""

import logging
import math
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Min, TextChoices
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

from apps.accounts.models import Presence
from apps.conversations.models import Conversation, Status
from apps.teams import config_cache
from apps.teams.models import RoutingSettings, Team

logger = logging.getLogger(__name__)
WAKE_RESOLUTION = 0.25  # seconds: deadlines of one quarter second share one wake-up
WAKE_SLACK = 0.05  # wake just after the moment, never just before it
DEFAULT_PREFERRED_MAX_WAIT = RoutingSettings._meta.get_field("preferred_max_wait_seconds").default


class DeadlineKind(TextChoices):
    RESERVATION = "reservation"
    REPLY = "reply"
    OFFLINE = "offline"
    LADDER = "ladder"


def wake_ahead_seconds() -> float:
    """The longest countdown armed: a quarter of the visibility timeout (a Redis broker
    redelivers an unacknowledged countdown in a loop once it outlives that timeout), and at
    most DEADLINE_WAKE_AHEAD_SECONDS. Farther deadlines are armed by a later sweep."""
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
    return min(visibility / 4, settings.DEADLINE_WAKE_AHEAD_SECONDS)


# --------------------------------------------------------------------------- deadline values


def reservation_limit(rule) -> int | None:
    """Seconds a conversation may wait reserved for a busy preferred agent: the rule's own
    limit, else the routing settings' (None: no limit)."""
    if rule.max_wait_seconds is not None:
        return rule.max_wait_seconds
    return config_cache.preferred_max_wait_seconds(DEFAULT_PREFERRED_MAX_WAIT)


def reply_due(team: Team | None, assigned_at: datetime) -> datetime | None:
    """When an automatic assignment into ``team`` is handed over without a reply."""
    if team is None or not team.first_reply_seconds:
        return None
    return assigned_at + timedelta(seconds=team.first_reply_seconds)


# --------------------------------------------------------------------------- waking a worker


def expect(kind: str, due_at: datetime | None) -> None:
    """A deadline of ``kind`` was set for ``due_at`` in this transaction: once it commits,
    wake a worker at that moment."""
    if due_at is not None:
        transaction.on_commit(lambda: wake_at(kind, due_at))


def expect_offline(agent_id: int, since: datetime) -> None:
    """The agent went offline at ``since``: after commit, wake a worker when the first of
    their teams' offline limits passes."""
    transaction.on_commit(lambda: _wake_for_offline(agent_id, since))


def _wake_for_offline(agent_id: int, since: datetime) -> None:
    if _eager():
        return
    limits = (
        Team.objects.filter(
            offline_requeue_seconds__isnull=False,
            conversations__status=Status.ASSIGNED,
            conversations__assignee_id=agent_id,
        )
        .values_list("offline_requeue_seconds", flat=True)
        .distinct()
    )
    for seconds in set(limits):
        wake_at(DeadlineKind.OFFLINE, since + timedelta(seconds=seconds))


def _eager() -> bool:
    from config.celery import app

    return bool(app.conf.task_always_eager)


def wake_at(kind: str, due_at: datetime) -> bool:
    """Arm one wake-up for ``due_at`` unless one is armed for its quarter second already,
    or the countdown would be too long (the sweep arms it later). Returns whether armed.
    Eager mode (embedded, tests) has no worker to wait: nothing is armed there."""
    if _eager():
        return False
    bucket = math.ceil(due_at.timestamp() / WAKE_RESOLUTION) * WAKE_RESOLUTION
    delay = max(0.0, bucket - timezone.now().timestamp()) + WAKE_SLACK
    if delay > wake_ahead_seconds():
        return False
    key = f"atende:deadline-wake:{kind}:{bucket:.2f}"
    try:
        if not cache.add(key, 1, timeout=int(delay) + 120):
            return False
    except Exception:  # noqa: BLE001 - a cache outage only costs a duplicate wake-up
        pass
    from apps.routing.tasks import act_on_deadlines  # tasks import the services

    try:
        act_on_deadlines.apply_async(args=[kind], countdown=delay)
    except BrokerUnavailable:
        logger.warning("broker unavailable: the %s wake-up is left to the sweep", kind)
        return False
    return True


def next_due(kind: str, *, now: datetime) -> datetime | None:
    """The earliest deadline of ``kind`` still ahead of ``now``."""
    if kind == DeadlineKind.RESERVATION:
        return (
            Conversation.objects.filter(status=Status.RESERVED, reserved_until__gt=now)
            .order_by("reserved_until", "id")
            .values_list("reserved_until", flat=True)
            .first()
        )
    if kind == DeadlineKind.LADDER:
        return (
            Conversation.objects.filter(status=Status.QUEUED, next_step_at__gt=now)
            .order_by("next_step_at", "id")
            .values_list("next_step_at", flat=True)
            .first()
        )
    if kind == DeadlineKind.REPLY:
        return (
            Conversation.objects.filter(status=Status.ASSIGNED, reply_due_at__gt=now)
            .order_by("reply_due_at", "id")
            .values_list("reply_due_at", flat=True)
            .first()
        )
    limits = dict(
        Team.objects.filter(offline_requeue_seconds__isnull=False).values_list(
            "pk", "offline_requeue_seconds"
        )
    )
    if not limits:
        return None
    firsts = (
        Conversation.objects.filter(
            status=Status.ASSIGNED, team_id__in=list(limits),
            assignee__presence=Presence.OFFLINE,
            assignee__offline_since__gt=now - timedelta(seconds=max(limits.values())),
        )
        .values("team_id")
        .annotate(first=Min("assignee__offline_since"))
        .order_by()
    )
    ahead = [
        row["first"] + timedelta(seconds=limits[row["team_id"]]) for row in firsts
    ]
    return min((due for due in ahead if due > now), default=None)


def arm_next(kind: str, *, now: datetime | None = None) -> bool:
    """Arm the wake-up of the next deadline of ``kind`` (if within reach)."""
    due = next_due(kind, now=now or timezone.now())
    return wake_at(kind, due) if due is not None else False
