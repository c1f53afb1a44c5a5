"""Where a waiting customer stands (routing.md 8.5, docs/queue-estimate.md): their position
in the queue and an estimated wait, for the conversation object, the inbound answer and
``GET conversations/{id}/queue``.

Positions: 1 is next, oldest first (``queued_at``, then id), within a *line*: a team's
queue is one line, except that a conversation starred for an online member of the team is
in that agent's own line (distribution gives it to them first), so it neither counts ahead
of the others nor behind them. Waiting is one line. One window-function query gives the
positions of a whole list page.

Estimate (queued only; null in Waiting and when no member of the team is online): the
conversations that must be taken before this one (its position, less the free room of
online members in a ``capacity`` team, which takes them at once) divided by the team's
throughput: the larger of its recent pace (assignments in the last PACE_WINDOW) and what
its online members can handle (their capacity over the recent mean handle time). Two
aggregate queries per list, whatever the number of teams.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Greatest, RowNumber
from django.utils import timezone

from apps.accounts.models import Presence
from apps.conversations.eligible_waits import eligible_paces
from apps.conversations.models import Conversation, Status
from apps.conversations.requirements import attach_requirements
from apps.core.time import iso
from apps.teams import config_cache
from apps.teams.hours import state_of
from apps.teams.models import DistributionMode, Membership

PACE_WINDOW = timedelta(minutes=15)
MIN_HANDLE_SAMPLES = 5  # fewer closes in the window: DEFAULT_HANDLE_SECONDS
DEFAULT_HANDLE_SECONDS = 300.0
IN_QUEUE = (Status.QUEUED, Status.WAITING)


@dataclass(frozen=True)
class TeamPace:
    online: int  # online, active members
    slots: int  # their capacity
    free: int  # their free room
    assigned: int  # assignments into the team within PACE_WINDOW
    closed: int  # closes of assigned conversations within PACE_WINDOW
    handled_seconds: float  # the handle time of those closes, summed


def estimate_wait(position: int, pace: TeamPace | None, *, mode: str) -> int | None:
    """Seconds until the conversation at ``position`` is taken (None: nobody online)."""
    if pace is None or pace.online == 0:
        return None
    ahead = position - (pace.free if mode == DistributionMode.CAPACITY else 0)
    if ahead <= 0:
        return 0
    handle = (
        pace.handled_seconds / pace.closed
        if pace.closed >= MIN_HANDLE_SAMPLES and pace.handled_seconds > 0
        else DEFAULT_HANDLE_SECONDS
    )
    per_second = max(
        pace.assigned / PACE_WINDOW.total_seconds(), max(pace.slots, pace.online) / handle
    )
    return round(ahead / per_second)


def positions(conversations: list[Conversation]) -> dict[int, int]:
    """The position of each queued or waiting conversation of ``conversations`` in its
    line (one query)."""
    wanted = [c for c in conversations if c.status in IN_QUEUE]
    if not wanted:
        return {}
    team_ids = sorted({c.team_id for c in wanted if c.status == Status.QUEUED})
    scope = Q(pk__in=[])
    if team_ids:
        scope |= Q(status=Status.QUEUED, team_id__in=team_ids)
    if any(c.status == Status.WAITING for c in wanted):
        scope |= Q(status=Status.WAITING)
    starred_online = Q(
        status=Status.QUEUED, preferred_agent__presence=Presence.ONLINE,
        preferred_agent__is_active=True,
    ) & Exists(
        Membership.objects.filter(
            team_id=OuterRef("team_id"), agent_id=OuterRef("preferred_agent_id")
        )
    )
    ranked = (
        Conversation.objects.filter(scope)
        .annotate(
            line=Case(
                When(starred_online, then=F("preferred_agent_id")),
                default=Value(0),
                output_field=BigIntegerField(),
            )
        )
        .annotate(
            position=Window(
                RowNumber(),
                partition_by=[F("status"), F("team_id"), F("line")],
                order_by=[F("queued_at").asc(), F("id").asc()],
            )
        )
        .order_by()
        .values("id", "position")
    )
    sql, params = ranked.query.sql_with_params()
    ids = [c.pk for c in wanted]
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT ranked.id, ranked.position FROM ({sql}) ranked WHERE ranked.id IN ({marks})",
            [*params, *ids],
        )
        return dict(cursor.fetchall())


def team_paces(team_ids, *, now: datetime) -> dict[int, TeamPace]:
    """Each team's online room and recent pace (two queries for any number of teams)."""
    team_ids = sorted(set(team_ids))
    if not team_ids:
        return {}
    room = {
        row["team_id"]: row
        for row in Membership.objects.filter(
            team_id__in=team_ids, agent__presence=Presence.ONLINE, agent__is_active=True
        )
        .values("team_id")
        .annotate(
            online=Count("agent_id"),
            slots=Sum("agent__capacity"),
            free=Sum(Greatest(F("agent__capacity") - F("agent__open_count"), Value(0))),
        )
        .order_by()
    }
    cutoff = now - PACE_WINDOW
    closed_recently = Q(status=Status.CLOSED, closed_at__gte=cutoff, assigned_at__isnull=False)
    pace = {
        row["team_id"]: row
        for row in Conversation.objects.filter(team_id__in=team_ids)
        .filter(Q(assigned_at__gte=cutoff) | closed_recently)
        .values("team_id")
        .annotate(
            assigned=Count("id", filter=Q(assigned_at__gte=cutoff)),
            closed=Count("id", filter=closed_recently),
            handled=Sum(
                ExpressionWrapper(F("closed_at") - F("assigned_at"), output_field=DurationField()),
                filter=closed_recently,
            ),
        )
        .order_by()
    }
    paces = {}
    for team_id in team_ids:
        r, p = room.get(team_id, {}), pace.get(team_id, {})
        handled = p.get("handled")
        paces[team_id] = TeamPace(
            online=r.get("online", 0),
            slots=r.get("slots") or 0,
            free=r.get("free") or 0,
            assigned=p.get("assigned", 0),
            closed=p.get("closed", 0),
            handled_seconds=handled.total_seconds() if handled else 0.0,
        )
    return paces


def attach_queue_info(conversations, *, now: datetime | None = None) -> None:
    """Set ``queue_info`` on each conversation: ``{"position", "estimated_wait_seconds"}``
    for queued and waiting ones, None for the others. Three queries for a whole list
    (none when nothing in it waits). Expects ``team`` selected."""
    conversations = list(conversations)
    attach_requirements(conversations)
    for conversation in conversations:
        conversation.queue_info = None
    found = positions(conversations)
    if not found:
        return
    paces = team_paces(
        (c.team_id for c in conversations if c.status == Status.QUEUED),
        now=now or timezone.now(),
    )
    eligible = eligible_paces(
        [c for c in conversations if c.status == Status.QUEUED and c.pk in found], paces
    )
    for conversation in conversations:
        if conversation.pk not in found:
            continue
        estimate, pace = None, paces.get(conversation.team_id)
        if conversation.pk in eligible:
            pace, _count = eligible[conversation.pk]
        if conversation.status == Status.QUEUED:
            estimate = estimate_wait(
                found[conversation.pk], pace, mode=conversation.team.distribution_mode,
            )
        conversation.queue_info = {
            "position": found[conversation.pk],
            "estimated_wait_seconds": estimate,
        }
        if conversation.pk in eligible:  # says that it counted only the eligible
            conversation.queue_info["eligible_online"] = eligible[conversation.pk][1]


def queue_of(conversation: Conversation) -> dict | None:
    """The conversation's ``queue`` field: attached for lists (``attach_queue_info``),
    worked out here for a single conversation."""
    if conversation.status not in IN_QUEUE:
        return None
    if not hasattr(conversation, "queue_info"):
        attach_queue_info([conversation])
    return conversation.queue_info


def team_open_fields(team, *, now: datetime | None = None) -> dict:
    """``{"team_open", "team_opens_at"}`` for what a channel tells the customer: a closed
    team says when it opens next (null when open, with no team, or with no opening ahead).
    The team's schedule is read once per process until the configuration changes."""
    if team is None:
        return {"team_open": True, "team_opens_at": None}
    state = state_of(config_cache.schedule(team), now or timezone.now())
    return {"team_open": state.open, "team_opens_at": iso(state.opens_at)}


def queue_answer(conversation: Conversation) -> dict:
    """``GET conversations/{id}/queue``: what a bot tells the customer who asks where they
    stand. Expects ``team`` selected."""
    queue = queue_of(conversation) or {}
    return {
        "status": conversation.status,
        "position": queue.get("position"),
        "estimated_wait_seconds": queue.get("estimated_wait_seconds"),
        **team_open_fields(conversation.team),
        "reserved_until": iso(conversation.reserved_until),
    }

