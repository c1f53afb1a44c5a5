from rest_framework import serializers

from apps.core.api import Serializer
from apps.core.limits import MAX_ID
from apps.webhooks.models import DeliveryStatus, EventType
from apps.webhooks.selectors import MAX_LISTED


class DeliverySerializer(Serializer):
    """One webhook delivery: ``{id, type, conversation, status, attempts, last_error,
    next_attempt_at}`` (``id`` is the delivery id the receiver sees), plus when it was
    written and delivered. ``cursor``: pass it as ``?before=`` for older ones."""

    id = serializers.UUIDField(source="uuid")
    type = serializers.ChoiceField(choices=EventType.choices)
    conversation = serializers.IntegerField(source="conversation_id", allow_null=True)
    status = serializers.ChoiceField(choices=DeliveryStatus.choices)
    attempts = serializers.IntegerField()
    last_error = serializers.CharField(allow_blank=True)
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    cursor = serializers.IntegerField(source="pk")


class DeliveryFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=DeliveryStatus.choices, required=False)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_LISTED,
                                     default=50)
    before = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
