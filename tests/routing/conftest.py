import itertools

import pytest

from apps.conversations.services import receive_inbound_message
from apps.routing.invariants import check_invariants

_contacts = itertools.count(1)


@pytest.fixture
def arrive():
    """A contact writes in: the public intake service, as the API's inbound calls it."""

    def _arrive(*, team=None, contact=None, body="Olá, preciso de ajuda", actor=None):
        external_id = contact.external_id if contact else f"whatsapp:{next(_contacts)}"
        conversation, _message, _created = receive_inbound_message(
            external_id=external_id, body=body, team=team, actor=actor, channel="whatsapp"
        )
        conversation.refresh_from_db()
        return conversation

    return _arrive


@pytest.fixture
def invariants_hold():
    def _check():
        problems = check_invariants()
        assert problems == []

    return _check
