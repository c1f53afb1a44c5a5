"""The shape of ``GET stats/teams``, for the schema (the view answers a plain dict)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api import Serializer


class AgentCountsSerializer(Serializer):
    online = serializers.IntegerField()
    away = serializers.IntegerField()
    offline = serializers.IntegerField()


@extend_schema_field({
    "type": "array",
    "items": {"type": "array", "minItems": 3, "maxItems": 3,
              "items": {"oneOf": [{"type": "string", "format": "date-time"},
                                  {"type": "integer"}]}},
})
class DepthSeriesField(serializers.ListField):
    pass


class TeamStatsSerializer(Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    queued = serializers.IntegerField(help_text="Conversations in the team's queue now.")
    reserved = serializers.IntegerField(
        help_text="Conversations reserved for a busy preferred agent, released into this team.")
    assigned = serializers.IntegerField(help_text="Open conversations assigned in the team.")
    oldest_queued_seconds = serializers.IntegerField(
        allow_null=True, help_text="How long the oldest queued one has waited (null: none).")
    oldest_queued_at = serializers.DateTimeField(
        allow_null=True, help_text="When the oldest queued one entered the queue.")
    next_release_at = serializers.DateTimeField(
        allow_null=True, help_text="When the first reservation ends (null: none, or no limit).")
    agents = AgentCountsSerializer(help_text="Active members by presence.")
    load = serializers.IntegerField(
        help_text="Open conversations of the active members, whatever their presence.")
    load_not_online = serializers.IntegerField(
        help_text="The part of `load` held by members who are away or offline.")
    capacity = serializers.IntegerField(help_text="The online members' capacity, summed.")
    queued_by_step = serializers.ListField(
        child=serializers.IntegerField(min_value=0),
        help_text="Queued conversations at each ladder step: index 0 before any step, 1 after "
        "the first... (empty with none queued).",
    )
    waiting_past_target = serializers.IntegerField(
        help_text="Queued conversations that have waited longer than `answer_target_seconds`.")
    assigned_last_hour = serializers.IntegerField(
        help_text="Conversations assigned from the queue in the last hour.")
    median_wait_seconds_last_hour = serializers.IntegerField(
        allow_null=True,
        help_text="Their median wait from entering the queue to assignment (null: none).")
    answered_within_target_pct = serializers.FloatField(
        allow_null=True,
        help_text="The share (0-100) of them and of `waiting_past_target` whose wait was "
        "within `answer_target_seconds` (null: none of either).")
    answer_target_seconds = serializers.IntegerField()
    open_now = serializers.BooleanField(help_text="Within the team's business hours.")
    opens_at = serializers.DateTimeField(
        allow_null=True, help_text="When closed: when it opens next.")
    depth_last_hour = DepthSeriesField(
        help_text="Per-minute queue depth over the last hour, oldest first: "
        "`[time, queued, reserved]`.")


class FloorStatsSerializer(Serializer):
    at = serializers.DateTimeField(help_text="The moment the figures are for.")
    teams = TeamStatsSerializer(many=True)
    waiting = serializers.IntegerField(help_text="Conversations in Waiting (no team).")
    oldest_waiting_seconds = serializers.IntegerField(allow_null=True)
    oldest_waiting_at = serializers.DateTimeField(allow_null=True)
