import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    MESSAGE_CREATED = "message.created", _("An agent replied")
    ASSIGNED = "conversation.assigned", _("Assigned to an agent")
    TRANSFERRED = "conversation.transferred", _("Transferred")
    QUEUED = "conversation.queued", _("Waiting for an agent")
    CLOSED = "conversation.closed", _("Closed")
    PING = "ping", _("Test event")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILING = "failing", _("Failing")
    GAVE_UP = "gave_up", _("Gave up")


OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.FAILING)


class Delivery(models.Model):
    """One event for one integration: the outbox row written in the transaction of the change
    it reports, and then the state of its delivery.

    ``body`` is exactly what the receiver gets (the conversation as it stood at the change);
    it is signed when sent. The row's ``id`` orders a conversation's events; ``uuid`` is the
    delivery id the receiver sees (the same on every attempt). A worker claims a delivery by
    setting ``lease_token`` and ``lease_until`` with one conditional UPDATE, sends it outside
    any transaction and records the outcome only while its lease is still the one on the row.
    """

    uuid = models.UUIDField(_("delivery id"), default=uuid.uuid4, unique=True, editable=False)
    integration = models.ForeignKey(
        "accounts.IntegrationClient", on_delete=models.CASCADE, related_name="deliveries",
        verbose_name=_("integration client"),
    )
    conversation = models.ForeignKey(
        "conversations.Conversation", on_delete=models.CASCADE, null=True, blank=True,
        related_name="deliveries", verbose_name=_("conversation"),
    )
    type = models.CharField(_("type"), max_length=32, choices=EventType.choices)
    body = models.TextField(_("body sent"), editable=False)
    status = models.CharField(
        _("status"), max_length=16, choices=DeliveryStatus.choices,
        default=DeliveryStatus.PENDING,
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    lease_token = models.UUIDField(null=True, blank=True, editable=False)
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="delivery_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=OPEN_STATUSES, next_attempt_at__isnull=False)
                | (~Q(status__in=OPEN_STATUSES) & Q(next_attempt_at__isnull=True)),
                name="delivery_open_iff_next_attempt",
            ),
            models.CheckConstraint(
                condition=~Q(status=DeliveryStatus.DELIVERED) | Q(delivered_at__isnull=False),
                name="delivery_delivered_has_time",
            ),
        ]
        indexes = [
            # What is undelivered, per integration, oldest first (the claim, the next due
            # time, the sweep): only open rows, however many delivered ones are kept.
            models.Index(
                fields=["integration", "id"],
                condition=Q(status__in=OPEN_STATUSES), name="delivery_open_idx",
            ),
            # Is an earlier event of this conversation still undelivered? (order)
            models.Index(
                fields=["conversation", "id"],
                condition=Q(status__in=OPEN_STATUSES), name="delivery_open_conv_idx",
            ),
            # The latest deliveries of an integration (admin, API).
            models.Index(fields=["integration", "-id"], name="delivery_latest_idx"),
            # Clean-up of old finished rows.
            models.Index(
                fields=["created_at"], condition=~Q(status__in=OPEN_STATUSES),
                name="delivery_finished_idx",
            ),
        ]

    def __str__(self):
        return _("%(type)s, delivery %(uuid)s (%(status)s)") % {
            "type": self.get_type_display(), "uuid": str(self.uuid)[:8],
            "status": self.get_status_display(),
        }
