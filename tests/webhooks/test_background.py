"""Embedded mode's background sender: replies never wait for a receiver, and what is due is
sent after the request that wrote it, in order."""

import threading

import pytest

from apps.webhooks import dispatch
from apps.webhooks.models import Delivery, DeliveryStatus
from tests.api.conftest import client_for
from tests.factories import AgentFactory, TeamFactory
from tests.helpers import arrive

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def background_sender(settings):
    settings.WEBHOOK_EAGER_DELIVERY = "thread"
    yield dispatch.local_runner
    assert dispatch.local_runner.join(timeout=30), "the background sender did not finish"


def test_a_hanging_receiver_does_not_hold_up_an_agents_reply(
        background_sender, receiver, hooked, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 60  # longer than this test waits for the reply
    receiver.script.hold = threading.Event()
    agent = AgentFactory()
    bot = hooked(receiver.url)
    conversation = arrive(team=TeamFactory(agents=[agent]), actor=bot)
    assert receiver.wait_for(1), "the arrival's event was never sent"  # and now it hangs

    answers = []
    replying = threading.Thread(target=lambda: answers.append(
        _claim_and_reply(agent, conversation.pk)
    ))
    replying.start()
    replying.join(timeout=30)
    assert not replying.is_alive() and answers == [(200, 201)]
    assert not receiver.script.hold.is_set()  # the receiver still holds the first event
    assert len(receiver.received) == 1

    receiver.script.hold.set()
    assert receiver.wait_for(3)
    assert [r.event["type"] for r in receiver.received] == [
        "conversation.queued", "conversation.assigned", "message.created"]
    assert background_sender.join(timeout=30)
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}


def _claim_and_reply(agent, conversation_id):
    from django.db import connections

    try:
        client = client_for(agent)
        claimed = client.post(f"/api/v1/conversations/{conversation_id}/claim")
        replied = client.post(f"/api/v1/conversations/{conversation_id}/messages",
                              {"body": "Já vou te ajudar"}, format="json")
        return claimed.status_code, replied.status_code
    finally:
        connections.close_all()


def test_a_retry_is_sent_by_the_background_sender_when_it_is_due(
        background_sender, receiver, hooked):
    receiver.script.statuses = [500]
    bot = hooked(receiver.url)
    arrive(team=TeamFactory(), actor=bot)
    assert receiver.wait_for(2, timeout=30)  # the failure, then the retry (within 10 s)
    assert receiver.received[0].delivery_id == receiver.received[1].delivery_id
    assert background_sender.join(timeout=30)
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED
