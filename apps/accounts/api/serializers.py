from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework import serializers

from apps.accounts.models import IntegrationClient, Presence, Role, User
from apps.core.api import ModelSerializer, Serializer
from apps.core.limits import MAX_CAPACITY, MAX_TEXT_LENGTH


class TokenRequestSerializer(Serializer):
    username = serializers.CharField(max_length=MAX_TEXT_LENGTH, trim_whitespace=False)
    password = serializers.CharField(max_length=MAX_TEXT_LENGTH, trim_whitespace=False)


class TokenSerializer(Serializer):
    token = serializers.CharField()


class AgentSerializer(ModelSerializer):
    """A person: ``{id, username, name, email, role, capacity, presence, is_active}`` and
    their load ``open_count`` (open conversations assigned to them, read-only).

    Created with an optional ``password``; ``capacity`` goes from 0 to 10000."""

    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    name = serializers.CharField(max_length=MAX_TEXT_LENGTH, required=False, allow_blank=True)
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    capacity = serializers.IntegerField(min_value=0, max_value=MAX_CAPACITY, required=False)
    password = serializers.CharField(
        write_only=True, required=False, max_length=128, trim_whitespace=False,
        style={"input_type": "password"},
    )

    class Meta:
        model = User
        fields = ["id", "username", "name", "email", "role", "capacity", "presence",
                  "is_active", "open_count", "password"]
        read_only_fields = ["id", "presence", "is_active", "open_count"]

    def validate_email(self, value):
        if value:
            taken = User.objects.filter(email__iexact=value)
            if self.instance is not None:
                taken = taken.exclude(pk=self.instance.pk)
            if taken.exists():
                raise serializers.ValidationError(_("Another person already uses this email."))
        return value

    def validate(self, attrs):
        password = attrs.get("password")
        if password is not None:
            candidate = User(username=attrs.get("username", ""), email=attrs.get("email", ""),
                             name=attrs.get("name", ""))
            try:
                validate_password(password, candidate)
            except DjangoValidationError as error:
                raise serializers.ValidationError({"password": list(error.messages)}) from error
        return attrs

    def create(self, validated_data):
        password = validated_data.pop("password", None)
        user = User(**validated_data)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        return user


class AgentUpdateSerializer(AgentSerializer):
    """PATCH: ``capacity``, ``role``, ``is_active``, ``name`` (and ``email``)."""

    username = serializers.CharField(read_only=True)
    is_active = serializers.BooleanField(required=False)

    class Meta(AgentSerializer.Meta):
        fields = ["id", "username", "name", "email", "role", "capacity", "presence",
                  "is_active", "open_count"]
        read_only_fields = ["id", "username", "presence", "open_count"]


class PresenceSerializer(Serializer):
    status = serializers.ChoiceField(choices=Presence.choices)


class QueueTeamSerializer(Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    queued = serializers.IntegerField()


class QueueCountsSerializer(Serializer):
    waiting = serializers.IntegerField()
    teams = QueueTeamSerializer(many=True)
    mine = serializers.IntegerField()
    reserved_for_me = serializers.IntegerField()


class IntegrationSerializer(ModelSerializer):
    """``{id, name, token}``. ``token`` is the full secret only in the answer to POST; lists
    show its first characters followed by an ellipsis, or null once revoked."""

    token = serializers.SerializerMethodField()
    name = serializers.CharField(max_length=MAX_TEXT_LENGTH)

    class Meta:
        model = IntegrationClient
        fields = ["id", "name", "token", "created_at", "revoked_at"]
        read_only_fields = ["id", "token", "created_at", "revoked_at"]

    def get_token(self, client) -> str | None:
        raw = getattr(client, "raw_token", None)
        if raw:
            return raw
        if client.revoked_at is not None:
            return None
        return f"{client.token_prefix}…"

    def create(self, validated_data):
        client = IntegrationClient(**validated_data)
        raw = IntegrationClient.new_token()
        client.set_token(raw)
        client.save()
        client.raw_token = raw
        return client
