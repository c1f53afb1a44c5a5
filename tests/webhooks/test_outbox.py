"""The outbox: every change of an integration's conversation writes its webhook event in the
same transaction, with the conversation as it stood; nobody else's changes write anything."""

import json

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import Presence
from apps.conversations.errors import AnotherIntegrations
from apps.conversations.models import Conversation
from apps.conversations.services import post_reply, receive_inbound_message
from apps.routing import services as routing
from apps.teams.models import DistributionMode
from apps.webhooks import services as webhooks
from apps.webhooks.models import Delivery, DeliveryStatus
from tests.factories import (
    AgentFactory,
    ContactFactory,
    IntegrationFactory,
    RuleFactory,
    SupervisorFactory,
    TeamFactory,
    UserFactory,
)
from tests.helpers import arrive

pytestmark = pytest.mark.django_db

URL = "http://127.0.0.1:9/hooks"  # never called here: nothing runs the deliveries


@pytest.fixture
def bot(hooked):
    return hooked(URL)


def bodies(conversation=None):
    rows = Delivery.objects.order_by("id")
    if conversation is not None:
        rows = rows.filter(conversation=conversation)
    return [json.loads(row.body) for row in rows]


def types(conversation=None):
    return [body["type"] for body in bodies(conversation)]


def test_each_change_of_the_bots_conversation_is_one_event_in_order(bot):
    ana, bruno = AgentFactory(name="Ana"), AgentFactory(name="Bruno")
    sales = TeamFactory(name="Sales", agents=[ana])
    support = TeamFactory(name="Support", agents=[bruno])
    supervisor = SupervisorFactory(name="Sara")
    conversation = arrive(team=sales, actor=bot)
    routing.claim_conversation(conversation_id=conversation.pk, agent=ana)
    post_reply(conversation_id=conversation.pk, author=ana, body="Olá! Como posso ajudar?")
    routing.transfer_conversation(conversation_id=conversation.pk, actor=ana, team_id=support.pk)
    routing.assign_conversation(conversation_id=conversation.pk, agent_id=bruno.pk,
                                actor=supervisor)
    arrive(contact=conversation.contact, body="Still there?")  # the contact: not sent back
    routing.close_conversation(conversation_id=conversation.pk, actor=bruno)

    sent = bodies(conversation)
    assert [b["type"] for b in sent] == [
        "conversation.queued", "conversation.assigned", "message.created",
        "conversation.transferred", "conversation.assigned", "conversation.closed",
    ]
    assert len({b["id"] for b in sent}) == len(sent)
    queued, claimed, reply, transferred, assigned, closed = sent
    # Each carries the conversation as it stood at that change.
    assert (queued["conversation"]["status"], queued["conversation"]["team"]) == (
        "queued", sales.pk)
    assert claimed["conversation"]["assignee"] == ana.pk
    assert claimed["agent"] == {"id": ana.pk, "name": "Ana"}
    assert reply["message"]["body"] == "Olá! Como posso ajudar?"
    assert reply["message"]["sender"] == "agent"
    assert reply["message"]["author"] == {"id": ana.pk, "name": "Ana"}
    assert set(reply["message"]) == {"id", "sender", "author", "body", "created_at"}
    assert reply["conversation"]["last_message"]["body"] == "Olá! Como posso ajudar?"
    assert (transferred["conversation"]["status"], transferred["conversation"]["team"]) == (
        "queued", support.pk)
    assert transferred["agent"] is None
    assert assigned["agent"] == {"id": bruno.pk, "name": "Bruno"}
    assert closed["conversation"]["status"] == "closed"
    for body in sent:
        assert body["conversation"]["id"] == conversation.pk
        assert body["conversation"]["integration"] == bot.pk
        assert body["at"].endswith("Z")
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.PENDING}


def test_arrivals_say_where_the_conversation_waits_or_who_has_it(bot):
    paula = AgentFactory(name="Paula", capacity=0)
    online = AgentFactory(name="Olga")
    capacity = TeamFactory(distribution_mode=DistributionMode.CAPACITY, agents=[online])
    reserved_contact = ContactFactory()
    RuleFactory(contact=reserved_contact, agent=paula, type="auto")
    waiting = arrive(actor=bot)
    reserved = arrive(contact=reserved_contact, team=capacity, actor=bot)
    assigned = arrive(team=capacity, actor=bot)
    assert (waiting.status, reserved.status, assigned.status) == (
        "waiting", "reserved", "assigned")
    assert types(waiting) == ["conversation.queued"]
    assert types(reserved) == ["conversation.queued"]
    assert types(assigned) == ["conversation.assigned"]
    assert bodies(assigned)[0]["agent"] == {"id": online.pk, "name": "Olga"}


def test_only_conversations_of_an_integration_with_an_active_webhook_write_events(hooked):
    agent = AgentFactory()
    team = TeamFactory(agents=[agent])
    no_url = IntegrationFactory()
    paused = hooked(URL, active=False)
    revoked = hooked(URL)
    revoked.revoked_at = revoked.created_at
    revoked.save(update_fields=["revoked_at"])
    for actor in (None, SupervisorFactory(), no_url, paused, revoked):
        conversation = arrive(team=team, actor=actor)
        routing.claim_conversation(conversation_id=conversation.pk, agent=agent)
        post_reply(conversation_id=conversation.pk, author=agent, body="Hi")
        routing.close_conversation(conversation_id=conversation.pk, actor=agent)
    assert Delivery.objects.count() == 0


def test_a_change_that_rolls_back_leaves_no_event(bot):
    agent = AgentFactory()
    conversation = arrive(team=TeamFactory(agents=[agent]), actor=bot)
    routing.claim_conversation(conversation_id=conversation.pk, agent=agent)
    before = Delivery.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        post_reply(conversation_id=conversation.pk, author=agent, body="Never sent")
        assert Delivery.objects.count() == before + 1  # written with the reply...
        raise RuntimeError("the request failed after the reply")
    assert Delivery.objects.count() == before  # ...and gone with it


def test_the_snapshot_is_taken_at_the_change_not_when_sent(bot):
    agent = AgentFactory(name="Ana")
    conversation = arrive(team=TeamFactory(agents=[agent]), actor=bot)
    routing.claim_conversation(conversation_id=conversation.pk, agent=agent)
    routing.close_conversation(conversation_id=conversation.pk, actor=agent)
    assigned = bodies(conversation)[1]
    assert assigned["type"] == "conversation.assigned"
    assert assigned["conversation"]["status"] == "assigned"
    assert assigned["conversation"]["closed_at"] is None


def test_a_conversation_the_bot_did_not_open_stays_nobodys(bot):
    admin_opened = arrive(team=TeamFactory())
    with pytest.raises(AnotherIntegrations):  # not its own: the bot may not write into it
        receive_inbound_message(external_id=admin_opened.contact.external_id, body="more",
                                actor=bot)
    assert Conversation.objects.get(pk=admin_opened.pk).integration is None
    assert admin_opened.messages.count() == 1
    assert Delivery.objects.count() == 0


def _backlog_run_queries(team, agents) -> int:
    with CaptureQueriesContext(connection) as queries:
        assigned = routing.distribute_team_backlog(team_id=team.pk)
    assert assigned == sum(a.capacity for a in agents)
    return len(queries)


@pytest.mark.parametrize("owned", [False, True])
def test_the_backlog_writes_its_events_in_bulk(hooked, owned):
    """A backlog run costs one query more for webhooks whatever its size (plus the insert
    when some conversations belong to an integration), never one per conversation."""
    bot = hooked(URL) if owned else None
    counts = {}
    for size in (2, 12):
        agents = [UserFactory(capacity=size // 2) for _ in range(2)]
        team = TeamFactory(distribution_mode=DistributionMode.CAPACITY, agents=agents)
        for _ in range(size):
            arrive(team=team, actor=bot)
        for agent in agents:
            agent.presence = Presence.ONLINE
            agent.save(update_fields=["presence"])
        counts[size] = _backlog_run_queries(team, agents)
    assert counts[2] == counts[12]
    expected = 12 + 2 if owned else 0
    assert Delivery.objects.filter(type="conversation.assigned").count() == expected


def test_reserved_conversations_handed_out_in_bulk_are_assignments(bot):
    paula = AgentFactory(name="Paula", capacity=0)
    contacts = [ContactFactory() for _ in range(3)]
    for contact in contacts:
        RuleFactory(contact=contact, agent=paula, type="auto")
    conversations = [arrive(contact=c, actor=bot) for c in contacts]
    assert {c.status for c in conversations} == {"reserved"}
    routing.set_capacity(agent_id=paula.pk, capacity=3, actor=SupervisorFactory())
    routing.assign_reserved_conversations(agent_id=paula.pk)
    for conversation in conversations:
        assert types(conversation) == ["conversation.queued", "conversation.assigned"]
        assert bodies(conversation)[1]["agent"] == {"id": paula.pk, "name": "Paula"}


def test_a_test_event_goes_through_the_outbox_too(bot):
    delivery = webhooks.send_test_event(integration=bot)
    body = json.loads(delivery.body)
    assert body == {
        "id": str(delivery.uuid), "type": "ping", "at": body["at"], "conversation": None,
        "integration": {"id": bot.pk, "name": bot.name},
    }
