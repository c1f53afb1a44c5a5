"""The conversation's history: who did it, and one function that writes an event.

Every change of a conversation's team, agent or state writes one ConversationEvent with the
placement before and after, the actor and the reason (codes and parameters, see
apps.conversations.reasons), and announces the change after commit. The same write records
the change's webhook event for the integration the conversation belongs to, if any
(``record_history``; bulk writers call it once per batch, see apps.webhooks.outbox).
Every event, bulk ones included, is built by ``event_row``, which logs the decision (INFO on
"atende.routing", with the conversation and agent ids) once its transaction commits.
"""

import logging

from django.db import transaction

from apps.accounts.models import IntegrationClient, Role, User
from apps.conversations.events import ConversationsChanged, Placement
from apps.conversations.models import ActorKind, Conversation, ConversationEvent
from apps.conversations.reasons import Part, part
from apps.core.announce import announce
from apps.webhooks.outbox import record_history

Actor = User | IntegrationClient | None
logger = logging.getLogger("atende.routing")


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


def name_of(actor: Actor) -> str | Part:
    """The actor's name as a reason parameter ("the system", translated, for None)."""
    return actor.display_name if actor is not None else part("the_system")


def event_row(
    conversation_id: int,
    *,
    kind: str,
    before: Placement | None,
    after: Placement,
    actor: Actor,
    reason: list[Part],
    actor_kind: str | None = None,
    data: dict | None = None,
) -> ConversationEvent:
    """An unsaved event (for bulk writes; ``record_event`` saves one)."""
    event = ConversationEvent(
        conversation_id=conversation_id,
        kind=kind,
        actor_kind=actor_kind or actor_kind_of(actor),
        actor=actor if isinstance(actor, User) else None,
        actor_integration=actor if isinstance(actor, IntegrationClient) else None,
        from_status=before.status if before else "",
        from_team_id=before.team_id if before else None,
        from_assignee_id=before.assignee_id if before else None,
        to_status=after.status,
        to_team_id=after.team_id,
        to_assignee_id=after.assignee_id,
        reason_parts=list(reason),
        data=data or {},
    )
    if logger.isEnabledFor(logging.INFO):
        transaction.on_commit(lambda: log_decision(event))
    return event


def log_decision(event: ConversationEvent) -> None:
    logger.info(
        "routing decision: %s", event.kind,
        extra={
            "event": "routing.decision",
            "kind": event.kind,
            "conversation_id": event.conversation_id,
            "agent_id": event.to_assignee_id,
            "from_agent_id": event.from_assignee_id,
            "team_id": event.to_team_id,
            "from_team_id": event.from_team_id,
            "status": event.to_status,
            "from_status": event.from_status,
            "actor_kind": event.actor_kind,
            "actor_id": event.actor_id,
            "integration_id": event.actor_integration_id,
            "event_id": event.pk,
        },
    )


def record_event(
    conversation: Conversation,
    *,
    kind: str,
    before: Placement | None,
    actor: Actor,
    reason: list[Part],
    actor_kind: str | None = None,
    data: dict | None = None,
    write=None,
) -> ConversationEvent:
    """Write the event of one change of ``conversation`` (as it stands now) and announce
    the change after commit. ``write(event)``, if given, saves the event (with the rows
    written in the same statement: a new conversation's)."""
    after = conversation.placement
    event = event_row(
        conversation.pk, kind=kind, before=before, after=after, actor=actor, reason=reason,
        actor_kind=actor_kind, data=data,
    )
    if write is None:
        event.save(force_insert=True)
    else:
        write(event)
    if conversation.integration_id is not None:
        record_history([event])
    announce_changes([(conversation.pk, before, after)])
    return event


def announce_changes(changes: list[tuple[int, Placement | None, Placement]]) -> None:
    if changes:
        announce(ConversationsChanged(changes=tuple(changes)))
