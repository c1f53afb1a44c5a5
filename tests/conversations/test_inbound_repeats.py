"""A channel that delivers the same message twice (at-least-once webhooks) adds it once."""

import pytest

from apps.conversations.models import Conversation, Message
from tests.api.conftest import client_for
from tests.factories import IntegrationFactory, TeamFactory

pytestmark = pytest.mark.django_db


def inbound(client, **extra):
    payload = {"contact": {"external_id": "whatsapp:+5511999990000", "name": "Maria"},
               "body": "Olá!", **extra}
    return client.post("/api/v1/inbound", payload, format="json")


def test_a_repeated_delivery_is_ignored_and_answers_the_conversation_as_it_is():
    bot = client_for(IntegrationFactory())
    first = inbound(bot, message_id="wamid.1")
    assert first.status_code == 201, first.json()
    again = inbound(bot, message_id="wamid.1")
    assert again.status_code == 200, again.json()
    assert again.json()["id"] == first.json()["id"]
    assert Message.objects.count() == 1
    other = inbound(bot, message_id="wamid.2", body="Ainda aí?")
    assert other.status_code == 200
    assert Message.objects.count() == 2
    assert Conversation.objects.count() == 1


def test_without_a_message_id_every_delivery_is_a_message():
    bot = client_for(IntegrationFactory())
    inbound(bot)
    inbound(bot)
    assert Message.objects.count() == 2


def test_the_same_id_from_another_contact_or_channel_is_another_message():
    bot = client_for(IntegrationFactory())
    inbound(bot, message_id="m-1")
    other_contact = bot.post("/api/v1/inbound", {
        "contact": {"external_id": "whatsapp:+5511888880000"}, "body": "Oi",
        "message_id": "m-1"}, format="json")
    assert other_contact.status_code == 201
    other_channel = inbound(bot, message_id="m-1", channel="whatsapp")
    assert other_channel.status_code == 200
    assert Message.objects.count() == 3


def test_a_repeat_after_the_conversation_was_closed_opens_nothing():
    from apps.routing import services
    from tests.factories import AgentFactory

    agent = AgentFactory()
    team = TeamFactory(agents=[agent])
    bot = client_for(IntegrationFactory())
    first = inbound(bot, message_id="wamid.9", team=team.pk).json()
    services.claim_conversation(conversation_id=first["id"], agent=agent)
    services.close_conversation(conversation_id=first["id"], actor=agent)
    again = inbound(bot, message_id="wamid.9", team=team.pk)
    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert again.json()["status"] == "closed"
    assert Conversation.objects.count() == 1


def test_a_message_id_is_bounded_text():
    bot = client_for(IntegrationFactory())
    for bad in ("", "x" * 256, 12, ["a"], {"id": 1}):
        response = inbound(bot, message_id=bad)
        assert response.status_code == 400, bad
        assert response.json()["detail"]
    assert Message.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_repeats_of_one_delivery_append_it_once():
    from apps.conversations.services import receive_inbound_message
    from tests.routing.test_concurrency import run_at_once

    def deliver():
        return receive_inbound_message(external_id="new-contact", body="Oi",
                                       channel="whatsapp", message_id="wamid.X")

    for _round in ("the contact is new", "the contact is known"):
        results = run_at_once([deliver] * 8)
        assert [outcome for outcome, _value in results] == ["ok"] * 8
        assert len({value[0].pk for _outcome, value in results}) == 1
        assert Message.objects.count() == 1
