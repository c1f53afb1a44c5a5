"""Writes of the outbound webhooks: an integration's webhook settings, its secret, a test
event, retrying deliveries now. The admin and the API both call these."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import IntegrationClient
from apps.core.errors import InvalidInput
from apps.core.time import iso
from apps.webhooks import crypto, dispatch
from apps.webhooks.models import OPEN_STATUSES, Delivery, DeliveryStatus, EventType
from apps.webhooks.outbox import encode
from apps.webhooks.targets import validate_webhook_url

UNSET = object()


def set_new_secret(integration: IntegrationClient) -> str:
    """Give the integration a new webhook secret (in memory; the caller saves it). Returns
    the secret, to be shown once."""
    secret = crypto.new_secret()
    integration.webhook_secret = crypto.encrypt(secret)
    return secret


def configure_webhook(
    *, integration: IntegrationClient, webhook_url=UNSET, active=UNSET, save: bool = True
) -> str | None:
    """Change where and whether Atende calls the integration. The URL is checked (http or
    https, a host that resolves only to public addresses unless WEBHOOK_ALLOW_PRIVATE).
    Deactivating stops deliveries (pending ones wait); activating resumes them at once.
    Returns a new secret when the integration had none yet (shown once), else None."""
    fields = []
    if webhook_url is not UNSET:
        url = (webhook_url or "").strip()
        integration.webhook_url = validate_webhook_url(url) if url else ""
        fields.append("webhook_url")
    resumed = False
    if active is not UNSET:
        if not isinstance(active, bool):
            raise InvalidInput(_("active must be true or false."), field="active")
        resumed = active and not integration.active
        integration.active = active
        fields.append("active")
        if resumed:
            integration.webhook_retry_at = None  # no holding back what was just resumed
            fields.append("webhook_retry_at")
    secret = None
    if integration.webhook_url and not integration.webhook_secret:
        secret = set_new_secret(integration)
        fields.append("webhook_secret")
    if save and integration.pk and fields:
        with transaction.atomic():
            integration.save(update_fields=fields)
            if resumed or "webhook_url" in fields:
                dispatch.deliver_after_commit({integration.pk})
    return secret


def rotate_secret(*, integration: IntegrationClient) -> str:
    """A new webhook secret, effective for every delivery from now on (shown once)."""
    secret = set_new_secret(integration)
    integration.save(update_fields=["webhook_secret"])
    return secret


def send_test_event(*, integration: IntegrationClient) -> Delivery:
    """A ``ping`` through the outbox, delivered like any event (its status shows whether the
    receiver answered)."""
    if not integration.webhook_url:
        raise InvalidInput(_("%(name)s has no webhook URL.") % {"name": integration.name})
    if not integration.active or integration.revoked_at is not None:
        raise InvalidInput(
            _("%(name)s is not active: activate it to send it events.")
            % {"name": integration.name}
        )
    now = timezone.now()
    with transaction.atomic():
        delivery = Delivery(
            integration=integration, type=EventType.PING, next_attempt_at=now,
        )
        delivery.body = encode({
            "id": str(delivery.uuid),
            "type": EventType.PING,
            "at": iso(now),
            "conversation": None,
            "integration": {"id": integration.pk, "name": integration.name},
        })
        delivery.save(force_insert=True)
        dispatch.deliver_after_commit({integration.pk})
    return delivery


def retry_deliveries(*, delivery_ids) -> int:
    """Retry these deliveries now (failing ones, and those that gave up; delivered ones are
    left alone). The integration's hold-back is lifted. Returns how many."""
    now = timezone.now()
    with transaction.atomic():
        rows = Delivery.objects.filter(pk__in=list(delivery_ids)).filter(
            status__in=(*OPEN_STATUSES, DeliveryStatus.GAVE_UP)
        )
        integration_ids = set(rows.values_list("integration_id", flat=True))
        count = rows.filter(status__in=OPEN_STATUSES).update(next_attempt_at=now)
        count += rows.filter(status=DeliveryStatus.GAVE_UP).update(
            status=DeliveryStatus.FAILING, next_attempt_at=now
        )
        IntegrationClient.objects.filter(pk__in=integration_ids).update(webhook_retry_at=None)
        dispatch.deliver_after_commit(integration_ids)
    return count
