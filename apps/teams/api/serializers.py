from django.utils.translation import gettext as _
from rest_framework import serializers

from apps.accounts.models import User
from apps.core.api import IdRelatedField, ModelSerializer, Serializer
from apps.core.limits import MAX_TEXT_LENGTH
from apps.teams.models import DistributionMode, Team
from apps.teams.services import create_team, update_team


class TeamSerializer(ModelSerializer):
    """``{id, name, distribution_mode, members: [agent ids]}``. Sending ``members`` replaces
    the team's memberships (members who stay keep their place in the rotation)."""

    name = serializers.CharField(max_length=MAX_TEXT_LENGTH)
    distribution_mode = serializers.ChoiceField(choices=DistributionMode.choices, required=False)
    members = serializers.ListField(
        child=IdRelatedField(queryset=User.objects.all()), required=False, max_length=10_000
    )

    class Meta:
        model = Team
        fields = ["id", "name", "distribution_mode", "members"]

    def validate_name(self, value):
        taken = Team.objects.filter(name=value)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError(_("A team with this name already exists."))
        return value

    def to_representation(self, team):
        # Members come from the prefetched memberships: no query per team.
        return {
            "id": team.pk,
            "name": team.name,
            "distribution_mode": team.distribution_mode,
            "members": sorted(m.agent_id for m in team.memberships.all()),
        }

    def create(self, validated_data):
        members = validated_data.pop("members", [])
        return create_team(**validated_data, member_ids={agent.pk for agent in members})

    def update(self, team, validated_data):
        members = validated_data.pop("members", None)
        update_team(
            team=team, **validated_data,
            member_ids=None if members is None else {agent.pk for agent in members},
        )
        if hasattr(team, "_prefetched_objects_cache"):
            team._prefetched_objects_cache.pop("memberships", None)
        return team


class DistributedSerializer(Serializer):
    assigned = serializers.IntegerField()


class RoutingSettingsSerializer(Serializer):
    """``{"default_team": id | null}``: where conversations go when no team is named."""

    default_team = IdRelatedField(queryset=Team.objects.all(), allow_null=True)
