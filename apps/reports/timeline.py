"""Who was online when, with which teams and capacity: the presence history read back.

``people_over(start=, end=)`` answers, in four queries whatever the number of agents or
changes, each agent's state at ``start`` and every change until ``end``; ``segments``
turns one agent's timeline into intervals of constant state. Reports sum its online and away
seconds; the simulator replays it (routing.md section 10).

The state at ``start`` is the latest row of its kind before ``start``; with none, the
``before`` of the first row after it; with none either, the agent's state now (nothing
changed since). Teams are the current memberships with the joins and leaves since
``start`` undone.
"""

from dataclasses import dataclass, field, replace
from datetime import datetime

from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from apps.accounts.models import AgentChange, AgentChangeKind, Presence, User

ACTIVATION_KINDS = (AgentChangeKind.ACTIVATED, AgentChangeKind.DEACTIVATED)
TEAM_KINDS = (AgentChangeKind.TEAM_JOINED, AgentChangeKind.TEAM_LEFT)
STATE_KINDS = (AgentChangeKind.PRESENCE, AgentChangeKind.CAPACITY, *ACTIVATION_KINDS)


@dataclass(frozen=True)
class AgentState:
    presence: str
    capacity: int
    is_active: bool
    teams: frozenset[int]


@dataclass(frozen=True)
class Change:
    at: datetime
    kind: str
    before: object
    after: object
    cause: str


@dataclass
class AgentTimeline:
    agent_id: int
    name: str
    start: datetime
    end: datetime
    initial: AgentState
    changes: list[Change] = field(default_factory=list)

    def segments(self):
        """(from, to, state) intervals covering [start, end), in order."""
        state, since = self.initial, self.start
        for change in self.changes:
            at = min(max(change.at, self.start), self.end)
            if at > since:
                yield since, at, state
                since = at
            state = apply(state, change)
        if self.end > since:
            yield since, self.end, state


def apply(state: AgentState, change: Change) -> AgentState:
    if change.kind == AgentChangeKind.PRESENCE:
        return replace(state, presence=change.after)
    if change.kind == AgentChangeKind.CAPACITY:
        return replace(state, capacity=change.after)
    if change.kind in ACTIVATION_KINDS:
        return replace(state, is_active=change.kind == AgentChangeKind.ACTIVATED)
    team = (change.after or change.before or {}).get("team")
    if change.kind == AgentChangeKind.TEAM_JOINED:
        return replace(state, teams=state.teams | {team})
    if change.kind == AgentChangeKind.TEAM_LEFT:
        return replace(state, teams=state.teams - {team})
    return state


def _edge(kinds, start, *, before_start: bool):
    rows = AgentChange.objects.filter(agent_id=OuterRef("pk"), kind__in=kinds)
    if before_start:
        return Subquery(rows.filter(at__lt=start).order_by("-at", "-id").values("after")[:1])
    return Subquery(rows.filter(at__gte=start).order_by("at", "id").values("before")[:1])


def _activation_edge(start, *, before_start: bool):
    rows = AgentChange.objects.filter(agent_id=OuterRef("pk"), kind__in=ACTIVATION_KINDS)
    if before_start:
        return Subquery(rows.filter(at__lt=start).order_by("-at", "-id").values("kind")[:1])
    return Subquery(rows.filter(at__gte=start).order_by("at", "id").values("kind")[:1])


def people_over(
    *, start: datetime, end: datetime | None = None, agent_ids=None
) -> dict[int, AgentTimeline]:
    """Every person's (or ``agent_ids``') timeline over [start, end): four queries."""
    from apps.teams.models import Membership

    end = end or timezone.now()
    people = User.objects.all() if agent_ids is None else User.objects.filter(pk__in=agent_ids)
    rows = people.order_by("pk").annotate(
        presence_before=_edge([AgentChangeKind.PRESENCE], start, before_start=True),
        presence_after=_edge([AgentChangeKind.PRESENCE], start, before_start=False),
        capacity_before=_edge([AgentChangeKind.CAPACITY], start, before_start=True),
        capacity_after=_edge([AgentChangeKind.CAPACITY], start, before_start=False),
        activation_before=_activation_edge(start, before_start=True),
        activation_after=_activation_edge(start, before_start=False),
    ).values_list(
        "pk", "name", "username", "presence", "capacity", "is_active", "presence_before",
        "presence_after", "capacity_before", "capacity_after", "activation_before",
        "activation_after",
    )
    people_rows = list(rows)
    ids = [row[0] for row in people_rows]
    teams_now: dict[int, set[int]] = {pk: set() for pk in ids}
    for agent_id, team_id in Membership.objects.filter(agent_id__in=ids).values_list(
        "agent_id", "team_id"
    ):
        teams_now[agent_id].add(team_id)
    team_moves = list(
        AgentChange.objects.filter(agent_id__in=ids, kind__in=TEAM_KINDS, at__gte=start)
        .order_by("-at", "-id").values_list("agent_id", "at", "kind", "before", "after", "cause")
    )
    for agent_id, _at, kind, before, after, _cause in team_moves:  # undo, newest first
        team = (after or before or {}).get("team")
        if kind == AgentChangeKind.TEAM_JOINED:
            teams_now[agent_id].discard(team)
        else:
            teams_now[agent_id].add(team)
    timelines = {}
    for (pk, name, username, presence, capacity, active, p_before, p_after, c_before,
         c_after, a_before, a_after) in people_rows:
        if a_before is not None:
            was_active = a_before == AgentChangeKind.ACTIVATED
        elif a_after is not None:
            was_active = a_after == AgentChangeKind.DEACTIVATED
        else:
            was_active = active
        initial = AgentState(
            presence=_first(p_before, p_after, presence),
            capacity=_first(c_before, c_after, capacity),
            is_active=was_active,
            teams=frozenset(teams_now[pk]),
        )
        timelines[pk] = AgentTimeline(pk, name or username, start, end, initial)
    changes = AgentChange.objects.filter(
        Q(kind__in=STATE_KINDS) | Q(kind__in=TEAM_KINDS),
        agent_id__in=ids, at__gte=start, at__lt=end,
    ).order_by("at", "id").values_list("agent_id", "at", "kind", "before", "after", "cause")
    for agent_id, at, kind, before, after, cause in changes:
        timelines[agent_id].changes.append(Change(at, kind, before, after, cause))
    return timelines


def _first(*values):
    return next(value for value in values if value is not None)


def seconds_by_presence(timeline: AgentTimeline, start: datetime, end: datetime) -> dict:
    """Seconds of each presence within [start, end) (inside the timeline's span)."""
    totals = {value: 0.0 for value in Presence.values}
    for since, until, state in timeline.segments():
        overlap = (min(until, end) - max(since, start)).total_seconds()
        if overlap > 0:
            totals[state.presence] = totals.get(state.presence, 0.0) + overlap
    return totals
