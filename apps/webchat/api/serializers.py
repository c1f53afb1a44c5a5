"""``webchats/`` (api.md): the web chat object. Input is checked by apps.webchat.services
(one set of rules for the admin and the API); these describe the shapes for the schema."""

from rest_framework import serializers

from apps.webchat.models import WebChat


class OfferedTeamSerializer(serializers.Serializer):
    label = serializers.CharField()
    team = serializers.IntegerField()
    skills = serializers.ListField(
        child=serializers.JSONField(), required=False,
        help_text='The skills the choice requires, as in inbound: names or '
                  '{"skill": name, "min_level": 1-5}; answered as {"skill", "min_level"}.',
    )


class WebChatSerializer(serializers.Serializer):
    """``{id, name, public_key, allowed_origins, teams_offered, greeting, language, color,
    active, integration}``; ``secret`` (what signs identified customers' external ids) is
    in the answer to POST only, and to PATCH ``{"new_secret": true}``."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField()
    public_key = serializers.CharField(read_only=True)
    allowed_origins = serializers.ListField(child=serializers.CharField(), required=False)
    teams_offered = OfferedTeamSerializer(many=True, required=False)
    greeting = serializers.CharField(required=False, allow_blank=True)
    language = serializers.CharField(
        required=False, allow_blank=True, help_text='"en", "pt-br" or "" (the browser\'s).'
    )
    color = serializers.CharField(required=False, help_text="#rrggbb")
    active = serializers.BooleanField(required=False)
    integration = serializers.IntegerField(
        read_only=True,
        help_text="The integration client its conversations belong to: its webhook "
                  "(integrations/{id}/) tells the site what happens.",
    )
    secret = serializers.CharField(read_only=True, required=False)
    new_secret = serializers.BooleanField(
        write_only=True, required=False,
        help_text="PATCH only: true replaces the secret; the answer carries the new one, once.",
    )


def webchat_payload(webchat: WebChat, secret: str | None = None) -> dict:
    """Expects ``teams_offered`` prefetched."""
    payload = {
        "id": webchat.pk,
        "name": webchat.name,
        "public_key": webchat.public_key,
        "allowed_origins": webchat.allowed_origins,
        "teams_offered": [
            {"label": c.label, "team": c.team_id,
             "skills": [{"skill": r.skill.name, "min_level": r.min_level}
                        for r in c.required_skills.all()]}
            for c in webchat.teams_offered.all()
        ],
        "greeting": webchat.greeting,
        "language": webchat.language,
        "color": webchat.color,
        "active": webchat.active,
        "integration": webchat.integration_id,
    }
    if secret is not None:
        payload["secret"] = secret
    return payload
