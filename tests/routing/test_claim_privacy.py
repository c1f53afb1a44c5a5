"""Claiming tells nothing about a conversation the agent cannot see: not who holds it, not
that it was closed, not even that it exists. Only the loser of a race for a Waiting
conversation, moments after losing it, is told who won (routing.md: 409 with the assignee)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.routing import services
from apps.routing.errors import ConversationAlreadyTaken, ConversationNotFound
from tests.api.conftest import client_for
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db


def refusal(agent, conversation_id):
    with pytest.raises(Exception) as caught:
        services.claim_conversation(conversation_id=conversation_id, agent=agent)
    return caught.value


def same_answer_as_missing(agent, conversation_id):
    hidden = refusal(agent, conversation_id)
    missing = refusal(agent, conversation_id + 10_000)
    assert isinstance(hidden, ConversationNotFound), hidden
    assert hidden.as_dict() == {
        **missing.as_dict(),
        "detail": missing.detail.replace(str(conversation_id + 10_000), str(conversation_id)),
    }
    response = client_for(agent).post(f"/api/v1/conversations/{conversation_id}/claim")
    gone = client_for(agent).post(f"/api/v1/conversations/{conversation_id + 10_000}/claim")
    assert response.status_code == gone.status_code == 404
    assert set(response.json()) == set(gone.json())
    assert "assignee" not in response.json()


def test_the_race_loser_learns_the_winner_right_away(arrive):
    winner, loser = AgentFactory(name="Winner"), AgentFactory()
    conversation = arrive()
    services.claim_conversation(conversation_id=conversation.pk, agent=winner)
    lost = refusal(loser, conversation.pk)
    assert isinstance(lost, ConversationAlreadyTaken)
    assert lost.assignee["id"] == winner.pk


def test_later_the_holder_of_a_former_waiting_conversation_is_not_revealed(arrive):
    winner, outsider = AgentFactory(name="Winner"), AgentFactory()
    conversation = arrive()
    services.claim_conversation(conversation_id=conversation.pk, agent=winner)
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        same_answer_as_missing(outsider, conversation.pk)


def test_a_closed_conversation_one_cannot_see_is_not_revealed(arrive):
    winner, outsider = AgentFactory(), AgentFactory()
    conversation = arrive()
    services.claim_conversation(conversation_id=conversation.pk, agent=winner)
    services.close_conversation(conversation_id=conversation.pk, actor=winner)
    same_answer_as_missing(outsider, conversation.pk)


def test_a_quick_handover_after_the_race_is_not_revealed(arrive):
    """The winner passed it on to someone else within the window: the outsider never saw
    that second holder, so they are not told."""
    winner, other, outsider = AgentFactory(), AgentFactory(), AgentFactory()
    conversation = arrive()
    services.claim_conversation(conversation_id=conversation.pk, agent=winner)
    services.transfer_conversation(conversation_id=conversation.pk, actor=winner,
                                   agent_id=other.pk)
    same_answer_as_missing(outsider, conversation.pk)
