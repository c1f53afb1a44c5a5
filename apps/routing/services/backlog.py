"""Queues that wait: a team's backlog run, reserved conversations, and the safety sweep.

A team's backlog run holds the team's advisory lock (runs of one team never overlap), locks
the members it may assign to in id order, and skips conversations another transaction
holds (SKIP LOCKED): whoever holds them is placing them already.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import DateTimeField, F, OuterRef, Q, Subquery, Value
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
from apps.routing.services.applying import (
    apply_backlog_plan,
    merge_candidates,
    overflow_targets,
    team_members_among,
)
from apps.routing.services.guards import existing_team, require_supervisor
from apps.routing.services.history import (
    Actor,
    announce_changes,
    event_row,
    record_event,
)
from apps.routing.services.placing import place_in_team
from apps.routing.services.time_rules import DeadlineKind, expect
from apps.skills import selectors as skill_selectors
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
    ``only_ids``), by capacity within free room or by rotation, each conversation to an
    agent eligible at its current step (its requirements in force; the members of teams it
    overflowed to are candidates too, locked here). Conversations taken back from an agent
    for not replying are never planned for that agent.

    Within free room when ``within_limits`` (default: by capacity only), the queue is read
    in chunks of the room left (plus those passed over), so a long queue is not read when
    the members' room is small; a chunk whose conversations nobody eligible can take leaves
    room for the next chunk. Returns the plan (``apply`` False: only plans it, a preview)."""
    capped = by_capacity if within_limits is None else within_limits
    queue = Conversation.objects.filter(team_id=team.pk, status=Status.QUEUED)
    if only_ids is not None:
        queue = queue.filter(pk__in=only_ids)
    overflowed = overflow_targets(queue)
    if overflowed:
        candidates = merge_candidates(candidates, lock_overflow_members(
            sorted(overflowed), exclude=[c.agent_id for c in candidates],
            with_room_only=capped, lock=apply,
        ))
    if not candidates:
        return []
    rows = queue.order_by("queued_at", "id")
    if apply:
        rows = rows.select_for_update(skip_locked=True)
    rows = rows.values_list("id", "preferred_agent_id", "handed_over_from_id", "queued_at")
    members = team_members_among(team.pk, overflowed, candidates)
    now = timezone.now()
    planned, after = [], None
    passed = queue.filter(handed_over_from__isnull=False).count() if capped else 0
    while True:
        chunk_rows = rows if after is None else rows.filter(
            Q(queued_at__gt=after[0]) | Q(queued_at=after[0], pk__gt=after[1])
        )
        if capped:
            room = sum(c.free for c in candidates)
            if room == 0:
                break
            chunk_size = room + passed
            chunk = list(chunk_rows[:chunk_size])
        else:
            chunk = list(chunk_rows)
        if not chunk:
            break
        ids = [row[0] for row in chunk]
        overflow_of = skill_selectors.overflow_teams_of(ids) if overflowed else {}
        plan = plan_backlog(
            [(pk, star) for pk, star, _passed, _at in chunk], candidates,
            by_capacity=by_capacity, now=now,
            passed_over={pk: agent for pk, _star, agent, _at in chunk if agent},
            requirements=skill_selectors.requirements_in_force(ids),
            pools={
                pk: members[team.pk].union(*(members[t] for t in overflow_of.get(pk, ())))
                for pk in ids
            } if overflowed else None,
            within_limits=capped,
        )
        if apply:
            apply_backlog_plan(
                plan, team=team, actor=actor, now=now,
                preferred={pk: star for pk, star, _passed, _at in chunk},
                limits={c.agent_id: c.capacity for c in candidates} if capped else {},
            )
        planned += plan
        if not capped or len(chunk) < chunk_size:
            break
        after = (chunk[-1][3], chunk[-1][0])
    return planned


def lock_members(team_id: int, *, with_room_only: bool, lock: bool = True) -> list[Candidate]:
    """The team's online, active members (only those with room, if asked: full members are
    neither read nor locked), locked in id order (unless ``lock`` is False: a preview), with
    their rotation state and skills."""
    rotation = Membership.objects.filter(team_id=team_id, agent_id=OuterRef("pk"))
    members = User.objects.filter(
        memberships__team_id=team_id, presence=Presence.ONLINE, is_active=True
    )
    return _locked_candidates(
        members.annotate(last_assigned_at=Subquery(rotation.values("last_assigned_at")[:1])),
        with_room_only=with_room_only, lock=lock,
    )


def lock_overflow_members(
    team_ids: list[int], *, exclude: list[int], with_room_only: bool, lock: bool = True
) -> list[Candidate]:
    """The online, active members of the teams conversations overflowed to, locked."""
    members = User.objects.filter(
        pk__in=Membership.objects.filter(team_id__in=team_ids).values("agent_id"),
        presence=Presence.ONLINE, is_active=True,
    ).exclude(pk__in=exclude)
    return _locked_candidates(
        members.annotate(last_assigned_at=Value(None, output_field=DateTimeField())),
        with_room_only=with_room_only, lock=lock,
    )


def _locked_candidates(members, *, with_room_only: bool, lock: bool) -> list[Candidate]:
    if with_room_only:
        members = members.filter(open_count__lt=F("capacity"))
    members = members.order_by("pk")
    if lock:
        members = members.select_for_update(of=("self",))
    rows = members.values_list(
        "pk", "name", "username", "capacity", "open_count", "last_assigned_at"
    )
    candidates = [
        Candidate(agent_id=a, name=n or u, capacity=c, load=load, last_assigned_at=last)
        for a, n, u, c, load, last in rows
    ]
    if candidates:
        levels = skill_selectors.agents_skills(c.agent_id for c in candidates)
        for c in candidates:
            c.skills = levels.get(c.agent_id, {})
    return candidates


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
    conversations, then the oldest queued conversations they can serve (their ``capacity``
    teams' and those overflowed to their teams), up to their room. Idempotent."""
    from apps.routing.services.available import give_agent_backlog  # it imports this module

    assigned = assign_reserved_conversations(agent_id=agent_id)
    return assigned + give_agent_backlog(agent_id=agent_id)


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
