"""Delivery to a real HTTP receiver on 127.0.0.1: signatures, order, retries (with time
travel), leases, the breaker, deactivation and the checks of where requests may go."""

import json
import socket
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.accounts.models import IntegrationClient
from apps.conversations.services import post_reply
from apps.routing import services as routing
from apps.webhooks import delivery as sending
from apps.webhooks import services as webhooks
from apps.webhooks.models import Delivery, DeliveryStatus
from tests.factories import AgentFactory, TeamFactory
from tests.helpers import arrive

pytestmark = pytest.mark.django_db


@pytest.fixture
def floor():
    ana, bruno = AgentFactory(name="Ana"), AgentFactory(name="Bruno")
    return ana, bruno, TeamFactory(agents=[ana]), TeamFactory(agents=[bruno])


def run(integration) -> int:
    return sending.run_deliveries(integration_id=integration.pk)


def delivery_of(received) -> Delivery:
    return Delivery.objects.get(uuid=received.delivery_id)


def test_a_conversations_story_arrives_in_order_signed(receiver, hooked, floor):
    ana, _bruno, sales, support = floor
    bot = hooked(receiver.url)
    conversation = arrive(team=sales, actor=bot)
    routing.claim_conversation(conversation_id=conversation.pk, agent=ana)
    reply = post_reply(conversation_id=conversation.pk, author=ana, body="Olá, Maria!")
    routing.transfer_conversation(conversation_id=conversation.pk, actor=ana, team_id=support.pk)
    routing.claim_conversation(conversation_id=conversation.pk, agent=floor[1])
    routing.close_conversation(conversation_id=conversation.pk, actor=floor[1])

    assert run(bot) == 6
    got = receiver.received
    assert [r.event["type"] for r in got] == [
        "conversation.queued", "conversation.assigned", "message.created",
        "conversation.transferred", "conversation.assigned", "conversation.closed",
    ]
    for r in got:
        assert r.signed_with(bot.secret)
        assert r.headers["x-atende-event"] == r.event["type"]
        assert r.headers["x-atende-delivery"] == r.event["id"]
        assert r.headers["x-atende-signature"].startswith("sha256=")
        assert r.headers["content-type"] == "application/json"
        assert r.path == "/hooks/atende"
        assert r.event["conversation"]["id"] == conversation.pk
    assert got[2].event["message"]["id"] == reply.pk
    assert not got[0].signed_with("another secret")
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    assert run(bot) == 0 and len(receiver.received) == 6  # nothing twice


def test_a_failed_delivery_comes_again_with_the_same_id_and_then_never(receiver, hooked, floor):
    ana, *_rest = floor
    bot = hooked(receiver.url)
    conversation = arrive(team=floor[2], actor=bot)
    receiver.script.statuses = [500]
    receiver.script.body = b"Internal Server Error " + b"x" * 5000
    assert run(bot) == 1
    failed = Delivery.objects.get()
    assert failed.status == DeliveryStatus.FAILING and failed.attempts == 1
    assert failed.last_error.startswith("HTTP 500: Internal Server Error")
    assert len(failed.last_error) <= 300  # the answer itself is not kept
    retry_in = (failed.next_attempt_at - failed.last_attempt_at).total_seconds()
    assert 0 < retry_in <= 10  # the first retry within 10 s

    with time_machine.travel(failed.next_attempt_at + timedelta(seconds=1)):
        routing.claim_conversation(conversation_id=conversation.pk, agent=ana)
        assert run(bot) == 2  # the retry, then the assignment that waited behind it
    first, again, assigned = receiver.received
    assert first.delivery_id == again.delivery_id == str(failed.uuid)
    assert first.body == again.body
    assert assigned.event["type"] == "conversation.assigned"
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.last_error) == (DeliveryStatus.DELIVERED, 2, "")
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        assert run(bot) == 0
    assert len(receiver.received) == 3


def test_retries_grow_and_last_at_least_a_day_then_give_up(receiver, hooked, floor):
    bot = hooked(receiver.url)
    arrive(team=floor[2], actor=bot)
    receiver.script.default = 503
    start = timezone.now()
    run(bot)
    delays = []
    delivery = Delivery.objects.get()
    while delivery.status == DeliveryStatus.FAILING:
        delays.append((delivery.next_attempt_at - delivery.last_attempt_at).total_seconds())
        with time_machine.travel(delivery.next_attempt_at + timedelta(seconds=1), tick=False):
            run(bot)
        delivery.refresh_from_db()
        assert len(delays) < 100
    assert delivery.status == DeliveryStatus.GAVE_UP and delivery.next_attempt_at is None
    assert delivery.last_attempt_at - start >= timedelta(hours=24)
    assert delivery.last_attempt_at - start < timedelta(hours=26)
    assert delays[0] <= 10
    assert delays[5] > delays[0] * 4  # growing...
    assert max(delays) <= 3600  # ...up to an hour between attempts
    assert delivery.attempts == len(receiver.received) == len(delays) + 1
    assert len({r.delivery_id for r in receiver.received}) == 1
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        assert run(bot) == 0


def test_a_later_event_waits_while_an_earlier_one_fails_but_others_go_on(
        receiver, hooked, floor):
    ana, *_rest = floor
    bot = hooked(receiver.url)
    stuck = arrive(team=floor[2], actor=bot)
    receiver.script.statuses = [500]
    run(bot)  # stuck's queued event fails
    routing.claim_conversation(conversation_id=stuck.pk, agent=ana)
    other = arrive(team=floor[2], actor=bot)
    run(bot)
    sent = [(r.event["conversation"]["id"], r.event["type"]) for r in receiver.received]
    assert sent == [(stuck.pk, "conversation.queued"), (other.pk, "conversation.queued")]
    waiting = Delivery.objects.get(conversation=stuck, type="conversation.assigned")
    assert (waiting.status, waiting.attempts) == (DeliveryStatus.PENDING, 0)


def test_an_integration_that_keeps_failing_is_held_back_and_shows_it(
        receiver, hooked, floor, admin_client):
    dead = hooked("http://127.0.0.1:9/nobody-listens")
    alive = hooked(receiver.url)
    for _ in range(5):
        arrive(team=floor[2], actor=dead)
    arrive(team=floor[2], actor=alive)
    assert run(dead) == sending.BREAKER_THRESHOLD  # then it stops trying
    dead.refresh_from_db()
    assert dead.webhook_failures == sending.BREAKER_THRESHOLD
    assert dead.webhook_retry_at > timezone.now()
    assert "cannot connect" in Delivery.objects.filter(integration=dead).exclude(
        last_error="").first().last_error
    assert run(dead) == 0  # held back
    assert run(alive) == 1  # the other integration is not held back by it
    with time_machine.travel(dead.webhook_retry_at + timedelta(seconds=1)):
        assert run(dead) == 1  # one probe at a time while it fails
    listed = admin_client.get("/api/v1/integrations/").json()
    by_id = {row["id"]: row for row in listed}
    assert by_id[dead.pk]["webhook_status"] == "failing"
    assert by_id[dead.pk]["webhook_failing_since"] is not None
    assert by_id[alive.pk]["webhook_status"] == "ok"
    page = admin_client.get(f"/admin/accounts/integrationclient/{dead.pk}/change/")
    assert "failing since" in page.content.decode()

    # The receiver comes back: the next success clears the record.
    IntegrationClient.objects.filter(pk=dead.pk).update(webhook_url=receiver.url)
    dead.refresh_from_db()
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        run(dead)
    dead.refresh_from_db()
    assert (dead.webhook_failures, dead.webhook_failing_since, dead.webhook_retry_at) == (
        0, None, None)
    assert not Delivery.objects.filter(integration=dead).exclude(
        status=DeliveryStatus.DELIVERED).exists()


def test_deactivating_an_integration_stops_deliveries_and_activating_resumes(
        receiver, hooked, floor, admin_client):
    bot = hooked(receiver.url)
    arrive(team=floor[2], actor=bot)
    response = admin_client.patch(f"/api/v1/integrations/{bot.pk}/", {"active": False},
                                  content_type="application/json")
    assert response.status_code == 200 and response.json()["webhook_status"] == "paused"
    assert run(bot) == 0
    assert sending.run_all_due() is None
    arrive(team=floor[2], actor=bot)  # while inactive: not even written
    assert receiver.received == [] and Delivery.objects.count() == 1
    admin_client.patch(f"/api/v1/integrations/{bot.pk}/", {"active": True},
                       content_type="application/json")
    assert run(bot) == 1
    assert len(receiver.received) == 1


def test_a_worker_that_died_holding_a_lease_does_not_lose_the_event(receiver, hooked, floor):
    bot = hooked(receiver.url)
    arrive(team=floor[2], actor=bot)
    now = timezone.now()
    (dead_workers,) = sending.claim(bot.pk, limit=1, now=now)  # claimed, never sent
    assert run(bot) == 0  # leased: nobody else sends it meanwhile
    with time_machine.travel(dead_workers.lease_until + timedelta(seconds=1)):
        assert run(bot) == 1
    (received,) = receiver.received
    assert received.delivery_id == str(dead_workers.uuid)
    # The dead worker's late outcome, if it ever came, is not written over the real one.
    assert not sending.record_outcome(dead_workers, sending.Outcome(False, "late"), now=now)
    delivered = Delivery.objects.get()
    assert (delivered.status, delivered.attempts) == (DeliveryStatus.DELIVERED, 2)


def test_redirects_are_not_followed(receiver, hooked, floor):
    bot = hooked(receiver.url)
    arrive(team=floor[2], actor=bot)
    receiver.script.statuses = [302]
    receiver.script.location = receiver.url + "/elsewhere"
    run(bot)
    assert len(receiver.received) == 1
    assert Delivery.objects.get().last_error.startswith("HTTP 302")


def test_a_private_address_is_refused_at_delivery_time(receiver, hooked, floor, settings):
    bot = hooked(receiver.url)  # set while private addresses were allowed
    arrive(team=floor[2], actor=bot)
    settings.WEBHOOK_ALLOW_PRIVATE = False
    run(bot)
    failed = Delivery.objects.get()
    assert receiver.received == []
    assert failed.status == DeliveryStatus.FAILING
    assert "127.0.0.1" in failed.last_error and "refused" in failed.last_error


@pytest.fixture
def fake_dns(monkeypatch):
    """Names that resolve as the test says (DNS is the outside world here)."""
    answers: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6,
                     "", (a, port)) for a in answers[host]]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


def test_a_name_that_turns_private_after_it_was_checked_is_refused(
        receiver, hooked, floor, settings, fake_dns):
    fake_dns["hooks.example.com"] = ["93.184.215.14"]  # public when the admin set it
    settings.WEBHOOK_ALLOW_PRIVATE = False
    bot = hooked(f"http://hooks.example.com:{receiver.port}/hooks/atende")
    arrive(team=floor[2], actor=bot)
    fake_dns["hooks.example.com"] = ["93.184.215.14", "127.0.0.1"]  # rebinding
    run(bot)
    assert receiver.received == []
    assert "resolves to 127.0.0.1" in Delivery.objects.get().last_error


def test_requests_go_to_the_address_that_was_checked(receiver, hooked, floor, fake_dns):
    fake_dns["receiver.test"] = ["127.0.0.1"]
    bot = hooked(f"http://receiver.test:{receiver.port}/hooks/atende")
    arrive(team=floor[2], actor=bot)
    run(bot)
    (received,) = receiver.received
    assert received.headers["host"] == f"receiver.test:{receiver.port}"
    assert received.signed_with(bot.secret)


def test_a_test_event_reaches_the_receiver(receiver, hooked):
    bot = hooked(receiver.url)
    delivery = webhooks.send_test_event(integration=bot)
    run(bot)
    (received,) = receiver.received
    assert received.event["type"] == "ping" and received.delivery_id == str(delivery.uuid)
    assert received.signed_with(bot.secret)


def test_the_secret_is_stored_encrypted_and_survives_a_key_rotation(receiver, hooked, settings,
                                                                    floor):
    bot = hooked(receiver.url)
    stored = IntegrationClient.objects.values_list("webhook_secret", flat=True).get(pk=bot.pk)
    assert bot.secret not in stored and stored
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-key-" + "n" * 50
    arrive(team=floor[2], actor=bot)
    run(bot)
    assert receiver.received[0].signed_with(bot.secret)
    settings.SECRET_KEY_FALLBACKS = []  # the old key is gone: nothing can be signed
    webhooks.send_test_event(integration=bot)
    run(bot)
    assert len(receiver.received) == 1
    assert "cannot be decrypted" in Delivery.objects.get(type="ping").last_error


def test_the_sweep_sends_what_no_task_took_and_forgets_old_deliveries(receiver, hooked, floor):
    from apps.webhooks.tasks import sweep

    bot = hooked(receiver.url)
    arrive(team=floor[2], actor=bot)  # its after-commit kick never ran (test transaction)
    assert sweep() == {"kicked": 1, "forgotten": 0}
    assert len(receiver.received) == 1
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert sweep() == {"kicked": 0, "forgotten": 1}
    assert Delivery.objects.count() == 0


def test_delivered_bodies_are_the_stored_bytes(receiver, hooked, floor):
    bot = hooked(receiver.url)
    arrive(team=floor[2], actor=bot, body="Acentuação é importante ✓")
    routing.claim_conversation(conversation_id=Delivery.objects.get().conversation_id,
                               agent=floor[0])
    run(bot)
    for received in receiver.received:
        assert received.body == delivery_of(received).body.encode()
        json.loads(received.body)


def test_a_batch_with_a_failure_in_the_middle_keeps_the_integrations_count_true(
        receiver, hooked, floor):
    bot = hooked(receiver.url)
    with time_machine.travel(timezone.now(), tick=False):  # no retry comes due meanwhile
        first, middle, last = (arrive(team=floor[2], actor=bot) for _ in range(3))
        receiver.script.statuses = [200, 500, 200]
        assert run(bot) == 3
        status = dict(Delivery.objects.values_list("conversation_id", "status"))
        assert status == {first.pk: "delivered", middle.pk: "failing", last.pk: "delivered"}
        bot.refresh_from_db()
        assert (bot.webhook_failures, bot.webhook_failing_since) == (0, None)
        receiver.script.statuses = [200, 500]
        arrive(team=floor[2], actor=bot)
        arrive(team=floor[2], actor=bot)
        assert run(bot) == 2
        bot.refresh_from_db()
        assert bot.webhook_failures == 1 and bot.webhook_failing_since is not None
