from django.db import transaction
from rest_framework import serializers

from apps.accounts.api.base import IdRelatedField, ModelSerializer, Serializer
from apps.accounts.models import User
from apps.teams.models import DistributionMode, Team
from apps.teams.services import set_team_members


class TeamSerializer(ModelSerializer):
    """``{id, name, distribution_mode, members: [agent ids]}``. Sending ``members`` replaces
    the team's memberships (members who stay keep their place in the rotation)."""

    name = serializers.CharField(max_length=255)
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
            raise serializers.ValidationError("A team with this name already exists.")
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
        with transaction.atomic():
            team = Team.objects.create(**validated_data)
            self._set_members(team, members)
        return team

    def update(self, team, validated_data):
        members = validated_data.pop("members", None)
        with transaction.atomic():
            for field, value in validated_data.items():
                setattr(team, field, value)
            team.save()
            if members is not None:
                self._set_members(team, members)
        return team

    @staticmethod
    def _set_members(team: Team, members: list[User]) -> None:
        set_team_members(team=team, agent_ids={agent.pk for agent in members})
        if hasattr(team, "_prefetched_objects_cache"):
            team._prefetched_objects_cache.pop("memberships", None)


class DistributedSerializer(Serializer):
    assigned = serializers.IntegerField()


class RoutingSettingsSerializer(Serializer):
    """``{"default_team": id | null}``: where conversations go when no team is named."""

    default_team = IdRelatedField(queryset=Team.objects.all(), allow_null=True)
