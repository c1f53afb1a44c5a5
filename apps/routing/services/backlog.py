"""Queues that wait: a team's backlog run, reserved conversations, and the safety sweep.

A team's backlog run holds the team's advisory lock (runs of one team never overlap), locks
the members it may assign to in id order, and skips conversations another transaction
holds (SKIP LOCKED): whoever holds them is placing them already.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Case, F, IntegerField, OuterRef, Subquery, Value, When
from django.utils import timezone

from apps.accounts.models import Presence, User
from apps.conversations.events import Placement
from apps.conversations.models import (
    ActorKind,
    Conversation,
    ConversationEvent,
    EventKind,
    Status,
)
from apps.conversations.reasons import part
from apps.core.db import advisory_xact_lock, retry_on_deadlock
from apps.routing.decisions import Candidate, plan_backlog
from apps.routing.models import PeriodicRun
from apps.routing.services.guards import existing_team, require_supervisor
from apps.routing.services.history import (
    Actor,
    actor_kind_of,
    announce_changes,
    event_row,
    name_of,
    record_event,
)
from apps.routing.services.placing import place_in_team
from apps.routing.services.time_rules import DeadlineKind, expect, reply_due
from apps.teams.models import DistributionMode, Membership, Team
from apps.webhooks.outbox import record_history


@dataclass(frozen=True)
class Distribution:
    """What a distribution on demand did (or, previewed, would do): how many conversations
    went to whom (``given``: (agent id, name, how many), in the order of the plan) and how
    many stayed in the queue."""

    given: tuple[tuple[int, str, int], ...]
    stayed: int

    @property
    def assigned(self) -> int:
        return sum(count for _agent, _name, count in self.given)


@retry_on_deadlock
def distribute_team_backlog(*, team_id: int, actor: Actor = None) -> int:
    """Assign a team's queue, oldest first, among its online members. Returns how many.

    Automatic runs (actor None) only touch ``capacity`` teams, within free capacity. A
    supervisor's Distribute (``distribute_on_demand``) uses the team's rule on demand, and
    never goes past a limit in any mode.
    """
    if actor is not None:
        return distribute_on_demand(team_id=team_id, actor=actor).assigned
    team = existing_team(team_id)
    if team.distribution_mode != DistributionMode.CAPACITY:
        return 0
    with transaction.atomic():
        advisory_xact_lock(team.pk)
        candidates = lock_members(team.pk, with_room_only=True)
        return len(distribute_locked(team, candidates, actor=None, by_capacity=True))


@retry_on_deadlock
def distribute_on_demand(*, team_id: int, actor: Actor, preview: bool = False) -> Distribution:
    """A supervisor distributes a team's queue now, oldest first, among its online members
    with room: by capacity for a ``capacity`` team, by rotation for ``manual`` and
    ``sequential`` ones; never past anyone's limit, in any mode (routing.md section 3). What
    does not fit stays queued. ``preview``: plan it the same way and change nothing (what
    the floor's confirmation says will happen)."""
    require_supervisor(actor)
    team = existing_team(team_id)
    by_capacity = team.distribution_mode == DistributionMode.CAPACITY
    with transaction.atomic():
        if not preview:
            advisory_xact_lock(team.pk)
        candidates = lock_members(team.pk, with_room_only=True, lock=not preview)
        names = {c.agent_id: c.name for c in candidates}
        plan = distribute_locked(
            team, candidates, actor=actor, by_capacity=by_capacity, within_limits=True,
            apply=not preview,
        )
        queued = Conversation.objects.filter(team_id=team.pk, status=Status.QUEUED).count()
    counts: dict[int, int] = {}
    for item in plan:
        counts[item.agent_id] = counts.get(item.agent_id, 0) + 1
    return Distribution(
        given=tuple((agent, names[agent], n) for agent, n in counts.items()),
        stayed=queued if not preview else max(queued - len(plan), 0),
    )


def distribute_locked(
    team: Team,
    candidates: list[Candidate],
    *,
    actor: Actor,
    by_capacity: bool,
    only_ids: list[int] | None = None,
    within_limits: bool | None = None,
    apply: bool = True,
) -> list:
    """The backlog run proper, inside the caller's transaction, which holds the team's
    advisory lock and the ``candidates``' rows: the queue oldest first (or only
    ``only_ids``), by capacity or by rotation, within free room when ``within_limits``
    (default: by capacity only). Conversations taken back from an agent for not replying
    are never planned for that agent. Returns the plan (``apply`` False: only plans it)."""
    if not candidates:
        return []
    capped = by_capacity if within_limits is None else within_limits
    queue = Conversation.objects.filter(team_id=team.pk, status=Status.QUEUED)
    if only_ids is not None:
        queue = queue.filter(pk__in=only_ids)
    rows = queue.order_by("queued_at", "id")
    if apply:
        rows = rows.select_for_update(skip_locked=True)
    rows = rows.values_list("id", "preferred_agent_id", "handed_over_from_id")
    if capped:
        room = sum(c.free for c in candidates)
        if room == 0:
            return []
        # Each conversation passed over for its only agent with room leaves that room to
        # the next one: read that many more.
        passed = queue.filter(handed_over_from__isnull=False).count()
        rows = rows[: room + passed]
    now = timezone.now()
    backlog = list(rows)
    plan = plan_backlog(
        [(pk, star) for pk, star, _passed in backlog], candidates, by_capacity=by_capacity,
        now=now, passed_over={pk: agent for pk, _star, agent in backlog if agent},
        within_limits=capped,
    )
    if apply:
        _apply_backlog_plan(
            plan, team=team, actor=actor, now=now,
            preferred={pk: star for pk, star, _passed in backlog},
            limits={c.agent_id: c.capacity for c in candidates} if capped else {},
        )
    return plan


def lock_members(team_id: int, *, with_room_only: bool, lock: bool = True) -> list[Candidate]:
    """The team's online, active members (only those with room, if asked: full members are
    neither read nor locked), locked in id order (unless ``lock`` is False: a preview), with
    their rotation state."""
    rotation = Membership.objects.filter(team_id=team_id, agent_id=OuterRef("pk"))
    members = User.objects.filter(
        memberships__team_id=team_id, presence=Presence.ONLINE, is_active=True
    )
    if with_room_only:
        members = members.filter(open_count__lt=F("capacity"))
    members = members.annotate(
        last_assigned_at=Subquery(rotation.values("last_assigned_at")[:1])
    ).order_by("pk")
    if lock:
        members = members.select_for_update(of=("self",))
    rows = members.values_list(
        "pk", "name", "username", "capacity", "open_count", "last_assigned_at"
    )
    return [
        Candidate(agent_id=a, name=n or u, capacity=c, load=load, last_assigned_at=last)
        for a, n, u, c, load, last in rows
    ]


def _apply_backlog_plan(
    plan, *, team: Team, actor: Actor, now, preferred: dict, limits: dict[int, int]
) -> None:
    """Apply a plan in a few statements. ``limits``: each agent's limit that the plan stayed
    within (by capacity; none by rotation), recorded on the conversations it gives them."""
    if not plan:
        return
    by_agent: dict[int, list[int]] = defaultdict(list)
    for item in plan:
        by_agent[item.agent_id].append(item.conversation_id)
    reply_due_at = reply_due(team, now)
    # One statement for the whole plan (the rows are locked already): each agent's
    # conversations are one branch.
    Conversation.objects.filter(
        pk__in=[item.conversation_id for item in plan], status=Status.QUEUED
    ).update(
        status=Status.ASSIGNED,
        assignee_id=Case(
            *[When(pk__in=ids, then=Value(agent_id)) for agent_id, ids in by_agent.items()],
            output_field=IntegerField(),
        ),
        assigned_limit=Case(
            *[When(pk__in=by_agent[a], then=Value(limit)) for a, limit in limits.items()
              if a in by_agent],
            default=None, output_field=IntegerField(),
        ),
        auto_assigned=True, assigned_at=now, updated_at=now, reply_due_at=reply_due_at,
        handed_over_from=None,
    )
    expect(DeadlineKind.REPLY, reply_due_at)
    agent_ids = sorted(by_agent)
    User.objects.filter(pk__in=agent_ids).update(
        open_count=F("open_count")
        + Case(
            *[When(pk=a, then=Value(len(by_agent[a]))) for a in agent_ids],
            default=Value(0),
            output_field=IntegerField(),
        )
    )
    Membership.objects.filter(team_id=team.pk, agent_id__in=agent_ids).update(last_assigned_at=now)
    on_demand = [part("distributed_on_demand", actor=name_of(actor))] if actor else []
    kind_of_actor = actor_kind_of(actor, ActorKind.DISTRIBUTION)
    events, changes = [], []
    for item in plan:
        star = preferred.get(item.conversation_id)
        before = Placement(Status.QUEUED, team.pk, None, star)
        after = Placement(Status.ASSIGNED, team.pk, item.agent_id, star)
        events.append(
            event_row(
                item.conversation_id, kind=EventKind.ASSIGNED, before=before, after=after,
                actor=actor, actor_kind=kind_of_actor, reason=[item.reason, *on_demand],
            )
        )
        changes.append((item.conversation_id, before, after))
    ConversationEvent.objects.bulk_create(events, batch_size=1000)
    record_history(events)
    announce_changes(changes)


@retry_on_deadlock
def assign_reserved_conversations(*, agent_id: int) -> int:
    """Give an online agent the conversations reserved for them, oldest first, up to their
    free capacity (they go before any team backlog)."""
    with transaction.atomic():
        agent = (
            User.objects.select_for_update()
            .filter(pk=agent_id, is_active=True, presence=Presence.ONLINE)
            .first()
        )
        if agent is None or agent.open_count >= agent.capacity:
            return 0
        room = agent.capacity - agent.open_count
        reserved = list(
            Conversation.objects.filter(status=Status.RESERVED, preferred_agent_id=agent.pk)
            .order_by("queued_at", "id")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("id", "team_id", "team__first_reply_seconds")[:room]
        )
        if not reserved:
            return 0
        now = timezone.now()
        ids = [pk for pk, _team_id, _reply in reserved]
        by_reply_limit: dict[int | None, list[int]] = defaultdict(list)
        for pk, _team_id, reply_seconds in reserved:
            by_reply_limit[reply_seconds].append(pk)
        for reply_seconds, group in by_reply_limit.items():
            due = now + timedelta(seconds=reply_seconds) if reply_seconds else None
            Conversation.objects.filter(pk__in=group).update(
                status=Status.ASSIGNED, assignee_id=agent.pk, auto_assigned=True,
                assigned_at=now, updated_at=now, reserved_until=None, reply_due_at=due,
                assigned_limit=agent.capacity,
            )
            expect(DeadlineKind.REPLY, due)
        User.objects.filter(pk=agent.pk).update(open_count=F("open_count") + len(ids))
        reason = [
            part(
                "reserved_freed_capacity", agent=agent.display_name, load=agent.open_count,
                capacity=agent.capacity,
            )
        ]
        events, changes = [], []
        for pk, team_id, _reply in reserved:
            before = Placement(Status.RESERVED, team_id, None, agent.pk)
            after = Placement(Status.ASSIGNED, team_id, agent.pk, agent.pk)
            events.append(
                event_row(
                    pk, kind=EventKind.ASSIGNED, before=before, after=after, actor=None,
                    actor_kind=ActorKind.PREFERENTIAL_RULE, reason=reason,
                )
            )
            changes.append((pk, before, after))
        ConversationEvent.objects.bulk_create(events)
        record_history(events)
        announce_changes(changes)
        return len(ids)


def handle_agent_available(*, agent_id: int) -> int:
    """The agent came online, freed capacity or had their limit raised: first their reserved
    conversations, then the backlog of each of their ``capacity`` teams. Idempotent."""
    assigned = assign_reserved_conversations(agent_id=agent_id)
    team_ids = Membership.objects.filter(
        agent_id=agent_id, team__distribution_mode=DistributionMode.CAPACITY
    ).values_list("team_id", flat=True)
    for team_id in sorted(team_ids):
        assigned += distribute_team_backlog(team_id=team_id)
    return assigned


@retry_on_deadlock
def release_reservations(*, agent_id: int) -> int:
    """The preferred agent is not online: their reserved conversations go into normal
    routing at once (their team's queue and its distribution, or Waiting)."""
    with transaction.atomic():
        agent = User.objects.filter(pk=agent_id).only(
            "presence", "is_active", "name", "username"
        ).first()
        if agent is None or (agent.presence == Presence.ONLINE and agent.is_active):
            return 0
        reserved = list(
            Conversation.objects.filter(status=Status.RESERVED, preferred_agent_id=agent_id)
            .select_related("team")
            .select_for_update(of=("self",))
            .order_by("queued_at", "id")
        )
        now = timezone.now()
        for conversation in reserved:
            before = conversation.placement
            placed = place_in_team(conversation, conversation.team, now=now)
            conversation.save()
            record_event(
                conversation, kind=EventKind.RELEASED, before=before, actor=None,
                actor_kind=ActorKind.PREFERENTIAL_RULE,
                reason=[
                    part(
                        "reservation_released", agent=agent.display_name,
                        presence=agent.presence,
                    ),
                    placed.reason,
                ],
            )
        return len(reserved)


def sweep_routing() -> int:
    """The safety net: hand reserved conversations to online preferred agents with room,
    release those of agents who are not online, and redistribute every ``capacity`` team."""
    assigned = 0
    agents_with_reservations = (
        Conversation.objects.filter(status=Status.RESERVED)
        .values_list("preferred_agent_id", "preferred_agent__presence")
        .distinct()
    )
    for agent_id, presence in agents_with_reservations:
        if presence == Presence.ONLINE:
            assigned += assign_reserved_conversations(agent_id=agent_id)
        else:
            release_reservations(agent_id=agent_id)
    for team_id in Team.objects.filter(
        distribution_mode=DistributionMode.CAPACITY
    ).values_list("pk", flat=True):
        assigned += distribute_team_backlog(team_id=team_id)
    return assigned


def record_sweep_run() -> None:
    """The periodic sweep finished: stamp it (one upsert), for readiness and metrics."""
    PeriodicRun.objects.bulk_create(
        [PeriodicRun(name=PeriodicRun.SWEEP, finished_at=timezone.now())],
        update_conflicts=True, unique_fields=["name"], update_fields=["finished_at"],
    )
