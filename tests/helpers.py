"""What many tests need: a contact writing in, as the API's inbound does."""

import itertools

from apps.conversations.models import Conversation
from apps.conversations.services import receive_inbound_message

_contacts = itertools.count(1)


def arrive(
    external_id: str | None = None,
    *,
    team=None,
    contact=None,
    body: str = "Olá, preciso de ajuda",
    actor=None,
    channel: str = "whatsapp",
    requirements: dict[int, int] | None = None,
) -> Conversation:
    """A contact writes in through the public intake service; returns the conversation as
    it stands after routing (fresh from the database)."""
    if contact is not None:
        external_id = contact.external_id
    elif external_id is None:
        external_id = f"whatsapp:{next(_contacts)}"
    conversation, _message, _created = receive_inbound_message(
        external_id=external_id, body=body, team=team, actor=actor, channel=channel,
        requirements=requirements,
    )
    conversation.refresh_from_db()
    return conversation
