"""Every websocket event type has one payload builder; these pin their shapes."""

import pytest

from apps.conversations import selectors
from apps.conversations.models import Conversation, Message
from apps.conversations.services import receive_inbound_message
from apps.conversations.waits import attach_queue_info
from apps.core.announce import subscribe, unsubscribe
from apps.inbox import realtime
from tests.factories import AgentFactory, TeamFactory

pytestmark = pytest.mark.django_db

CONVERSATION_KEYS = {
    "id", "contact", "channel", "status", "team", "assignee", "preferred_agent",
    "preferred_type", "created_at", "updated_at", "closed_at", "last_message",
}
MESSAGE_KEYS = {"id", "sender", "body", "created_at"}


def _conversation():
    agent = AgentFactory()
    team = TeamFactory(agents=[agent])
    conversation, message, _ = receive_inbound_message(
        external_id="shape-1", body="Oi", team=team, contact_details={"name": "Ana"}
    )
    return agent, team, conversation, message


def test_conversation_updated_shape(django_assert_num_queries):
    _agent, team, conversation, message = _conversation()
    loaded = Conversation.objects.select_related(
        "contact", "team", "assignee", "preferred_agent", "last_message"
    ).get(pk=conversation.pk)
    attach_queue_info([loaded])  # as lists and flushes do, for all their rows at once
    with django_assert_num_queries(0):
        event = realtime.conversation_updated_event(realtime.conversation_payload(loaded))
    assert set(event) == {"type", "conversation"}
    assert event["type"] == "conversation.updated"
    body = event["conversation"]
    assert CONVERSATION_KEYS <= set(body)
    assert (body["id"], body["team"], body["status"], body["assignee"]) == (
        conversation.pk, team.pk, "queued", None,
    )
    assert set(body["last_message"]) == MESSAGE_KEYS
    assert body["last_message"]["id"] == message.pk
    assert (body["team_name"], body["contact_name"]) == (team.name, "Ana")


def test_message_created_shape():
    _agent, _team, conversation, message = _conversation()
    message = Message.objects.select_related("author").get(pk=message.pk)
    event = realtime.message_created_event(conversation.pk, realtime.message_payload(message))
    assert set(event) == {"type", "conversation", "message"}
    assert event["type"] == "message.created" and event["conversation"] == conversation.pk
    assert MESSAGE_KEYS <= set(event["message"])
    assert (event["message"]["sender"], event["message"]["body"]) == ("contact", "Oi")


def test_queue_counts_shape_is_the_selectors():
    agent, team, _conversation_, _message = _conversation()
    event = realtime.queue_counts_event(selectors.queue_counts_for(agent))
    assert event == {
        "type": "queue.counts",
        "counts": {
            "waiting": 0,
            "teams": [{"id": team.pk, "name": team.name, "queued": 1}],
            "mine": 0,
            "reserved_for_me": 0,
        },
    }


def test_small_events_shapes():
    agent = AgentFactory()
    assert realtime.pong_event() == {"type": "pong"}
    assert realtime.presence_changed_event("away") == {"type": "presence.changed", "status": "away"}
    assert realtime.error_event("No.", field="type") == {
        "type": "error", "detail": "No.", "field": "type",
    }
    row = {
        "id": agent.pk, "username": agent.username, "name": "", "presence": "online",
        "open_count": 2, "capacity": 5,
    }
    assert realtime.agents_updated_event([realtime.agent_row_payload(row)]) == {
        "type": "agents.updated",
        "agents": [{
            "id": agent.pk, "username": agent.username, "name": agent.username,
            "presence": "online", "open_count": 2, "capacity": 5,
        }],
    }


@pytest.fixture
def announced():
    """Every announcement delivered (after commit) while the test runs."""
    heard = []
    subscribe(heard.append)
    yield heard
    unsubscribe(heard.append)


def test_a_flush_is_a_fixed_number_of_queries(
    django_assert_num_queries, django_capture_on_commit_callbacks, announced
):
    agent = AgentFactory()
    teams = [TeamFactory(agents=[agent]) for _ in range(3)]
    for n in range(30):
        with django_capture_on_commit_callbacks(execute=True):
            receive_inbound_message(external_id=f"q{n}", body="x", team=teams[n % 3])
    # What the pending list holds for a flush that comes after these 30 arrivals.
    entries = [entry for a in announced for entry in realtime.entries_for(a)]
    # conversations, their queue positions and their teams' room and pace, messages, the
    # counts aggregate, team names, agent rows
    with django_assert_num_queries(7):
        batches = realtime.build_batches(entries)
    team_part = batches[f"inbox.team.{teams[0].pk}"]["counts"]["teams"]
    assert team_part == [{"id": teams[0].pk, "name": teams[0].name, "queued": 10}]
    assert len(batches["inbox.supervisors"]["conversations"]) == 30
