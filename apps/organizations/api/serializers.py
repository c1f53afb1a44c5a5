from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from rest_framework import serializers

from apps.accounts.models import User
from apps.core.api import IdRelatedField, ModelSerializer
from apps.core.errors import InvalidInput
from apps.core.limits import MAX_TEXT_LENGTH, MAX_WAIT_SECONDS
from apps.organizations.models import (
    Contact,
    Organization,
    OrganizationKind,
    PreferentialRule,
    RuleType,
)
from apps.organizations.rules import rule_target_errors
from apps.skills.api.serializers import RequiredSkillSerializer, unique_levels
from apps.skills.services import set_organization_requirements


class OrganizationSerializer(ModelSerializer):
    """``{id, name, kind, parent, required_skills}``: a node of the organization tree.
    Changing ``parent`` moves the node with its whole subtree; a node cannot move under
    itself. ``required_skills`` (``[{"skill": id, "min_level": 1-5}]``) are required of
    whoever serves its contacts and those of the nodes below that have none of their own;
    sending them replaces the node's."""

    name = serializers.CharField(max_length=MAX_TEXT_LENGTH)
    kind = serializers.ChoiceField(choices=OrganizationKind.choices, required=False)
    parent = IdRelatedField(
        queryset=Organization.objects.all(), allow_null=True, required=False
    )

    required_skills = RequiredSkillSerializer(many=True, required=False, max_length=1000)

    class Meta:
        model = Organization
        fields = ["id", "name", "kind", "parent", "required_skills"]

    def validate_required_skills(self, items):
        return unique_levels(items, level="min_level", field="required_skills")

    def to_representation(self, node):
        data = super().to_representation(node)
        data["required_skills"] = sorted(
            ({"skill": r.skill_id, "min_level": r.min_level}
             for r in node.skill_requirements.all()),
            key=lambda row: row["skill"],
        )
        return data

    def validate_parent(self, parent):
        node = self.instance
        if node is not None and parent is not None:
            if parent.pk == node.pk:
                raise serializers.ValidationError(_("A node cannot be its own parent."))
            if parent.is_descendant_of(node):
                raise serializers.ValidationError(
                    _("A node cannot move under one of its own descendants.")
                )
        return parent

    def create(self, validated_data):
        required = validated_data.pop("required_skills", None)
        with transaction.atomic():
            node = Organization.objects.create(**validated_data)
            if required:
                set_organization_requirements(organization_id=node.pk, levels=required)
            return node

    def update(self, node, validated_data):
        required = validated_data.pop("required_skills", None)
        with transaction.atomic():
            # Work on a fresh copy: the tree columns may have moved since it was loaded.
            node.refresh_from_db()
            for field, value in validated_data.items():
                setattr(node, field, value)
            node.save()  # django-mptt moves the subtree when the parent changed
            if required is not None:
                set_organization_requirements(organization_id=node.pk, levels=required)
        if hasattr(node, "_prefetched_objects_cache"):
            node._prefetched_objects_cache.pop("skill_requirements", None)
        return node


class OrganizationFilterSerializer(serializers.Serializer):
    parent = serializers.CharField(
        required=False,
        help_text="An organization id: its children; `null`: the roots.",
    )

    def validate_parent(self, value):
        if value == "null":
            return None
        if not (value.isascii() and value.isdigit() and len(value) <= 18):
            raise serializers.ValidationError(
                _("Give an organization id, or null for the roots.")
            )
        return int(value)


class ContactSerializer(ModelSerializer):
    """``{id, name, email, phone, external_id, organization}``; ``external_id`` is unique."""

    name = serializers.CharField(max_length=MAX_TEXT_LENGTH, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=MAX_TEXT_LENGTH, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=MAX_TEXT_LENGTH, required=False, allow_blank=True)
    organization = IdRelatedField(
        queryset=Organization.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = Contact
        fields = ["id", "name", "email", "phone", "external_id", "organization"]


class ContactFilterSerializer(serializers.Serializer):
    external_id = serializers.CharField(required=False, max_length=MAX_TEXT_LENGTH)
    organization = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)


class RuleSerializer(ModelSerializer):
    """``{id, organization, contact, agent, type, active}``: exactly one of organization and
    contact; at most one active rule per target."""

    organization = IdRelatedField(
        queryset=Organization.objects.all(), allow_null=True, required=False
    )
    contact = IdRelatedField(queryset=Contact.objects.all(), allow_null=True, required=False)
    agent = IdRelatedField(queryset=User.objects.all())
    type = serializers.ChoiceField(choices=RuleType.choices)
    active = serializers.BooleanField(required=False, default=True)
    max_wait_seconds = serializers.IntegerField(
        min_value=0, max_value=MAX_WAIT_SECONDS, allow_null=True, required=False,
        error_messages={
            "min_value": "A wait cannot be negative: give 0 (no wait) or more seconds, or "
                         "null for the routing settings' limit.",
            "max_value": f"At most {MAX_WAIT_SECONDS} seconds (30 days).",
        },
        help_text="Automatic rules: seconds a conversation waits reserved for the busy "
                  "agent, then it goes to its team, still starred (0: no wait; null: the "
                  "routing settings' `preferred_max_wait_seconds`).",
    )

    class Meta:
        model = PreferentialRule
        fields = ["id", "organization", "contact", "agent", "type", "active",
                  "max_wait_seconds", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        validators = []  # the one-active-rule constraints are checked in validate()

    def validate(self, attrs):
        def current(name):
            if name in attrs:
                return attrs[name]
            return getattr(self.instance, name) if self.instance is not None else None

        active = current("active")
        errors = rule_target_errors(
            organization=current("organization"), contact=current("contact"),
            active=True if active is None else active,
            rule_id=self.instance.pk if self.instance is not None else None,
        )
        if errors:
            raise serializers.ValidationError({key: [text] for key, text in errors.items()})
        return attrs

    def save(self, **kwargs):
        try:
            with transaction.atomic():
                return super().save(**kwargs)
        except IntegrityError as error:  # a concurrent rule won the race for the target
            raise InvalidInput(
                _("This target already has an active rule."), field="active"
            ) from error
