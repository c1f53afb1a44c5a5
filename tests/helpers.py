"""What many tests need: a contact writing in, as the API's inbound does, and waiting for
something another process does."""

import itertools
import time

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


def wait_until(condition, *, within: float = 60, what: str = "condition", every: float = 0.1):
    """Polls ``condition`` until it returns something true (returned) or ``within`` seconds
    pass (an AssertionError naming ``what``): for what a worker or a server does in its own
    process, never a fixed sleep."""
    deadline = time.monotonic() + within
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not within {within:g} s")
        time.sleep(every)
