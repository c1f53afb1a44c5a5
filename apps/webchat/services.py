"""Creating and changing web chats (the admin and ``webchats/`` both come here)."""

import secrets
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import IntegrationClient
from apps.core.errors import InvalidInput
from apps.core.limits import MAX_TEXT_LENGTH, is_id
from apps.skills.selectors import parse_skill_names
from apps.teams.models import Team
from apps.webchat.models import (
    MAX_GREETING_LENGTH,
    MAX_ORIGINS,
    MAX_TEAMS_OFFERED,
    ChatLanguage,
    OfferedSkill,
    OfferedTeam,
    WebChat,
)
from apps.webhooks import crypto

UNSET = object()


def new_secret() -> str:
    return "wcsec_" + secrets.token_urlsafe(32)


def clean_origin(value) -> str:
    """``scheme://host[:port]`` in lower case, or InvalidInput."""
    error = InvalidInput(
        _("Write each origin as scheme://host or scheme://host:port, for example "
          "https://www.example.com."),
        field="allowed_origins",
    )
    if not isinstance(value, str) or len(value) > 300:
        raise error
    text = value.strip().lower().rstrip("/")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise error from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or (
        parts.query or parts.fragment or parts.username or parts.password
    ):
        raise error
    return f"{parts.scheme}://{parts.netloc}"


def clean_origins(values) -> list[str]:
    if not isinstance(values, list) or len(values) > MAX_ORIGINS:
        raise InvalidInput(
            _("allowed_origins is a list of at most %(max)s origins.") % {"max": MAX_ORIGINS},
            field="allowed_origins",
        )
    return sorted({clean_origin(v) for v in values})


def clean_teams_offered(values) -> list[dict]:
    """``[{"label", "team", "skills"?}]`` checked: each team exists, each label is text."""
    if not isinstance(values, list) or len(values) > MAX_TEAMS_OFFERED:
        raise InvalidInput(
            _("teams_offered is a list of at most %(max)s choices.") % {"max": MAX_TEAMS_OFFERED},
            field="teams_offered",
        )
    cleaned = []
    for item in values:
        label = item.get("label") if isinstance(item, dict) else None
        team_id = item.get("team") if isinstance(item, dict) else None
        if not isinstance(label, str) or not label.strip() or len(label) > MAX_TEXT_LENGTH:
            raise InvalidInput(_("Each choice needs a label."), field="teams_offered")
        if not is_id(team_id):
            raise InvalidInput(_("Each choice needs a team id."), field="teams_offered")
        try:
            skills = parse_skill_names(item.get("skills") or [])
        except InvalidInput as error:
            raise InvalidInput(error.detail, field="teams_offered") from None
        cleaned.append({"label": label.strip(), "team": team_id, "skills": skills})
    known = set(Team.objects.filter(pk__in=[c["team"] for c in cleaned]).values_list(
        "pk", flat=True))
    for choice in cleaned:
        if choice["team"] not in known:
            raise InvalidInput(
                _("There is no team %(id)s.") % {"id": choice["team"]}, field="teams_offered"
            )
    return cleaned


def _clean_fields(fields: dict) -> dict:
    cleaned = {}
    if "name" in fields:
        name = fields["name"]
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_TEXT_LENGTH:
            raise InvalidInput(_("Give the web chat a name."), field="name")
        cleaned["name"] = name.strip()
    if "allowed_origins" in fields:
        cleaned["allowed_origins"] = clean_origins(fields["allowed_origins"])
    if "greeting" in fields:
        greeting = fields["greeting"]
        if not isinstance(greeting, str) or len(greeting) > MAX_GREETING_LENGTH:
            raise InvalidInput(
                _("The greeting is text of at most %(max)s characters.")
                % {"max": MAX_GREETING_LENGTH},
                field="greeting",
            )
        cleaned["greeting"] = greeting.strip()
    if "language" in fields:
        language = fields["language"] or ""
        if language not in ChatLanguage.values:
            raise InvalidInput(
                _("The language is \"en\", \"pt-br\" or empty (the browser's)."),
                field="language",
            )
        cleaned["language"] = language
    if "color" in fields:
        color = fields["color"]
        if not (isinstance(color, str) and len(color) == 7 and color[0] == "#"
                and all(c in "0123456789abcdefABCDEF" for c in color[1:])):
            raise InvalidInput(_("The colour is written #rrggbb."), field="color")
        cleaned["color"] = color.lower()
    if "active" in fields:
        if not isinstance(fields["active"], bool):
            raise InvalidInput(_("active is true or false."), field="active")
        cleaned["active"] = fields["active"]
    return cleaned


def _set_teams(webchat: WebChat, choices: list[dict]) -> None:
    OfferedTeam.objects.filter(webchat=webchat).delete()
    offered = OfferedTeam.objects.bulk_create(
        OfferedTeam(webchat=webchat, position=i, label=c["label"], team_id=c["team"])
        for i, c in enumerate(choices)
    )
    OfferedSkill.objects.bulk_create(
        OfferedSkill(offered=row, skill_id=skill, min_level=level)
        for row, choice in zip(offered, choices, strict=True)
        for skill, level in choice.get("skills", {}).items()
    )


def require_skills(*, offered: OfferedTeam, levels: dict[int, int]) -> None:
    """The skills (id: minimum level) a choice requires, instead of those it required."""
    with transaction.atomic():
        OfferedSkill.objects.filter(offered=offered).delete()
        OfferedSkill.objects.bulk_create(
            OfferedSkill(offered=offered, skill_id=skill, min_level=level)
            for skill, level in levels.items()
        )


def create_webchat(*, name, teams_offered=(), **fields) -> tuple[WebChat, str]:
    """A new web chat with its integration client (its conversations' owner; the client's
    token is never shown, so nobody calls the API as it). Returns it with its HMAC secret,
    to be shown once."""
    cleaned = _clean_fields({"name": name, **fields})
    choices = clean_teams_offered(list(teams_offered))
    secret = new_secret()
    with transaction.atomic():
        integration = IntegrationClient(name=_("Web chat: %(name)s") % {"name": cleaned["name"]})
        integration.set_token(IntegrationClient.new_token())
        integration.save()
        webchat = WebChat.objects.create(
            integration=integration, secret=crypto.encrypt(secret), **cleaned
        )
        _set_teams(webchat, choices)
    return webchat, secret


def update_webchat(*, webchat: WebChat, teams_offered=UNSET, **fields) -> WebChat:
    cleaned = _clean_fields(fields)
    choices = UNSET if teams_offered is UNSET else clean_teams_offered(teams_offered)
    with transaction.atomic():
        for key, value in cleaned.items():
            setattr(webchat, key, value)
        if cleaned:
            webchat.save(update_fields=list(cleaned))
        if choices is not UNSET:
            _set_teams(webchat, choices)
    return webchat


def renew_secret(*, webchat: WebChat) -> str:
    """A new HMAC secret (the old one stops working at once); shown once."""
    secret = new_secret()
    webchat.secret = crypto.encrypt(secret)
    webchat.save(update_fields=["secret"])
    return secret


def delete_webchat(*, webchat: WebChat) -> None:
    """The chat goes; its integration client is revoked and stays, with its conversations
    and the history that names it."""
    with transaction.atomic():
        integration = webchat.integration
        webchat.delete()
        IntegrationClient.objects.filter(pk=integration.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
