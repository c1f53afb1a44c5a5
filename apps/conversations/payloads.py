"""The one builder of each conversation-shaped payload: the API's responses and the live
inbox's websocket events both use these, so a client sees the same object on both."""

from apps.conversations.models import Conversation, Message
from apps.conversations.requirements import requirements_of
from apps.conversations.waits import queue_of
from apps.core.time import iso


def agent_summary(user) -> dict | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.username, "name": user.display_name}


def last_message_payload(message: Message | None) -> dict | None:
    """api.md's ``{id, sender, body, created_at}``."""
    if message is None:
        return None
    return {
        "id": message.pk,
        "sender": message.sender_kind,
        "body": message.body,
        "created_at": iso(message.created_at),
    }


def message_payload(message: Message) -> dict:
    """A message with the agent who wrote it (null for the contact). Expects ``author``
    selected."""
    return {**last_message_payload(message), "author": agent_summary(message.author)}


def rating_payload(conversation: Conversation) -> dict | None:
    """``{score, comment, at}`` once the customer rated it, else None."""
    rating = conversation.rating
    return None if rating is None else {**rating, "at": iso(rating["at"])}


def conversation_payload(conversation: Conversation) -> dict:
    """The conversation object of api.md plus display names and the last activity. Expects
    contact, team, assignee, preferred_agent and last_message selected, and for lists the
    queue positions attached (``apps.conversations.waits.attach_queue_info``: one query for the
    whole list instead of a few per queued conversation)."""
    return {
        "id": conversation.pk,
        "contact": conversation.contact_id,
        "channel": conversation.channel,
        "status": conversation.status,
        "team": conversation.team_id,
        "assignee": conversation.assignee_id,
        "preferred_agent": conversation.preferred_agent_id,
        "preferred_type": conversation.preferred_type or None,
        "created_at": iso(conversation.created_at),
        "updated_at": iso(conversation.updated_at),
        "closed_at": iso(conversation.closed_at),
        "last_message": last_message_payload(conversation.last_message),
        "reserved_until": iso(conversation.reserved_until),
        "reply_due_at": iso(conversation.reply_due_at),
        "queue": queue_of(conversation),
        "rating": rating_payload(conversation),
        "requirements": requirements_of(conversation),
        "ladder_step": conversation.ladder_step,
        "next_step_at": iso(conversation.next_step_at),
        "last_activity_at": iso(conversation.last_activity_at),
        "integration": conversation.integration_id,
        "queued_at": iso(conversation.queued_at),
        "contact_name": str(conversation.contact),
        "team_name": conversation.team.name if conversation.team_id else None,
        "assignee_name": conversation.assignee.display_name if conversation.assignee_id else None,
        "preferred_agent_name": (
            conversation.preferred_agent.display_name if conversation.preferred_agent_id else None
        ),
    }
