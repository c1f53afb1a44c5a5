"""The admin: webhook settings with the secret shown once, refusals as form errors, a test
event, the deliveries list and "retry now"."""

import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import IntegrationClient
from apps.webhooks import crypto
from apps.webhooks import delivery as sending
from apps.webhooks.models import Delivery, DeliveryStatus
from tests.factories import IntegrationFactory, TeamFactory, UserFactory
from tests.helpers import arrive

pytestmark = pytest.mark.django_db

ADD = reverse("admin:accounts_integrationclient_add")
CHANGELIST = reverse("admin:accounts_integrationclient_changelist")
DELIVERIES = reverse("admin:webhooks_delivery_changelist")


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def shown(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def form_errors(response) -> list[str]:
    form = response.context["adminform"].form
    return [str(message) for messages in form.errors.values() for message in messages]


def test_a_new_integration_shows_its_token_and_webhook_secret_once(
        admin_client, allow_private, receiver):
    response = admin_client.post(
        ADD, {"name": "WhatsApp", "webhook_url": receiver.url, "active": "on"}, follow=True
    )
    texts = shown(response)
    secrets = [m.group(1) for t in texts if (m := re.search(r"(whsec_[\w-]+)", t))]
    assert len(secrets) == 1
    bot = IntegrationClient.objects.get(name="WhatsApp")
    assert crypto.decrypt(bot.webhook_secret) == secrets[0]
    assert bot.webhook_url == receiver.url and bot.active
    change = admin_client.get(reverse("admin:accounts_integrationclient_change",
                                      args=[bot.pk]))
    assert secrets[0] not in change.content.decode()


def test_a_private_url_is_a_form_error_in_production_mode(admin_client, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    response = admin_client.post(
        ADD, {"name": "Sneaky", "webhook_url": "http://169.254.169.254/latest", "active": "on"}
    )
    assert response.status_code == 200
    (error,) = form_errors(response)
    assert "169.254.169.254 is a loopback, private or otherwise non-public address" in error
    assert not IntegrationClient.objects.exists()
    bot = IntegrationFactory(name="Bot")
    change = admin_client.post(
        reverse("admin:accounts_integrationclient_change", args=[bot.pk]),
        {"name": "Bot", "webhook_url": "http://10.0.0.5/", "active": "on"},
    )
    assert change.status_code == 200 and form_errors(change)
    bot.refresh_from_db()
    assert bot.webhook_url == ""


def test_changing_the_url_keeps_the_delivery_health_columns(admin_client, allow_private):
    bot = IntegrationFactory(name="Bot")
    IntegrationClient.objects.filter(pk=bot.pk).update(webhook_failures=4)
    response = admin_client.post(
        reverse("admin:accounts_integrationclient_change", args=[bot.pk]),
        {"name": "Bot", "webhook_url": "http://127.0.0.1:8001/", "active": "on"}, follow=True,
    )
    assert response.status_code == 200
    assert any("whsec_" in text for text in shown(response))  # its first secret
    bot.refresh_from_db()
    assert (bot.webhook_url, bot.webhook_failures) == ("http://127.0.0.1:8001/", 4)


def test_the_test_event_action_sends_a_ping(
        admin_client, hooked, receiver, django_capture_on_commit_callbacks):
    bot = hooked(receiver.url)
    without = IntegrationFactory(name="No hook")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            CHANGELIST,
            {"action": "send_test_event", "_selected_action": [bot.pk, without.pk]},
            follow=True,
        )
    texts = shown(response)
    assert any("test event is on its way" in t for t in texts)
    assert any("No hook has no webhook URL" in t for t in texts)
    (received,) = receiver.received  # sent right after commit (no broker in tests)
    assert received.event["type"] == "ping" and received.signed_with(bot.secret)


def test_a_new_secret_is_shown_once_and_signs_from_then_on(admin_client, hooked, receiver):
    bot = hooked(receiver.url)
    response = admin_client.post(
        CHANGELIST, {"action": "new_webhook_secret", "_selected_action": [bot.pk]}, follow=True
    )
    (secret,) = [m.group(1) for t in shown(response) if (m := re.search(r"(whsec_[\w-]+)", t))]
    assert secret != bot.secret
    arrive(team=TeamFactory(), actor=bot)
    sending.run_deliveries(integration_id=bot.pk)
    assert receiver.received[0].signed_with(secret)


def test_the_deliveries_list_shows_failures_and_retry_now_sends_again(
        admin_client, hooked, receiver, django_capture_on_commit_callbacks):
    bot = hooked(receiver.url)
    receiver.script.default = 500
    receiver.script.body = b"receiver on fire"
    arrive(team=TeamFactory(), actor=bot)
    sending.run_deliveries(integration_id=bot.pk)
    delivery = Delivery.objects.get()
    page = admin_client.get(DELIVERIES).content.decode()
    assert "HTTP 500: receiver on fire" in page and "Failing" in page
    assert "failing since" in admin_client.get(CHANGELIST).content.decode()

    receiver.script.default = 200
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            DELIVERIES, {"action": "retry_now", "_selected_action": [delivery.pk]}, follow=True
        )
    assert any("1 delivery will be retried now" in t for t in shown(response))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 2)
    assert [r.delivery_id for r in receiver.received] == [str(delivery.uuid)] * 2
    detail = admin_client.get(reverse("admin:webhooks_delivery_change", args=[delivery.pk]))
    assert detail.status_code == 200


def test_retry_now_revives_a_delivery_that_gave_up(admin_client, hooked, receiver,
                                                     django_capture_on_commit_callbacks):
    bot = hooked(receiver.url)
    arrive(team=TeamFactory(), actor=bot)
    Delivery.objects.update(status=DeliveryStatus.GAVE_UP, next_attempt_at=None, attempts=30)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(DELIVERIES, {"action": "retry_now",
                                       "_selected_action": [Delivery.objects.get().pk]})
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED


def test_reactivating_in_the_admin_resumes_at_once(admin_client, hooked, receiver,
                                                   django_capture_on_commit_callbacks):
    bot = hooked(receiver.url, active=False, name="Bot")
    IntegrationClient.objects.filter(pk=bot.pk).update(active=True)
    arrive(team=TeamFactory(), actor=bot)  # pending, while the breaker holds it back:
    IntegrationClient.objects.filter(pk=bot.pk).update(
        active=False, webhook_failures=5, webhook_retry_at=timezone.now() + timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("admin:accounts_integrationclient_change", args=[bot.pk]),
            {"name": "Bot", "webhook_url": receiver.url, "active": "on"},
        )
    assert len(receiver.received) == 1  # resumed at once, not after the hold-back
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED
