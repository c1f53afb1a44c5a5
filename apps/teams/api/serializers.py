from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from rest_framework import serializers

from apps.accounts.models import User
from apps.core.api import IdRelatedField, ModelSerializer, Serializer
from apps.core.limits import MAX_TEXT_LENGTH, MAX_WAIT_SECONDS
from apps.core.time import iso
from apps.routing import services as routing
from apps.skills.services import ladder_payload, parse_ladder, steps_from_rows
from apps.teams.hours import clock, is_time_zone, overlapping, parse_clock, team_state
from apps.teams.models import DistributionMode, Team, Weekday
from apps.teams.services import create_team, update_team


def seconds_field(*, minimum: int, help_text: str) -> serializers.IntegerField:
    """A time rule's seconds: a whole number from ``minimum`` to 30 days, or null."""
    messages = {
        "min_value": (
            _lazy("A wait cannot be negative: give 0 (no wait) or more seconds, or null.")
            if minimum == 0
            else _lazy("Give a number of seconds of at least 1, or null to switch the rule off.")
        ),
        "max_value": _lazy("At most {max_value} seconds (30 days)."),
    }
    return serializers.IntegerField(
        min_value=minimum, max_value=MAX_WAIT_SECONDS, allow_null=True, required=False,
        error_messages=messages, help_text=help_text,
    )


class OpeningHoursSerializer(Serializer):
    """One opening interval in the team's time zone."""

    weekday = serializers.IntegerField(
        min_value=0, max_value=6, help_text="0 is Monday, 6 is Sunday.",
        error_messages={"min_value": _lazy("A weekday is 0 (Monday) to 6 (Sunday)."),
                        "max_value": _lazy("A weekday is 0 (Monday) to 6 (Sunday).")},
    )
    opens = serializers.CharField(max_length=5, help_text="HH:MM.")
    closes = serializers.CharField(
        max_length=5, help_text="HH:MM, after `opens`; 24:00 for the end of the day."
    )

    def validate_opens(self, value):
        try:
            return parse_clock(value)
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from error

    def validate_closes(self, value):
        try:
            return parse_clock(value, end_of_day=True)
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from error

    def validate(self, attrs):
        if attrs["closes"] <= attrs["opens"]:
            raise serializers.ValidationError({"closes": [
                _("It closes before it opens: the closing time must be after the opening time "
                  "(for a shift past midnight close at 24:00 and go on the next day from 00:00).")
            ]})
        return attrs


class TeamSerializer(ModelSerializer):
    """``{id, name, distribution_mode, members: [agent ids]}`` and the time rules
    (docs/time-rules.md). Sending ``members`` replaces the team's memberships (members who
    stay keep their place in the rotation); sending ``business_hours`` or ``closed_dates``
    replaces them. ``open_now``, ``opens_at`` (when closed: the next opening) and
    ``closes_at`` (when open: the next closing, null if none ahead) are read-only."""

    name = serializers.CharField(max_length=MAX_TEXT_LENGTH)
    distribution_mode = serializers.ChoiceField(choices=DistributionMode.choices, required=False)
    members = serializers.ListField(
        child=IdRelatedField(queryset=User.objects.all()), required=False, max_length=10_000
    )
    first_reply_seconds = seconds_field(
        minimum=1,
        help_text="Hand an automatic assignment over to another agent when the assignee has "
        "not replied within this many seconds (null: off).",
    )
    offline_requeue_seconds = seconds_field(
        minimum=1,
        help_text="Put an agent's open conversations of this team back in its queue once "
        "they have been offline this many seconds (null: off).",
    )
    timezone = serializers.CharField(
        max_length=64, required=False,
        error_messages={"blank": "Give a time zone: an IANA name such as America/Sao_Paulo."},
        help_text="IANA name of the zone of the opening hours (default: the server's).",
    )
    business_hours = serializers.ListField(
        child=OpeningHoursSerializer(), required=False, max_length=100,
        help_text="Weekly opening hours; empty: always open (except closed dates).",
    )
    closed_dates = serializers.ListField(
        child=serializers.DateField(), required=False, max_length=1000,
        help_text="Days the team is closed, YYYY-MM-DD in its time zone.",
    )
    after_hours_team = IdRelatedField(
        queryset=Team.objects.all(), allow_null=True, required=False,
        help_text="Takes this team's new conversations while it is closed.",
    )
    ladder = serializers.JSONField(
        required=False,
        help_text='Steps in order of time: [{"after_seconds": n, "action": "drop" | "lower" | '
        '"overflow", "skills": [ids] | null, "by": n (lower), "team": id (overflow)}].',
    )
    sticky_days = serializers.IntegerField(
        min_value=1, max_value=365, allow_null=True, required=False,
        help_text="A returning contact goes first to the agent who served them in this team "
        "within this many days (null: off).",
    )
    open_now = serializers.BooleanField(read_only=True)
    opens_at = serializers.DateTimeField(read_only=True, allow_null=True)
    closes_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = Team
        fields = ["id", "name", "distribution_mode", "members", "first_reply_seconds",
                  "offline_requeue_seconds", "timezone", "business_hours", "closed_dates",
                  "after_hours_team", "ladder", "sticky_days", "open_now", "opens_at",
                  "closes_at"]

    def validate_timezone(self, value):
        if not is_time_zone(value):
            raise serializers.ValidationError(
                _("“%(value)s” is not a time zone. Use an IANA name such as America/Sao_Paulo.")
                % {"value": value}
            )
        return value

    def validate_business_hours(self, value):
        clash = overlapping([(h["weekday"], h["opens"], h["closes"]) for h in value])
        if clash is not None:
            weekday, opens, closes = clash
            raise serializers.ValidationError(
                _("Two opening hours of %(weekday)s overlap (%(opens)s-%(closes)s and another): "
                  "merge them into one.")
                % {"weekday": Weekday(weekday).label, "opens": clock(opens),
                   "closes": clock(closes)}
            )
        return value

    def validate_ladder(self, value):
        return parse_ladder(value, team_id=self.instance.pk if self.instance else None)

    def validate_after_hours_team(self, team):
        if team is not None and self.instance is not None and team.pk == self.instance.pk:
            raise serializers.ValidationError(_("A team cannot be its own after-hours team."))
        return team

    def validate_name(self, value):
        taken = Team.objects.filter(name=value)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError(_("A team with this name already exists."))
        return value

    def to_representation(self, team):
        # Members, hours and closed dates come prefetched: no query per team.
        state = team_state(team, timezone.now())
        return {
            "id": team.pk,
            "name": team.name,
            "distribution_mode": team.distribution_mode,
            "members": sorted(m.agent_id for m in team.memberships.all()),
            "first_reply_seconds": team.first_reply_seconds,
            "offline_requeue_seconds": team.offline_requeue_seconds,
            "timezone": team.timezone,
            "business_hours": [
                {"weekday": h.weekday, "opens": clock(h.opens), "closes": clock(h.closes)}
                for h in sorted(team.opening_hours.all(), key=lambda h: (h.weekday, h.opens))
            ],
            "closed_dates": sorted(d.date.isoformat() for d in team.closed_dates.all()),
            "after_hours_team": team.after_hours_team_id,
            "ladder": ladder_payload(steps_from_rows(team.ladder_steps.all())),
            "sticky_days": team.sticky_days,
            "open_now": state.open,
            "opens_at": iso(state.opens_at),
            "closes_at": iso(state.closes_at),
        }

    def _actor(self):
        request = self.context.get("request")
        return getattr(request, "user", None)

    def _schedule(self, validated_data) -> dict:
        schedule = {}
        if "business_hours" in validated_data:
            schedule["business_hours"] = [
                (h["weekday"], h["opens"], h["closes"])
                for h in validated_data.pop("business_hours")
            ]
        if "closed_dates" in validated_data:
            schedule["closed_dates"] = validated_data.pop("closed_dates")
        return schedule

    def create(self, validated_data):
        members = validated_data.pop("members", [])
        ladder = validated_data.pop("ladder", None)
        schedule = self._schedule(validated_data)
        with transaction.atomic():
            team = create_team(
                **validated_data, **schedule, member_ids={agent.pk for agent in members},
                actor=self._actor(),
            )
            if ladder:
                routing.set_team_ladder(team=team, steps=ladder, actor=self._actor())
        return team

    def update(self, team, validated_data):
        members = validated_data.pop("members", None)
        ladder = validated_data.pop("ladder", None)
        schedule = self._schedule(validated_data)
        with transaction.atomic():
            update_team(
                team=team, **validated_data, **schedule, actor=self._actor(),
                member_ids=None if members is None else {agent.pk for agent in members},
            )
            if ladder is not None:
                routing.set_team_ladder(team=team, steps=ladder, actor=self._actor())
        if hasattr(team, "_prefetched_objects_cache"):
            for name in ("memberships", "opening_hours", "closed_dates", "ladder_steps"):
                team._prefetched_objects_cache.pop(name, None)
        return team


class DistributedToSerializer(Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    assigned = serializers.IntegerField()


class DistributedSerializer(Serializer):
    """What a distribution on demand did (POST) or would do now (GET): how many went in all,
    to whom, and how many stayed queued (nobody online had room for them)."""

    assigned = serializers.IntegerField()
    stayed = serializers.IntegerField()
    agents = DistributedToSerializer(many=True)

    @staticmethod
    def payload(distribution) -> dict:
        return {
            "assigned": distribution.assigned,
            "stayed": distribution.stayed,
            "agents": [
                {"id": agent_id, "name": name, "assigned": count}
                for agent_id, name, count in distribution.given
            ],
        }


class RoutingSettingsSerializer(Serializer):
    """``{"default_team": id | null, "preferred_max_wait_seconds": n | null}``: where
    conversations go when no team is named, and how long one waits reserved for a busy
    preferred agent when the rule sets no limit (0: no wait; null: no limit). A field left
    out of a PUT keeps its value."""

    default_team = IdRelatedField(queryset=Team.objects.all(), allow_null=True, required=False)
    preferred_max_wait_seconds = seconds_field(
        minimum=0,
        help_text="Seconds a conversation waits reserved for its busy preferred agent when "
        "the rule sets no limit; then it goes to its team, still starred (default 300).",
    )
