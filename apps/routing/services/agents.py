"""Agents as the engine sees them: their limit, and whether they can receive anything."""

from django.db import transaction
from django.utils.translation import gettext as _

from apps.accounts.events import AccessChanged
from apps.accounts.history import record_agent_change
from apps.accounts.models import AgentChangeKind, ChangeCause, Presence, User
from apps.conversations.models import Conversation, EventKind, Status
from apps.conversations.reasons import part
from apps.core.announce import announce
from apps.core.db import retry_on_deadlock
from apps.core.errors import InvalidInput
from apps.core.limits import MAX_CAPACITY
from apps.routing.errors import UnknownTarget
from apps.routing.services.backlog import release_reservations
from apps.routing.services.history import Actor
from apps.routing.services.load import distribute_when_available
from apps.routing.services.presence import set_presence
from apps.routing.services.requeue import return_to_team
from apps.skills import services as skills_services


def set_capacity(*, agent_id: int, capacity: int, actor: Actor) -> User:
    """An administrator changes an agent's limit; raising it lets distribution run."""
    if (
        not isinstance(capacity, int)
        or isinstance(capacity, bool)
        or not 0 <= capacity <= MAX_CAPACITY
    ):
        raise InvalidInput(
            _("Capacity must be a whole number from 0 to %(max)s.") % {"max": MAX_CAPACITY},
            field="capacity",
        )
    with transaction.atomic():
        agent = User.objects.select_for_update().filter(pk=agent_id).first()
        if agent is None:
            raise UnknownTarget(
                _("There is no agent with id %(id)s.") % {"id": agent_id}, field="agent"
            )
        raised = capacity > agent.capacity
        if capacity != agent.capacity:
            record_agent_change(
                agent_id=agent_id, kind=AgentChangeKind.CAPACITY, before=agent.capacity,
                after=capacity, actor=actor,
            )
        User.objects.filter(pk=agent_id).update(capacity=capacity)
        agent.capacity = capacity
        if raised:
            distribute_when_available(agent_id)
        return agent


def deactivate_agent(*, agent_id: int, actor: Actor = None) -> User:
    """The person can no longer sign in or receive anything: offline, what waited reserved
    for them goes into normal routing, and their open conversations go back to their teams
    (or Waiting) at once, distributed like any other, with the reason in their history
    (routing.md section 2): nobody could answer them any more. Their history stays."""
    with transaction.atomic():
        was_active = User.objects.filter(pk=agent_id).values_list("is_active", flat=True).first()
        if not User.objects.filter(pk=agent_id).update(is_active=False):
            raise UnknownTarget(
                _("There is no agent with id %(id)s.") % {"id": agent_id}, field="agent"
            )
        if was_active:
            record_agent_change(
                agent_id=agent_id, kind=AgentChangeKind.DEACTIVATED, before=True, after=False,
                actor=actor,
            )
        # First of this transaction's announcements: their sockets close before any push
        # that reflects the change (apps.inbox.access).
        announce(AccessChanged(agent_ids=(agent_id,)))
        agent = User.objects.get(pk=agent_id)
        set_presence(
            agent=agent, status=Presence.OFFLINE, actor=actor, cause=ChangeCause.DEACTIVATED
        )
    release_reservations(agent_id=agent_id)
    give_back_open_conversations(agent_id=agent_id, actor=actor)
    return agent


def give_back_open_conversations(*, agent_id: int, actor: Actor = None) -> int:
    """A deactivated agent's open conversations back into their teams (or Waiting), one
    team per transaction; returns how many moved. Nothing happens for an active agent."""
    team_ids = (
        Conversation.objects.filter(status=Status.ASSIGNED, assignee_id=agent_id)
        .order_by().values_list("team_id", flat=True).distinct()
    )
    moved = 0
    for team_id in sorted(set(team_ids), key=lambda t: (t is None, t or 0)):
        moved += _give_back(agent_id=agent_id, team_id=team_id, actor=actor)
    return moved


@retry_on_deadlock
def _give_back(*, agent_id: int, team_id: int | None, actor: Actor) -> int:
    with transaction.atomic():
        if not User.objects.filter(pk=agent_id, is_active=False).exists():
            return 0  # active again meanwhile: theirs to answer
        rows = list(
            Conversation.objects.filter(
                status=Status.ASSIGNED, assignee_id=agent_id, team_id=team_id
            )
            .select_related("contact", "assignee", "preferred_agent", "team")
            .select_for_update(of=("self",))
            .order_by("pk")
        )
        if not rows:
            return 0
        team = rows[0].team
        name = rows[0].assignee.display_name
        reason = (
            [part("deactivated_given_back", agent=name, team=team.name)] if team is not None
            else [part("deactivated_given_back_waiting", agent=name)]
        )
        moved = return_to_team(
            team, rows, kind=EventKind.GIVEN_BACK, reasons={c.pk: reason for c in rows},
            data={}, actor=actor,
        )
        return len(moved)


def activate_agent(*, agent_id: int, actor: Actor = None) -> User:
    """The person may sign in again. They come back offline: opening the inbox brings them
    online, as for anyone."""
    with transaction.atomic():
        was_active = User.objects.filter(pk=agent_id).values_list("is_active", flat=True).first()
        if not User.objects.filter(pk=agent_id).update(is_active=True):
            raise UnknownTarget(
                _("There is no agent with id %(id)s.") % {"id": agent_id}, field="agent"
            )
        if not was_active:
            record_agent_change(
                agent_id=agent_id, kind=AgentChangeKind.ACTIVATED, before=False, after=True,
                actor=actor,
            )
        return User.objects.get(pk=agent_id)


def set_agent_skills(*, agent_id: int, levels: dict[int, int], actor) -> list[dict]:
    """Make the agent's skills exactly ``levels`` (skill id -> 1-5), recorded in the history
    of people; once it commits, a worker gives them what they can now serve."""
    with transaction.atomic():
        after = skills_services.set_agent_skills(agent_id=agent_id, levels=levels, actor=actor)
        distribute_when_available(agent_id)
    return after
