"""The outbox: each webhook event is a Delivery row written in the transaction of the change it
reports, so a broker or worker failure after commit delays it and never loses it.

Two writers call in, and only they: the engine's history (``record_history``, from
``apps.routing.services.history.record_event`` and the bulk backlog paths) and the agents'
replies (``record_reply``, from ``apps.conversations.services.post_reply``). Which history
kinds become which webhook type is decided once, here (``event_type_of``), and only for
conversations that belong to an integration with an active webhook: finding those among a
batch of changes is one query, whatever the batch's size, and a batch of conversations that
belong to nobody writes nothing. The receiver's body, with the conversation as it stood at
the change, is built once and stored; a worker delivers it after commit (``dispatch``).
"""

import json
import uuid
from collections.abc import Iterable

from django.db.models import QuerySet

from apps.conversations.models import (
    Conversation,
    ConversationEvent,
    EventKind,
    Message,
    SenderKind,
    Status,
)
from apps.conversations.payloads import conversation_payload, message_payload
from apps.conversations.waits import attach_queue_info
from apps.core.time import iso
from apps.webhooks import dispatch
from apps.webhooks.models import Delivery, EventType

WAITING_STATUSES = (Status.QUEUED, Status.WAITING, Status.RESERVED)


def event_type_of(event: ConversationEvent) -> str | None:
    """The webhook type of one history event (None: nothing to tell the channel).

    Closing and transfers are themselves; any other change that leaves the conversation with
    an agent is an assignment (a claim, a supervisor's assignment, automatic distribution, a
    preferential rule); one that leaves it waiting for an agent (a team's queue, Waiting, or
    reserved for its preferred agent) is ``conversation.queued``.
    """
    if event.kind == EventKind.CLOSED:
        return EventType.CLOSED
    if event.kind == EventKind.TRANSFERRED:
        return EventType.TRANSFERRED
    if event.to_status == Status.ASSIGNED:
        return EventType.ASSIGNED
    if event.to_status in WAITING_STATUSES:
        return EventType.QUEUED
    return None


def deliverable_conversations(conversation_ids: Iterable[int]) -> QuerySet[Conversation]:
    """Those of ``conversation_ids`` that belong to an integration with an active webhook,
    with everything their snapshot shows (one query)."""
    return (
        Conversation.objects.filter(
            pk__in=list(conversation_ids),
            integration__active=True,
            integration__revoked_at__isnull=True,
        )
        .exclude(integration__webhook_url="")
        .select_related("contact", "team", "assignee", "preferred_agent", "last_message")
    )


def person(user) -> dict | None:
    """An agent as a channel sees them: ``{id, name}``."""
    return None if user is None else {"id": user.pk, "name": user.display_name}


def _delivery(conversation: Conversation, type_: str, at, **extra) -> Delivery:
    delivery_id = uuid.uuid4()
    body = {
        "id": str(delivery_id),
        "type": type_,
        "at": iso(at),
        "conversation": conversation_payload(conversation),
        **extra,
    }
    return Delivery(
        uuid=delivery_id, integration_id=conversation.integration_id,
        conversation_id=conversation.pk, type=type_, body=encode(body), next_attempt_at=at,
    )


def encode(body: dict) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def record_history(events: list[ConversationEvent]) -> int:
    """The webhook events of a batch of history events (saved, in the transaction that made
    the changes, after the conversations were written). Returns how many were written."""
    typed = [(event, t) for event in events if (t := event_type_of(event))]
    if not typed:
        return 0
    owned = {c.pk: c for c in deliverable_conversations({e.conversation_id for e, _ in typed})}
    attach_queue_info(list(owned.values()))  # queue places for the batch in one query
    rows = []
    for event, type_ in typed:
        conversation = owned.get(event.conversation_id)
        if conversation is None:
            continue
        extra = {}
        if type_ == EventType.ASSIGNED:
            extra["agent"] = person(conversation.assignee)
        elif type_ == EventType.TRANSFERRED:
            assigned = conversation.status == Status.ASSIGNED
            extra["agent"] = person(conversation.assignee) if assigned else None
        rows.append(_delivery(conversation, type_, event.at, **extra))
    return _write(rows)


def record_reply(conversation: Conversation, message: Message) -> int:
    """``message.created`` for an agent's reply in a conversation that belongs to an
    integration (nothing, and no query, for any other conversation)."""
    if message.sender_kind != SenderKind.AGENT or conversation.integration_id is None:
        return 0
    owned = next(iter(deliverable_conversations([conversation.pk])), None)
    if owned is None:
        return 0
    shown = {**message_payload(message), "author": person(message.author)}
    return _write([_delivery(owned, EventType.MESSAGE_CREATED, message.created_at,
                             message=shown)])


def _write(rows: list[Delivery]) -> int:
    if not rows:
        return 0
    Delivery.objects.bulk_create(rows, batch_size=1000)
    dispatch.deliver_after_commit({row.integration_id for row in rows})
    return len(rows)
