"""Checks every service makes before it changes anything: who is asking, whether they may
see the conversation, and the locked loads of what the change is about."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.accounts.models import User, is_person
from apps.conversations import selectors
from apps.conversations.models import Conversation, Status
from apps.core.limits import is_id
from apps.routing.errors import (
    ConversationClosed,
    ConversationNotFound,
    NotAllowedToRoute,
    UnknownTarget,
)
from apps.routing.services.history import Actor
from apps.teams.models import Team


def require_person(actor: Actor) -> User:
    if not is_person(actor):
        raise NotAllowedToRoute(_("Only a signed-in agent can do this."))
    return actor


def require_supervisor(actor: Actor) -> User:
    user = require_person(actor)
    if not user.is_supervisor:
        raise NotAllowedToRoute(_("Only a supervisor or an administrator can do this."))
    return user


def not_visible(conversation_id) -> ConversationNotFound:
    """The one answer for a conversation that does not exist and for one the person may
    not see: nothing about it leaks through a refusal."""
    return ConversationNotFound(
        _("There is no conversation %(id)s, or you cannot see it.") % {"id": conversation_id}
    )


def require_visible(principal: Actor, conversation: Conversation) -> None:
    """An agent acts only on what they may see (Waiting, their teams, their own), an
    integration only on its own conversations (apps.conversations.visibility)."""
    if not selectors.may_see(principal, conversation):
        raise not_visible(conversation.pk)


def require_open(conversation: Conversation) -> None:
    if conversation.status == Status.CLOSED:
        raise ConversationClosed(
            _("Conversation %(id)s is already closed.") % {"id": conversation.pk}
        )


def locked_conversation(conversation_id: int) -> Conversation:
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("team", "assignee", "preferred_agent", "contact")
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None:
        raise not_visible(conversation_id)
    return conversation


HOLDER_ONLY = {
    "transfer": gettext_lazy(
        "Only the agent who has this conversation, or a supervisor, can transfer it."
    ),
    "close": gettext_lazy(
        "Only the agent who has this conversation, or a supervisor, can close it."
    ),
}


def locked_for_holder(conversation_id: int, person: User, *, verb: str) -> Conversation:
    """Lock an open conversation that ``person`` holds, or may act on as a supervisor
    (``verb``: a key of HOLDER_ONLY, what they are refused otherwise)."""
    conversation = locked_conversation(conversation_id)
    require_visible(person, conversation)
    require_open(conversation)
    holds_it = conversation.status == Status.ASSIGNED and conversation.assignee_id == person.pk
    if not (holds_it or person.is_supervisor):
        raise NotAllowedToRoute(str(HOLDER_ONLY[verb]))
    return conversation


def active_agent(agent_id) -> User:
    agent = User.objects.filter(pk=agent_id, is_active=True).first() if is_id(agent_id) else None
    if agent is None:
        raise UnknownTarget(
            _("There is no active agent with id %(id)s.") % {"id": agent_id}, field="agent"
        )
    return agent


def existing_team(team_id) -> Team:
    team = Team.objects.filter(pk=team_id).first() if is_id(team_id) else None
    if team is None:
        raise UnknownTarget(
            _("There is no team with id %(id)s.") % {"id": team_id}, field="team"
        )
    return team

