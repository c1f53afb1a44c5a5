from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from apps.core.api import IdRelatedField, ModelSerializer, Serializer
from apps.core.limits import MAX_TEXT_LENGTH
from apps.skills.models import MAX_LEVEL, MIN_LEVEL, Skill

LEVEL_ERRORS = {
    "min_value": gettext_lazy("A level is a whole number from 1 to 5."),
    "max_value": gettext_lazy("A level is a whole number from 1 to 5."),
}


class SkillSerializer(ModelSerializer):
    """``{id, name}``; names are unique."""

    name = serializers.CharField(max_length=MAX_TEXT_LENGTH)

    class Meta:
        model = Skill
        fields = ["id", "name"]
        validators = []

    def validate_name(self, value):
        value = value.strip()
        taken = Skill.objects.filter(name=value)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError(_("A skill with this name already exists."))
        return value


class AgentSkillSerializer(Serializer):
    """One of an agent's skills: ``{"skill": id, "level": 1-5}``."""

    skill = IdRelatedField(queryset=Skill.objects.all())
    level = serializers.IntegerField(
        min_value=MIN_LEVEL, max_value=MAX_LEVEL, error_messages=LEVEL_ERRORS
    )


class RequiredSkillSerializer(Serializer):
    """A required skill: ``{"skill": id, "min_level": 1-5}`` (default 1)."""

    skill = IdRelatedField(queryset=Skill.objects.all())
    min_level = serializers.IntegerField(
        min_value=MIN_LEVEL, max_value=MAX_LEVEL, default=MIN_LEVEL, error_messages=LEVEL_ERRORS
    )


def unique_levels(items, *, level: str, field: str) -> dict[int, int]:
    """{skill id: level} from validated items; a skill named twice is a 400."""
    levels: dict[int, int] = {}
    for item in items:
        if "skill" not in item or (level not in item and level != "min_level"):
            raise serializers.ValidationError(
                {field: [_("Each skill needs skill (an id) and %(level)s (1-5).")
                         % {"level": level}]}
            )
        if item["skill"].pk in levels:
            raise serializers.ValidationError(
                {field: [_("The skill %(name)s is listed twice.") % {"name": item["skill"].name}]}
            )
        levels[item["skill"].pk] = item.get(level, MIN_LEVEL)
    return levels


class SkillSpecField(serializers.JSONField):
    """``["english", {"skill": "billing", "min_level": 3}]``: required skills by name."""

    def to_internal_value(self, data):
        from apps.core.errors import InvalidInput
        from apps.skills.selectors import parse_skill_names

        try:
            return parse_skill_names(data)
        except InvalidInput as error:
            raise serializers.ValidationError(error.detail) from error
