"""The routing engine: every change of a conversation's team, agent or state.

Each public function is one transaction, takes keyword arguments and an ``actor`` (a User,
an IntegrationClient, or None for the system), writes a ConversationEvent explaining the
decision, and announces the change after commit (apps.core.announce).

Concurrency design (routing.md section 7):
- An agent's load is ``User.open_count``. Automatic distribution raises it with one
  conditional UPDATE (``open_count < capacity``); PostgreSQL re-checks that condition on the
  newest row version after any lock wait, so concurrent workers can never exceed a limit.
- A claim is a conditional UPDATE on the conversation's own columns (state as observed and
  ``assignee IS NULL``): of concurrent claims exactly one matches a row.
- Lock order: a team's backlog advisory lock, then agent rows in id order, then
  conversations with SKIP LOCKED (backlog runs never wait on a conversation); single-
  conversation services lock the conversation first, then at most the agents it touches
  in id order. Deadlocks that remain possible are retried by ``retry_on_deadlock``.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Case, F, IntegerField, OuterRef, Q, Subquery, Value, When
from django.utils import timezone

from apps.accounts.models import IntegrationClient, Presence, Role, User
from apps.conversations.models import (
    ActorKind,
    Conversation,
    ConversationEvent,
    EventKind,
    Status,
)
from apps.core.announce import announce
from apps.core.db import advisory_xact_lock, retry_on_deadlock
from apps.core.errors import InvalidInput
from apps.organizations.models import Contact, RuleType
from apps.routing import selectors
from apps.routing.decisions import (
    Candidate,
    choose_by_capacity,
    choose_by_rotation,
    describe_loads,
    plan_backlog,
)
from apps.routing.errors import (
    ConversationAlreadyTaken,
    ConversationClosed,
    ConversationNotFound,
    InvalidTransition,
    NotAllowedToRoute,
    UnknownTarget,
)
from apps.routing.events import AgentAvailable, ConversationsChanged, Placement, PresenceChanged
from apps.teams.models import DistributionMode, Membership, Team

Actor = User | IntegrationClient | None

ROTATION_ATTEMPTS = 3


# --------------------------------------------------------------------------- helpers


def placement_of(conversation: Conversation) -> Placement:
    return Placement(
        status=conversation.status,
        team_id=conversation.team_id,
        assignee_id=conversation.assignee_id if conversation.status == Status.ASSIGNED else None,
        preferred_agent_id=conversation.preferred_agent_id,
    )


def actor_kind_of(actor: Actor, default: str = ActorKind.SYSTEM) -> str:
    if isinstance(actor, IntegrationClient):
        return ActorKind.BOT
    if isinstance(actor, User):
        if actor.is_admin:
            return ActorKind.ADMIN
        if actor.role == Role.SUPERVISOR:
            return ActorKind.SUPERVISOR
        return ActorKind.AGENT
    return default


def name_of(actor: Actor) -> str:
    return actor.display_name if actor is not None else "the system"


def _agent_summary(user: User | None) -> dict | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.username, "name": user.display_name}


def _event(
    conversation: Conversation,
    *,
    kind: str,
    before: Placement | None,
    actor: Actor,
    reason: str,
    default_actor_kind: str = ActorKind.SYSTEM,
    data: dict | None = None,
) -> ConversationEvent:
    return ConversationEvent(
        conversation_id=conversation.pk,
        kind=kind,
        actor_kind=actor_kind_of(actor, default_actor_kind),
        actor=actor if isinstance(actor, User) else None,
        actor_integration=actor if isinstance(actor, IntegrationClient) else None,
        from_status=before.status if before else "",
        from_team_id=before.team_id if before else None,
        from_assignee_id=before.assignee_id if before else None,
        to_status=conversation.status,
        to_team_id=conversation.team_id,
        to_assignee_id=conversation.assignee_id,
        reason=reason,
        data=data or {},
    )


def _announce_changes(changes: list[tuple[int, Placement | None, Placement]]) -> None:
    if changes:
        announce(ConversationsChanged(changes=tuple(changes)))


def _require_person(actor: Actor) -> User:
    if not isinstance(actor, User) or not actor.is_active:
        raise NotAllowedToRoute("Only a signed-in agent can do this.")
    return actor


def _require_supervisor(actor: Actor) -> User:
    user = _require_person(actor)
    if not user.is_supervisor:
        raise NotAllowedToRoute("Only a supervisor or an administrator can do this.")
    return user


def _locked_conversation(conversation_id: int) -> Conversation:
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("team", "assignee", "preferred_agent", "contact")
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None:
        raise ConversationNotFound(f"Conversation {conversation_id} does not exist.")
    return conversation


def _require_visible(person: User, conversation: Conversation) -> None:
    """An agent acts only on what they may see (Waiting, their teams, their own); anything
    else does not exist for them: no team name or assignee leaks through a refusal."""
    if not selectors.may_see(person, conversation):
        raise ConversationNotFound(
            f"There is no conversation {conversation.pk}, or you cannot see it."
        )


def _locked_for_holder(conversation_id: int, person: User, *, verb: str) -> Conversation:
    """Lock an open conversation that ``person`` holds, or may act on as a supervisor."""
    conversation = _locked_conversation(conversation_id)
    _require_visible(person, conversation)
    _require_open(conversation)
    holds_it = conversation.status == Status.ASSIGNED and conversation.assignee_id == person.pk
    if not (holds_it or person.is_supervisor):
        raise NotAllowedToRoute(
            f"Only the agent who has this conversation, or a supervisor, can {verb} it."
        )
    return conversation


def _require_open(conversation: Conversation) -> None:
    if conversation.status == Status.CLOSED:
        raise ConversationClosed(f"Conversation {conversation.pk} is already closed.")


def _active_agent(agent_id) -> User:
    agent = User.objects.filter(pk=agent_id, is_active=True).first() if _is_id(agent_id) else None
    if agent is None:
        raise UnknownTarget(f"There is no active agent with id {agent_id}.", field="agent")
    return agent


def _team(team_id) -> Team:
    team = Team.objects.filter(pk=team_id).first() if _is_id(team_id) else None
    if team is None:
        raise UnknownTarget(f"There is no team with id {team_id}.", field="team")
    return team


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


# Agent load (User.open_count). Every +1/-1 runs in the transaction of the assignment.


def _take_capacity(agent_id: int, *, skip_locked: bool = False) -> bool:
    """Raise an online agent's load by one if they are below their limit: the one place where
    automatic distribution checks capacity, as a single conditional UPDATE. With
    ``skip_locked`` an agent whose row another transaction holds is passed over at once
    instead of waited for (concurrent arrivals spread out instead of queueing on one row)."""
    target = Q(pk=agent_id)
    if skip_locked and connection.vendor == "postgresql":
        target = Q(
            pk__in=User.objects.filter(pk=agent_id)
            .select_for_update(skip_locked=True)
            .values("pk")
        )
    return (
        User.objects.filter(
            target,
            presence=Presence.ONLINE,
            is_active=True,
            open_count__lt=F("capacity"),
        ).update(open_count=F("open_count") + 1)
        == 1
    )


def _shift_loads(deltas: dict[int, int]) -> None:
    """Apply load changes (manual assignments may go above the limit), rows in id order."""
    for agent_id in sorted(deltas):
        delta = deltas[agent_id]
        if delta:
            User.objects.filter(pk=agent_id).update(open_count=F("open_count") + delta)


def _touch_rotation(team_id: int | None, agent_id: int, now) -> None:
    if team_id:
        Membership.objects.filter(team_id=team_id, agent_id=agent_id).update(last_assigned_at=now)


def _capacity_freed(agent_id: int | None, why: str) -> None:
    if agent_id:
        announce(AgentAvailable(agent_id=agent_id, why=why))


# --------------------------------------------------------------------------- placement


@dataclass
class _Placed:
    reason: str
    auto_assigned_to: int | None = None


def _distribute_one(
    conversation: Conversation, team: Team, *, exclude_agent_id: int | None, now
) -> tuple[int | None, str]:
    """Pick an agent for one conversation entering ``team`` by the team's mode and take the
    capacity or rotation slot. Returns (agent id or None, reason)."""
    mode = team.distribution_mode
    if mode == DistributionMode.MANUAL:
        return None, f"Team {team.name} distributes by manual claim: it waits in the team queue."
    preferred_id = conversation.preferred_agent_id
    for _attempt in range(ROTATION_ATTEMPTS):
        candidates = selectors.online_candidates(team.pk, exclude_agent_id=exclude_agent_id)
        if not candidates:
            return None, f"No member of team {team.name} is online: it waits in the team queue."
        if mode == DistributionMode.CAPACITY:
            # First pass passes over agents another transaction is assigning to right now;
            # the second waits for them, so a busy row never makes us queue wrongly.
            for skip_locked in (True, False):
                remaining = list(candidates)
                while True:
                    choice = choose_by_capacity(remaining, preferred_agent_id=preferred_id)
                    if choice is None:
                        break
                    if _take_capacity(choice.agent_id, skip_locked=skip_locked):
                        _touch_rotation(team.pk, choice.agent_id, now)
                        return choice.agent_id, choice.reason
                    remaining = [c for c in remaining if c.agent_id != choice.agent_id]
            return None, (
                f"Every online member of team {team.name} is at their limit "
                f"({describe_loads(candidates)}): it waits in the team queue."
            )
        choice = choose_by_rotation(candidates, preferred_agent_id=preferred_id)
        chosen = next(c for c in candidates if c.agent_id == choice.agent_id)
        if _take_rotation_slot(team.pk, chosen, now):
            _shift_loads({chosen.agent_id: 1})
            return chosen.agent_id, choice.reason
    # Rotation kept moving under us: take the least recently assigned as it stands now.
    _touch_rotation(team.pk, chosen.agent_id, now)
    _shift_loads({chosen.agent_id: 1})
    return chosen.agent_id, choice.reason


def _take_rotation_slot(team_id: int, chosen: Candidate, now) -> bool:
    """Advance the rotation only if nobody advanced it for this member since we looked, so
    that concurrent arrivals spread over members instead of piling on one."""
    observed = (
        Q(last_assigned_at=chosen.last_assigned_at)
        if chosen.last_assigned_at
        else Q(last_assigned_at__isnull=True)
    )
    return (
        Membership.objects.filter(observed, team_id=team_id, agent_id=chosen.agent_id).update(
            last_assigned_at=now
        )
        == 1
    )


def _place_in_team(
    conversation: Conversation, team: Team | None, *, now, exclude_agent_id: int | None = None
) -> _Placed:
    """Routing step 2-3 on an unassigned conversation (in memory; the caller saves it)."""
    conversation.assignee = None
    conversation.auto_assigned = False
    conversation.assigned_at = None
    conversation.queued_at = now
    if team is None:
        conversation.team = None
        conversation.status = Status.WAITING
        return _Placed("No team and no default team: it waits in Waiting.")
    conversation.team = team
    agent_id, reason = _distribute_one(
        conversation, team, exclude_agent_id=exclude_agent_id, now=now
    )
    if agent_id is None:
        conversation.status = Status.QUEUED
        return _Placed(reason)
    conversation.status = Status.ASSIGNED
    conversation.assignee_id = agent_id
    conversation.auto_assigned = True
    conversation.assigned_at = now
    return _Placed(reason, auto_assigned_to=agent_id)


def _rule_source(rule, contact: Contact) -> str:
    if rule.contact_id:
        return f"contact {contact}"
    if rule.organization_id == contact.organization_id:
        return f"organization {rule.organization.name}"
    return f"organization {rule.organization.name} (inherited by {contact.organization.name})"


# --------------------------------------------------------------------------- new arrivals


def open_conversation(
    *, contact: Contact, channel: str, team: Team | None = None, actor: Actor = None
) -> Conversation:
    """Open and route a new conversation (routing.md section 1). Runs inside the caller's
    transaction (intake); raises IntegrityError if the contact already has an open one."""
    now = timezone.now()
    conversation = Conversation(
        contact=contact, channel=channel, status=Status.WAITING, queued_at=now,
        last_activity_at=now,
    )
    reasons: list[str] = []
    decided = False
    decided_by: str | None = None  # an automatic decision names itself in the history
    data: dict = {}

    target_team = team
    if team is not None:
        team_reason = f"The bot chose team {team.name}."
    else:
        target_team = selectors.default_team()
        team_reason = (
            f"No team was named: the default team {target_team.name}."
            if target_team
            else "No team was named and there is no default team."
        )

    rule = selectors.preferential_rule_for(contact)
    if rule is not None:
        agent = rule.agent
        source = _rule_source(rule, contact)
        conversation.preferred_agent = agent
        conversation.preferred_type = rule.type
        data["rule"] = {"id": rule.pk, "type": rule.type, "source": source}
        if rule.type == RuleType.AUTO:
            if _take_capacity(agent.pk):
                conversation.status = Status.ASSIGNED
                conversation.team = target_team
                conversation.assignee = agent
                conversation.auto_assigned = True
                conversation.assigned_at = now
                if target_team is not None:
                    _touch_rotation(target_team.pk, agent.pk, now)
                reasons.append(
                    f"Automatic preferential rule on {source}: {agent.display_name} is online "
                    f"with free capacity, so it went straight to them."
                )
                decided_by = ActorKind.PREFERENTIAL_RULE
                decided = True
            else:
                # Lock the agent's row: a concurrent presence change waits for us (or we for
                # it), so a reservation can never be made for an agent who already left.
                current = User.objects.select_for_update().only(
                    "presence", "capacity", "open_count"
                ).get(pk=agent.pk)
                if current.presence == Presence.ONLINE and current.is_active:
                    conversation.status = Status.RESERVED
                    conversation.team = target_team
                    reasons.append(
                        f"Automatic preferential rule on {source}: {agent.display_name} is "
                        f"online but at their limit ({current.open_count}/{current.capacity}), "
                        f"so it waits reserved for them."
                    )
                    decided_by = ActorKind.PREFERENTIAL_RULE
                    decided = True
                else:
                    reasons.append(
                        f"Automatic preferential rule on {source} names {agent.display_name}, "
                        f"who is {current.presence}: normal routing."
                    )
        else:
            reasons.append(
                f"Queue preferential rule on {source}: starred for {agent.display_name}."
            )
    else:
        reasons.append("No preferential rule applies.")

    if not decided:
        reasons.append(team_reason)
        placed = _place_in_team(conversation, target_team, now=now)
        reasons.append(placed.reason)
        if placed.auto_assigned_to:
            decided_by = ActorKind.DISTRIBUTION
    conversation.save(force_insert=True)
    kind = {
        Status.ASSIGNED: EventKind.ASSIGNED,
        Status.RESERVED: EventKind.RESERVED,
        Status.QUEUED: EventKind.QUEUED,
        Status.WAITING: EventKind.WAITING,
    }[conversation.status]
    event = _event(
        conversation, kind=kind, before=None, actor=actor, reason=" ".join(reasons), data=data
    )
    if decided_by:
        event.actor_kind = decided_by
    event.save(force_insert=True)
    _announce_changes([(conversation.pk, None, placement_of(conversation))])
    return conversation


# --------------------------------------------------------------------------- transitions


@retry_on_deadlock
def route_to_team(*, conversation_id: int, team_id: int, actor: Actor) -> Conversation:
    """A bot (or supervisor) routes a waiting, queued or reserved conversation to a team:
    routing again from step 2, recorded."""
    if not (isinstance(actor, IntegrationClient) or getattr(actor, "is_supervisor", False)):
        raise NotAllowedToRoute("Only a bot integration or a supervisor can route conversations.")
    with transaction.atomic():
        team = _team(team_id)
        conversation = _locked_conversation(conversation_id)
        _require_open(conversation)
        if conversation.status == Status.ASSIGNED:
            raise InvalidTransition(
                f"Conversation {conversation.pk} is already assigned to "
                f"{conversation.assignee.display_name}: transfer it instead.",
                assignee=_agent_summary(conversation.assignee),
            )
        before = placement_of(conversation)
        now = timezone.now()
        placed = _place_in_team(conversation, team, now=now)
        conversation.save()
        _event(
            conversation, kind=EventKind.ROUTED, before=before, actor=actor,
            reason=f"{name_of(actor)} routed it to team {team.name}. {placed.reason}",
        ).save(force_insert=True)
        _announce_changes([(conversation.pk, before, placement_of(conversation))])
        return conversation


def _claim_refusal(conversation: Conversation, agent: User) -> Exception | None:
    """Why a claim by ``agent`` cannot succeed on the conversation as it stands (None: it
    can). Visibility was checked before."""
    if conversation.status == Status.CLOSED:
        return ConversationClosed(f"Conversation {conversation.pk} is already closed.")
    if conversation.status == Status.ASSIGNED:
        holder = conversation.assignee
        return ConversationAlreadyTaken(
            f"{holder.display_name} already took conversation {conversation.pk}.",
            assignee=_agent_summary(holder),
        )
    if agent.is_supervisor or conversation.status == Status.WAITING:
        return None
    if conversation.status == Status.RESERVED:
        if conversation.preferred_agent_id == agent.pk:
            return None
        return NotAllowedToRoute(
            f"Conversation {conversation.pk} is reserved for its preferred agent."
        )
    return None  # queued in a team: visible to them means they are a member


@retry_on_deadlock
def claim_conversation(*, conversation_id: int, agent: User) -> Conversation:
    """ATENDER: the agent takes a waiting, queued (their team) or reserved (for them)
    conversation. Allowed above capacity. Of concurrent claims exactly one wins; the others
    get ConversationAlreadyTaken naming the winner."""
    agent = _require_person(agent)
    conversation = (
        Conversation.objects.select_related("team", "assignee").filter(pk=conversation_id).first()
    )
    if conversation is None:
        raise ConversationNotFound(f"Conversation {conversation_id} does not exist.")
    if conversation.status == Status.ASSIGNED and conversation.assignee_id == agent.pk:
        return conversation
    if conversation.team_id is not None:
        # Team-less conversations came from Waiting, which everyone saw: the loser of a
        # race for one is told who won even though it is no longer theirs to see.
        _require_visible(agent, conversation)
    refusal = _claim_refusal(conversation, agent)
    if refusal is not None:
        raise refusal
    before = placement_of(conversation)
    now = timezone.now()
    with transaction.atomic():
        won = Conversation.objects.filter(
            pk=conversation.pk,
            status=before.status,
            team_id=before.team_id,
            assignee__isnull=True,
        ).update(
            status=Status.ASSIGNED, assignee=agent, auto_assigned=False, assigned_at=now,
            updated_at=now,
        )
        if not won:
            current = (
                Conversation.objects.select_related("team", "assignee")
                .filter(pk=conversation.pk)
                .first()
            )
            refusal = _claim_refusal(current, agent) if current else None
            raise refusal or InvalidTransition(
                f"Conversation {conversation.pk} changed while you were taking it; "
                f"look again.",
            )
        _shift_loads({agent.pk: 1})
        _touch_rotation(before.team_id, agent.pk, now)
        conversation.status = Status.ASSIGNED
        conversation.assignee = agent
        conversation.auto_assigned = False
        conversation.assigned_at = now
        conversation.updated_at = now
        where = (
            "from Waiting"
            if before.status == Status.WAITING
            else "reserved for them"
            if before.status == Status.RESERVED
            else f"from the {conversation.team.name} queue"
        )
        _event(
            conversation, kind=EventKind.CLAIMED, before=before, actor=agent,
            reason=f"{agent.display_name} took it {where} (ATENDER).",
        ).save(force_insert=True)
        _announce_changes([(conversation.pk, before, placement_of(conversation))])
    return conversation


def _hand_to_agent(
    conversation: Conversation, target: User, *, actor: User, kind: str, reason: str
) -> Conversation:
    before = placement_of(conversation)
    previous = before.assignee_id
    now = timezone.now()
    conversation.status = Status.ASSIGNED
    conversation.assignee = target
    conversation.auto_assigned = False
    conversation.assigned_at = now
    conversation.save()
    deltas = defaultdict(int)
    deltas[target.pk] += 1
    if previous:
        deltas[previous] -= 1
    _shift_loads(deltas)
    _touch_rotation(conversation.team_id, target.pk, now)
    _event(conversation, kind=kind, before=before, actor=actor, reason=reason).save(
        force_insert=True
    )
    _announce_changes([(conversation.pk, before, placement_of(conversation))])
    _capacity_freed(previous, "freed capacity")
    return conversation


@retry_on_deadlock
def assign_conversation(*, conversation_id: int, agent_id: int, actor: Actor) -> Conversation:
    """A supervisor gives any open conversation to any agent (above capacity if need be)."""
    supervisor = _require_supervisor(actor)
    with transaction.atomic():
        conversation = _locked_conversation(conversation_id)
        _require_open(conversation)
        target = _active_agent(agent_id)
        if conversation.status == Status.ASSIGNED and conversation.assignee_id == target.pk:
            return conversation
        previous = conversation.assignee if conversation.status == Status.ASSIGNED else None
        reason = f"Supervisor {supervisor.display_name} assigned it to {target.display_name}"
        reason += f" (it was with {previous.display_name})." if previous else "."
        return _hand_to_agent(
            conversation, target, actor=supervisor, kind=EventKind.ASSIGNED, reason=reason
        )


@retry_on_deadlock
def transfer_conversation(
    *, conversation_id: int, actor: Actor, team_id: int | None = None, agent_id: int | None = None
) -> Conversation:
    """The assignee (or a supervisor) hands a conversation to another team, where it enters
    routing again, or to another agent."""
    person = _require_person(actor)
    if (team_id is None) == (agent_id is None):
        raise InvalidInput("Give either a team or an agent to transfer to, not both.")
    with transaction.atomic():
        conversation = _locked_for_holder(conversation_id, person, verb="transfer")
        if agent_id is not None:
            target = _active_agent(agent_id)
            if conversation.status == Status.ASSIGNED and conversation.assignee_id == target.pk:
                raise InvalidTransition(f"{target.display_name} already has this conversation.")
            return _hand_to_agent(
                conversation, target, actor=person, kind=EventKind.TRANSFERRED,
                reason=f"{person.display_name} transferred it to {target.display_name}.",
            )
        team = _team(team_id)
        before = placement_of(conversation)
        previous = before.assignee_id
        now = timezone.now()
        if previous:
            _shift_loads({previous: -1})
        placed = _place_in_team(conversation, team, now=now, exclude_agent_id=previous)
        conversation.save()
        _event(
            conversation, kind=EventKind.TRANSFERRED, before=before, actor=person,
            reason=f"{person.display_name} transferred it to team {team.name}. {placed.reason}",
        ).save(force_insert=True)
        _announce_changes([(conversation.pk, before, placement_of(conversation))])
        _capacity_freed(previous, "freed capacity")
        return conversation


@retry_on_deadlock
def close_conversation(*, conversation_id: int, actor: Actor) -> Conversation:
    """The assignee or a supervisor closes a conversation; closing frees capacity."""
    person = _require_person(actor)
    with transaction.atomic():
        conversation = _locked_for_holder(conversation_id, person, verb="close")
        before = placement_of(conversation)
        now = timezone.now()
        conversation.status = Status.CLOSED
        conversation.closed_at = now
        conversation.save()
        if before.assignee_id:
            _shift_loads({before.assignee_id: -1})
        _event(
            conversation, kind=EventKind.CLOSED, before=before, actor=person,
            reason=f"{person.display_name} closed it.",
        ).save(force_insert=True)
        _announce_changes([(conversation.pk, before, placement_of(conversation))])
        _capacity_freed(before.assignee_id, "freed capacity")
        return conversation


# --------------------------------------------------------------------------- backlogs


@retry_on_deadlock
def distribute_team_backlog(*, team_id: int, actor: Actor = None) -> int:
    """Assign a team's queue, oldest first, among its online members. Returns how many.

    Automatic runs (actor None) only touch ``capacity`` teams, within free capacity. A
    supervisor's Distribute uses the team's rule on demand: capacity for ``capacity`` teams,
    rotation (load ignored) for ``manual`` and ``sequential`` teams. Runs for one team are
    serialized by an advisory lock; they lock the members' rows, and skip conversations
    someone else holds at that moment (that someone is placing them already).
    """
    if actor is not None:
        _require_supervisor(actor)
    team = _team(team_id)
    by_capacity = team.distribution_mode == DistributionMode.CAPACITY
    if actor is None and not by_capacity:
        return 0
    with transaction.atomic():
        advisory_xact_lock(team.pk)
        rotation = Membership.objects.filter(team_id=team.pk, agent_id=OuterRef("pk"))
        members = User.objects.filter(
            memberships__team_id=team.pk, presence=Presence.ONLINE, is_active=True
        )
        if by_capacity:
            # Only those with room can receive: full members are neither read nor locked.
            members = members.filter(open_count__lt=F("capacity"))
        rows = (
            members.annotate(last_assigned_at=Subquery(rotation.values("last_assigned_at")[:1]))
            .select_for_update(of=("self",))
            .order_by("pk")
            .values_list(
                "pk", "name", "username", "capacity", "open_count", "last_assigned_at"
            )
        )
        candidates = [
            Candidate(agent_id=a, name=n or u, capacity=c, load=load, last_assigned_at=last)
            for a, n, u, c, load, last in rows
        ]
        if not candidates:
            return 0
        queue = (
            Conversation.objects.filter(team_id=team.pk, status=Status.QUEUED)
            .order_by("queued_at", "id")
            .select_for_update(skip_locked=True)
            .values_list("id", "preferred_agent_id")
        )
        if by_capacity:
            room = sum(c.free for c in candidates)
            if room == 0:
                return 0
            queue = queue[:room]
        now = timezone.now()
        backlog = list(queue)
        plan = plan_backlog(backlog, candidates, by_capacity=by_capacity, now=now)
        _apply_backlog_plan(
            plan, team=team, actor=actor, now=now, from_status=Status.QUEUED,
            preferred=dict(backlog),
        )
        return len(plan)


def _apply_backlog_plan(
    plan, *, team: Team | None, actor: Actor, now, from_status: str, preferred: dict
) -> None:
    if not plan:
        return
    by_agent: dict[int, list[int]] = defaultdict(list)
    for item in plan:
        by_agent[item.agent_id].append(item.conversation_id)
    for agent_id in sorted(by_agent):
        Conversation.objects.filter(pk__in=by_agent[agent_id], status=from_status).update(
            status=Status.ASSIGNED, assignee_id=agent_id, auto_assigned=True, assigned_at=now,
            updated_at=now,
        )
    agent_ids = sorted(by_agent)
    User.objects.filter(pk__in=agent_ids).update(
        open_count=F("open_count")
        + Case(
            *[When(pk=a, then=Value(len(by_agent[a]))) for a in agent_ids],
            default=Value(0),
            output_field=IntegerField(),
        )
    )
    if team is not None:
        Membership.objects.filter(team_id=team.pk, agent_id__in=agent_ids).update(
            last_assigned_at=now
        )
    kind_of_actor = actor_kind_of(actor, ActorKind.DISTRIBUTION)
    events = []
    changes = []
    for item in plan:
        team_id = team.pk if team is not None else None
        before = Placement(from_status, team_id, None, preferred.get(item.conversation_id))
        after = Placement(Status.ASSIGNED, team_id, item.agent_id, before.preferred_agent_id)
        events.append(
            ConversationEvent(
                conversation_id=item.conversation_id,
                kind=EventKind.ASSIGNED,
                actor_kind=kind_of_actor,
                actor=actor if isinstance(actor, User) else None,
                from_status=from_status,
                to_status=Status.ASSIGNED,
                from_team_id=team_id,
                to_team_id=team_id,
                to_assignee_id=item.agent_id,
                reason=item.reason
                + (f" Distributed on demand by {name_of(actor)}." if actor else ""),
            )
        )
        changes.append((item.conversation_id, before, after))
    ConversationEvent.objects.bulk_create(events, batch_size=1000)
    _announce_changes(changes)


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
            .select_for_update(skip_locked=True)
            .values_list("id", "team_id")[:room]
        )
        if not reserved:
            return 0
        now = timezone.now()
        ids = [pk for pk, _team_id in reserved]
        Conversation.objects.filter(pk__in=ids).update(
            status=Status.ASSIGNED, assignee_id=agent.pk, auto_assigned=True, assigned_at=now,
            updated_at=now,
        )
        User.objects.filter(pk=agent.pk).update(open_count=F("open_count") + len(ids))
        reason = (
            f"Reserved for {agent.display_name} by an automatic preferential rule; they freed "
            f"capacity ({agent.open_count}/{agent.capacity} before), so it went to them."
        )
        ConversationEvent.objects.bulk_create(
            ConversationEvent(
                conversation_id=pk, kind=EventKind.ASSIGNED,
                actor_kind=ActorKind.PREFERENTIAL_RULE, from_status=Status.RESERVED,
                to_status=Status.ASSIGNED, from_team_id=team_id, to_team_id=team_id,
                to_assignee_id=agent.pk, reason=reason,
            )
            for pk, team_id in reserved
        )
        _announce_changes(
            [
                (
                    pk,
                    Placement(Status.RESERVED, team_id, None, agent.pk),
                    Placement(Status.ASSIGNED, team_id, agent.pk, agent.pk),
                )
                for pk, team_id in reserved
            ]
        )
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
        agent = User.objects.filter(pk=agent_id).only("presence", "is_active", "name",
                                                       "username").first()
        if agent is None or (agent.presence == Presence.ONLINE and agent.is_active):
            return 0
        reserved = list(
            Conversation.objects.filter(status=Status.RESERVED, preferred_agent_id=agent_id)
            .select_related("team")
            .select_for_update(of=("self",))
            .order_by("queued_at", "id")
        )
        now = timezone.now()
        changes = []
        for conversation in reserved:
            before = placement_of(conversation)
            placed = _place_in_team(conversation, conversation.team, now=now)
            conversation.save()
            _event(
                conversation, kind=EventKind.RELEASED, before=before, actor=None,
                default_actor_kind=ActorKind.PREFERENTIAL_RULE,
                reason=(
                    f"The preferred agent {agent.display_name} is {agent.presence}: the "
                    f"reservation was released into normal routing. {placed.reason}"
                ),
            ).save(force_insert=True)
            changes.append((conversation.pk, before, placement_of(conversation)))
        _announce_changes(changes)
        return len(reserved)


# --------------------------------------------------------------------------- agents


def set_presence(*, agent: User, status: str, actor: Actor = None) -> str:
    """Change an agent's presence. Coming online announces AgentAvailable (backlog and
    reserved conversations); leaving online releases their reservations at once.
    Returns the presence before the change."""
    if status not in Presence.values:
        raise InvalidInput(
            f"Presence must be one of {', '.join(Presence.values)}.", field="status"
        )
    now = timezone.now()
    with transaction.atomic():
        before = (
            User.objects.select_for_update().filter(pk=agent.pk).values_list("presence", flat=True)
        ).first()
        if before is None:
            raise UnknownTarget(f"There is no agent with id {agent.pk}.")
        User.objects.filter(pk=agent.pk).update(presence=status, last_heartbeat=now)
        agent.presence = status
        agent.last_heartbeat = now
        if before != status:
            announce(PresenceChanged(agent_id=agent.pk, presence=status))
            if status == Presence.ONLINE:
                announce(AgentAvailable(agent_id=agent.pk, why="came online"))
    if before == Presence.ONLINE and status != Presence.ONLINE:
        release_reservations(agent_id=agent.pk)
    return before


def deactivate_agent(*, agent_id: int, actor: Actor = None) -> None:
    """The person can no longer sign in or receive anything: offline, and what waited
    reserved for them goes into normal routing. Their open conversations stay theirs until a
    supervisor transfers them; their history stays."""
    User.objects.filter(pk=agent_id).update(is_active=False)
    agent = User.objects.filter(pk=agent_id).first()
    if agent is None:
        raise UnknownTarget(f"There is no agent with id {agent_id}.", field="agent")
    set_presence(agent=agent, status=Presence.OFFLINE, actor=actor)
    release_reservations(agent_id=agent_id)


def set_capacity(*, agent_id: int, capacity: int, actor: Actor) -> User:
    """An administrator changes an agent's limit; raising it lets distribution run."""
    if not isinstance(capacity, int) or isinstance(capacity, bool) or not 0 <= capacity <= 10_000:
        raise InvalidInput("Capacity must be a whole number from 0 to 10000.", field="capacity")
    with transaction.atomic():
        agent = User.objects.select_for_update().filter(pk=agent_id).first()
        if agent is None:
            raise UnknownTarget(f"There is no agent with id {agent_id}.", field="agent")
        raised = capacity > agent.capacity
        User.objects.filter(pk=agent_id).update(capacity=capacity)
        agent.capacity = capacity
        if raised:
            announce(AgentAvailable(agent_id=agent_id, why="limit raised"))
        return agent


def record_heartbeat(*, agent: User, every_seconds: int = 15) -> None:
    """Any request of the agent's is a heartbeat; written at most every few seconds."""
    now = timezone.now()
    if agent.last_heartbeat and (now - agent.last_heartbeat).total_seconds() < every_seconds:
        return
    User.objects.filter(pk=agent.pk).update(last_heartbeat=now)
    agent.last_heartbeat = now


def sweep_stale_presence(*, timeout_seconds: int) -> int:
    """Agents with no heartbeat for ``timeout_seconds`` become offline."""
    cutoff = timezone.now() - timezone.timedelta(seconds=timeout_seconds)
    stale = User.objects.filter(
        ~Q(presence=Presence.OFFLINE),
        Q(last_heartbeat__lt=cutoff) | Q(last_heartbeat__isnull=True),
    )
    swept = 0
    for agent in stale:
        set_presence(agent=agent, status=Presence.OFFLINE)
        swept += 1
    return swept


def sweep_routing() -> int:
    """The safety net: redistribute every ``capacity`` team, hand reserved conversations to
    online preferred agents with room, release those of agents who are not online."""
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

