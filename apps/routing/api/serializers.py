"""Payloads of the conversation actions (assign, transfer, route)."""

from django.utils.translation import gettext as _
from rest_framework import serializers

from apps.accounts.models import User
from apps.core.api import IdRelatedField, Serializer
from apps.skills.api.serializers import SkillSpecField
from apps.teams.models import Team


class AssignSerializer(Serializer):
    agent = IdRelatedField(queryset=User.objects.filter(is_active=True))


class TransferSerializer(Serializer):
    """Exactly one of ``team`` and ``agent``."""

    team = IdRelatedField(queryset=Team.objects.all(), required=False)
    agent = IdRelatedField(queryset=User.objects.filter(is_active=True), required=False)

    def validate(self, attrs):
        if ("team" in attrs) == ("agent" in attrs):
            raise serializers.ValidationError(
                _("Give either a team or an agent to transfer to, not both.")
            )
        return attrs


class RouteSerializer(Serializer):
    """``{"team": id, "skills"?: [...]}``: ``skills`` as in ``inbound`` replaces the
    conversation's requirements."""

    team = IdRelatedField(queryset=Team.objects.all())
    skills = SkillSpecField(required=False)
