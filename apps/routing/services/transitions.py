"""A person's (or a bot's) move on one conversation: route it again, claim it (ATENDER),
assign it, transfer it, close it (routing.md sections 1 and 3).

Each is one transaction that locks the conversation first, then at most the agents it
touches in id order; a claim is a conditional UPDATE that exactly one of concurrent
claims wins.
"""

from collections import defaultdict

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import IntegrationClient, User
from apps.conversations import selectors
from apps.conversations.models import Conversation, ConversationEvent, EventKind, Status
from apps.conversations.payloads import agent_summary
from apps.conversations.reasons import part
from apps.core.db import retry_on_deadlock
from apps.core.errors import InvalidInput
from apps.routing.decisions import Levels, describe_requirements
from apps.routing.errors import (
    ConversationAlreadyTaken,
    ConversationClosed,
    InvalidTransition,
    NotAllowedToRoute,
)
from apps.routing.services.guards import (
    active_agent,
    existing_team,
    locked_conversation,
    locked_for_holder,
    not_visible,
    require_open,
    require_person,
    require_supervisor,
    require_visible,
)
from apps.routing.services.history import Actor, name_of, record_event
from apps.routing.services.ladder_clock import skill_names
from apps.routing.services.load import distribute_when_available, shift_loads, touch_rotation
from apps.routing.services.placing import place_in_team
from apps.routing.services.requirements import replace_requirements


@retry_on_deadlock
def route_to_team(
    *, conversation_id: int, team_id: int, actor: Actor, requirements: Levels | None = None
) -> Conversation:
    """A bot (or supervisor) routes a waiting, queued or reserved conversation to a team:
    routing again from step 2, recorded. ``requirements`` ({skill id: minimum level}),
    when given, replace the conversation's; the team's ladder starts afresh."""
    if not (isinstance(actor, IntegrationClient) or getattr(actor, "is_supervisor", False)):
        raise NotAllowedToRoute(
            _("Only a bot integration or a supervisor can route conversations.")
        )
    with transaction.atomic():
        team = existing_team(team_id)
        conversation = locked_conversation(conversation_id)
        require_visible(actor, conversation)  # an integration: its own conversations only
        require_open(conversation)
        if conversation.status == Status.ASSIGNED:
            raise InvalidTransition(
                _("Conversation %(id)s is already assigned to %(agent)s: transfer it instead.")
                % {"id": conversation.pk, "agent": conversation.assignee.display_name},
                assignee=agent_summary(conversation.assignee),
            )
        before = conversation.placement
        reason = [part("routed_by", actor=name_of(actor), team=team.name)]
        if requirements is not None:
            requirements = replace_requirements(conversation, requirements)
            conversation.ladder_step = 0
            if requirements:
                reason.append(part("requires", requirements=describe_requirements(
                    requirements, skill_names(requirements))))
        placed = place_in_team(
            conversation, team, now=timezone.now(), requirements=requirements
        )
        conversation.save()
        record_event(
            conversation, kind=EventKind.ROUTED, before=before, actor=actor,
            reason=[*reason, placed.reason],
        )
        return conversation


# How long after a conversation left Waiting the agents who lost the race for it are still
# told who won (they saw it in Waiting moments ago); later it is one they cannot see.
LOST_RACE_WINDOW_SECONDS = 30


def _just_taken_from_waiting(conversation: Conversation) -> bool:
    """The conversation is where the claim (or assignment) that took it out of Waiting put
    it, and that happened within LOST_RACE_WINDOW_SECONDS: a claim now is a lost race."""
    if conversation.status != Status.ASSIGNED or conversation.team_id is not None:
        return False
    last = (
        ConversationEvent.objects.filter(conversation_id=conversation.pk)
        .order_by("-at", "-id")
        .values("from_status", "to_status", "at")
        .first()
    )
    return bool(
        last
        and last["from_status"] == Status.WAITING
        and last["to_status"] == Status.ASSIGNED
        and (timezone.now() - last["at"]).total_seconds() <= LOST_RACE_WINDOW_SECONDS
    )


def _claim_refusal(conversation: Conversation, agent: User) -> Exception | None:
    """Why a claim by ``agent`` cannot succeed on the conversation as it stands (None: it
    can). Visibility was checked before."""
    if conversation.status == Status.CLOSED:
        return ConversationClosed(
            _("Conversation %(id)s is already closed.") % {"id": conversation.pk}
        )
    if conversation.status == Status.ASSIGNED:
        holder = conversation.assignee
        return ConversationAlreadyTaken(
            _("%(agent)s already took conversation %(id)s.")
            % {"agent": holder.display_name, "id": conversation.pk},
            assignee=agent_summary(holder),
        )
    if agent.is_supervisor or conversation.status == Status.WAITING:
        return None
    if conversation.status == Status.RESERVED:
        if conversation.preferred_agent_id == agent.pk:
            return None
        return NotAllowedToRoute(
            _("Conversation %(id)s is reserved for its preferred agent.") % {"id": conversation.pk}
        )
    return None  # queued in a team: visible to them means they are a member


def _claim_reason(from_status: str, agent: User, conversation: Conversation):
    if from_status == Status.WAITING:
        return part("claimed_from_waiting", agent=agent.display_name)
    if from_status == Status.RESERVED:
        return part("claimed_reserved", agent=agent.display_name)
    return part("claimed_from_team", agent=agent.display_name, team=conversation.team.name)


@retry_on_deadlock
def claim_conversation(*, conversation_id: int, agent: User) -> Conversation:
    """ATENDER: the agent takes a waiting, queued (their team) or reserved (for them)
    conversation. Allowed above capacity. Of concurrent claims exactly one wins; the others
    get ConversationAlreadyTaken naming the winner."""
    agent = require_person(agent)
    conversation = (
        Conversation.objects.select_related("team", "assignee").filter(pk=conversation_id).first()
    )
    if conversation is None:
        raise not_visible(conversation_id)
    if conversation.status == Status.ASSIGNED and conversation.assignee_id == agent.pk:
        return conversation
    if (
        not selectors.may_see(agent, conversation)
        and not _just_taken_from_waiting(conversation)
        and not selectors.is_overflow_work_for(agent, conversation)
    ):
        # The same answer as for a conversation that does not exist: nothing about who
        # holds or closed it leaks. Only the losers of a race for a Waiting conversation,
        # which everyone saw, are told who won, right after (not at any later time).
        raise not_visible(conversation_id)
    refusal = _claim_refusal(conversation, agent)
    if refusal is not None:
        raise refusal
    before = conversation.placement
    now = timezone.now()
    with transaction.atomic():
        won = Conversation.objects.filter(
            pk=conversation.pk,
            status=before.status,
            team_id=before.team_id,
            assignee__isnull=True,
        ).update(
            status=Status.ASSIGNED, assignee=agent, auto_assigned=False, assigned_at=now,
            updated_at=now, reserved_until=None, reply_due_at=None, handed_over_from=None,
            next_step_at=None,
        )
        if not won:
            current = (
                Conversation.objects.select_related("team", "assignee")
                .filter(pk=conversation.pk)
                .first()
            )
            refusal = _claim_refusal(current, agent) if current else None
            raise refusal or InvalidTransition(
                _("Conversation %(id)s changed while you were taking it; look again.")
                % {"id": conversation.pk},
            )
        shift_loads({agent.pk: 1})
        touch_rotation(before.team_id, agent.pk, now)
        conversation.status = Status.ASSIGNED
        conversation.assignee = agent
        conversation.auto_assigned = False
        conversation.assigned_at = now
        conversation.updated_at = now
        conversation.reserved_until = conversation.reply_due_at = None
        conversation.handed_over_from = None
        conversation.next_step_at = None
        record_event(
            conversation, kind=EventKind.CLAIMED, before=before, actor=agent,
            reason=[_claim_reason(before.status, agent, conversation)],
        )
    return conversation


def _hand_to_agent(
    conversation: Conversation, target: User, *, actor: User, kind: str, reason
) -> Conversation:
    before = conversation.placement
    previous = before.assignee_id if before.status == Status.ASSIGNED else None
    now = timezone.now()
    conversation.status = Status.ASSIGNED
    conversation.assignee = target
    conversation.auto_assigned = False
    conversation.assigned_at = now
    conversation.reserved_until = conversation.reply_due_at = None  # a person chose: no clock
    conversation.handed_over_from = None
    conversation.next_step_at = None
    if previous:
        conversation.handed_at = now  # no answer from a queue (docs/reports.md: wait)
    conversation.save()
    deltas = defaultdict(int)
    deltas[target.pk] += 1
    if previous:
        deltas[previous] -= 1
    shift_loads(deltas)
    touch_rotation(conversation.team_id, target.pk, now)
    record_event(conversation, kind=kind, before=before, actor=actor, reason=[reason])
    distribute_when_available(previous)
    return conversation


@retry_on_deadlock
def assign_conversation(*, conversation_id: int, agent_id: int, actor: Actor) -> Conversation:
    """A supervisor gives any open conversation to any agent (above capacity if need be)."""
    supervisor = require_supervisor(actor)
    with transaction.atomic():
        conversation = locked_conversation(conversation_id)
        require_open(conversation)
        target = active_agent(agent_id)
        if conversation.status == Status.ASSIGNED and conversation.assignee_id == target.pk:
            return conversation
        previous = conversation.assignee if conversation.status == Status.ASSIGNED else None
        if previous:
            reason = part(
                "supervisor_reassigned", supervisor=supervisor.display_name,
                agent=target.display_name, previous=previous.display_name,
            )
        else:
            reason = part(
                "supervisor_assigned", supervisor=supervisor.display_name,
                agent=target.display_name,
            )
        return _hand_to_agent(
            conversation, target, actor=supervisor, kind=EventKind.ASSIGNED, reason=reason
        )


@retry_on_deadlock
def transfer_conversation(
    *, conversation_id: int, actor: Actor, team_id: int | None = None, agent_id: int | None = None
) -> Conversation:
    """The assignee (or a supervisor) hands a conversation to another team, where it enters
    routing again, or to another agent."""
    person = require_person(actor)
    if (team_id is None) == (agent_id is None):
        raise InvalidInput(_("Give either a team or an agent to transfer to, not both."))
    with transaction.atomic():
        conversation = locked_for_holder(conversation_id, person, verb="transfer")
        if agent_id is not None:
            target = active_agent(agent_id)
            if conversation.status == Status.ASSIGNED and conversation.assignee_id == target.pk:
                raise InvalidTransition(
                    _("%(agent)s already has this conversation.") % {"agent": target.display_name}
                )
            return _hand_to_agent(
                conversation, target, actor=person, kind=EventKind.TRANSFERRED,
                reason=part(
                    "transferred_to_agent", actor=person.display_name, agent=target.display_name
                ),
            )
        team = existing_team(team_id)
        before = conversation.placement
        previous = before.assignee_id if before.status == Status.ASSIGNED else None
        if previous:
            shift_loads({previous: -1})
        placed = place_in_team(conversation, team, now=timezone.now(), exclude_agent_id=previous)
        conversation.save()
        record_event(
            conversation, kind=EventKind.TRANSFERRED, before=before, actor=person,
            reason=[
                part("transferred_to_team", actor=person.display_name, team=team.name),
                placed.reason,
            ],
        )
        distribute_when_available(previous)
        return conversation


@retry_on_deadlock
def close_conversation(*, conversation_id: int, actor: Actor) -> Conversation:
    """The assignee or a supervisor closes a conversation; closing frees capacity."""
    person = require_person(actor)
    with transaction.atomic():
        conversation = locked_for_holder(conversation_id, person, verb="close")
        before = conversation.placement
        previous = before.assignee_id if before.status == Status.ASSIGNED else None
        conversation.status = Status.CLOSED
        conversation.closed_at = timezone.now()
        conversation.reserved_until = conversation.reply_due_at = None
        conversation.handed_over_from = None
        conversation.next_step_at = None
        conversation.save()
        if previous:
            shift_loads({previous: -1})
        record_event(
            conversation, kind=EventKind.CLOSED, before=before, actor=person,
            reason=[part("closed_by", actor=person.display_name)],
        )
        distribute_when_available(previous)
        return conversation
