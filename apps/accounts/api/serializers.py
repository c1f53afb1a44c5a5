from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework import serializers

from apps.accounts.models import IntegrationClient, Presence, Role, User
from apps.core.api import ModelSerializer, Serializer
from apps.core.limits import MAX_CAPACITY, MAX_TEXT_LENGTH
from apps.skills.api.serializers import AgentSkillSerializer, unique_levels
from apps.webhooks import services as webhooks
from apps.webhooks.targets import WebhookUrlInvalid, validate_webhook_url


class TokenRequestSerializer(Serializer):
    username = serializers.CharField(max_length=MAX_TEXT_LENGTH, trim_whitespace=False)
    password = serializers.CharField(max_length=MAX_TEXT_LENGTH, trim_whitespace=False)


class TokenSerializer(Serializer):
    token = serializers.CharField()


class WsTicketSerializer(Serializer):
    ticket = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="Seconds the ticket stays valid.")


class AgentSerializer(ModelSerializer):
    """A person: ``{id, username, name, email, role, capacity, presence, is_active}``, their
    load ``open_count`` (open conversations assigned to them, read-only) and their
    ``skills``: ``[{"skill": id, "level": 1-5}]`` by skill id.

    Created with an optional ``password``; ``capacity`` goes from 0 to 10000."""

    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    name = serializers.CharField(max_length=MAX_TEXT_LENGTH, required=False, allow_blank=True)
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    capacity = serializers.IntegerField(min_value=0, max_value=MAX_CAPACITY, required=False)
    password = serializers.CharField(
        write_only=True, required=False, max_length=128, trim_whitespace=False,
        style={"input_type": "password"},
    )

    skills = AgentSkillSerializer(many=True, read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "name", "email", "role", "capacity", "presence",
                  "is_active", "open_count", "skills", "password"]
        read_only_fields = ["id", "presence", "is_active", "open_count"]

    def to_representation(self, agent):
        data = super().to_representation(agent)
        data["skills"] = skills_payload(agent)
        return data

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
        request = self.context.get("request")
        user.created_by = getattr(request, "user", None)  # named in the history of people
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        return user


class AgentUpdateSerializer(AgentSerializer):
    """PATCH: ``capacity``, ``role``, ``is_active``, ``name`` (and ``email``), and
    ``skills`` (``[{"skill": id, "level": 1-5}]`` replaces the agent's skills)."""

    username = serializers.CharField(read_only=True)
    is_active = serializers.BooleanField(required=False)
    skills = AgentSkillSerializer(many=True, required=False, max_length=1000)

    class Meta(AgentSerializer.Meta):
        fields = ["id", "username", "name", "email", "role", "capacity", "presence",
                  "is_active", "open_count", "skills"]
        read_only_fields = ["id", "username", "presence", "open_count"]

    def validate_skills(self, items):
        return unique_levels(items, level="level", field="skills")

    def update(self, agent, validated_data):
        """Write only the columns sent: a plain ``save()`` would write back the load counter,
        presence and heartbeat read at the start of the request over whatever the routing
        services committed meanwhile."""
        for field, value in validated_data.items():
            setattr(agent, field, value)
        if validated_data:
            agent.save(update_fields=list(validated_data))
        return agent


def skills_payload(agent) -> list[dict]:
    """``[{"skill": id, "level": n}]`` by skill id (from ``skill_levels`` if prefetched)."""
    return sorted(
        ({"skill": row.skill_id, "level": row.level} for row in agent.skill_levels.all()),
        key=lambda row: row["skill"],
    )


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
    """``{id, name, token, webhook_url, active, webhook_secret, ...}``. ``token`` is the full
    secret only in the answer to POST; lists show its first characters followed by an
    ellipsis, or null once revoked. ``webhook_secret`` (what signs the webhooks) is shown
    once too: in the answer to POST, and to the PATCH that gives a URL to an integration that
    had no secret yet; null otherwise. ``webhook_status`` says whether deliveries go
    through: ``off`` (no URL), ``paused`` (inactive or revoked), ``failing`` (the latest
    attempts failed, since ``webhook_failing_since``), ``ok``."""

    token = serializers.SerializerMethodField()
    name = serializers.CharField(max_length=MAX_TEXT_LENGTH)
    webhook_url = serializers.CharField(
        max_length=2048, required=False, allow_blank=True, trim_whitespace=True,
        help_text="Where Atende POSTs this integration's events (http or https); empty: none.",
    )
    active = serializers.BooleanField(
        required=False, help_text="false stops webhook deliveries (the token keeps working)."
    )
    webhook_secret = serializers.SerializerMethodField()
    webhook_status = serializers.SerializerMethodField()

    class Meta:
        model = IntegrationClient
        fields = ["id", "name", "token", "created_at", "revoked_at", "webhook_url", "active",
                  "webhook_secret", "webhook_status", "webhook_failures",
                  "webhook_failing_since"]
        read_only_fields = ["id", "token", "created_at", "revoked_at", "webhook_secret",
                            "webhook_status", "webhook_failures", "webhook_failing_since"]

    def get_token(self, client) -> str | None:
        raw = getattr(client, "raw_token", None)
        if raw:
            return raw
        if client.revoked_at is not None:
            return None
        return f"{client.token_prefix}…"

    def get_webhook_secret(self, client) -> str | None:
        return getattr(client, "raw_webhook_secret", None)

    def get_webhook_status(self, client) -> str:
        if not client.webhook_url:
            return "off"
        if not client.active or client.revoked_at is not None:
            return "paused"
        return "failing" if client.webhook_failures else "ok"

    def validate_webhook_url(self, value):
        if value:
            try:
                return validate_webhook_url(value)
            except WebhookUrlInvalid as error:
                raise serializers.ValidationError(error.detail) from error
        return value

    def create(self, validated_data):
        client = IntegrationClient(name=validated_data["name"])
        raw = IntegrationClient.new_token()
        client.set_token(raw)
        client.raw_webhook_secret = webhooks.set_new_secret(client)
        webhooks.configure_webhook(
            integration=client, save=False,
            **{k: validated_data[k] for k in ("webhook_url", "active") if k in validated_data},
        )
        client.save()
        client.raw_token = raw
        return client

    def update(self, client, validated_data):
        if "name" in validated_data and validated_data["name"] != client.name:
            client.name = validated_data["name"]
            client.save(update_fields=["name"])
        secret = webhooks.configure_webhook(
            integration=client,
            **{k: validated_data[k] for k in ("webhook_url", "active") if k in validated_data},
        )
        if secret:
            client.raw_webhook_secret = secret
        return client
