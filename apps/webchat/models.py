import secrets

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.limits import MAX_TEXT_LENGTH

MAX_ORIGINS = 50
MAX_TEAMS_OFFERED = 20
MAX_GREETING_LENGTH = 500


class ChatLanguage(models.TextChoices):
    BROWSER = "", _("The browser's")
    ENGLISH = "en", _("English")
    PORTUGUESE = "pt-br", _("Portuguese (Brazil)")


def new_public_key() -> str:
    return "wc_" + secrets.token_urlsafe(18)


class WebChat(models.Model):
    """A web chat: the window a site embeds with its public key. The key names the chat and
    grants nothing else; the secret (stored encrypted, shown once) signs identified
    customers' external ids. Its conversations belong to ``integration``, created with it,
    whose webhook tells the site's systems what happens."""

    name = models.CharField(_("name"), max_length=MAX_TEXT_LENGTH)
    public_key = models.CharField(
        _("public key"), max_length=64, unique=True, editable=False, default=new_public_key
    )
    secret = models.TextField(editable=False)  # encrypted (apps.webhooks.crypto)
    allowed_origins = models.JSONField(
        _("allowed origins"), default=list, blank=True,
        help_text=_("The sites that may embed it, as scheme://host[:port], one per line; "
                    "any other is refused."),
    )
    greeting = models.CharField(_("greeting"), max_length=MAX_GREETING_LENGTH, blank=True)
    color = models.CharField(
        _("colour"), max_length=7, default="#0f766e",
        help_text=_("The launcher's and the header's colour, as #rrggbb."),
    )
    language = models.CharField(
        _("language"), max_length=8, choices=ChatLanguage.choices, blank=True,
        default=ChatLanguage.BROWSER,
    )
    active = models.BooleanField(
        _("active"), default=True, help_text=_("Off: the chat refuses every visitor.")
    )
    integration = models.OneToOneField(
        "accounts.IntegrationClient", on_delete=models.PROTECT, related_name="webchat",
        editable=False, verbose_name=_("integration client"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("web chat")
        verbose_name_plural = _("web chats")

    def __str__(self):
        return self.name


class OfferedTeam(models.Model):
    """One choice the customer may pick before writing (none: the default routing)."""

    webchat = models.ForeignKey(
        WebChat, on_delete=models.CASCADE, related_name="teams_offered",
        verbose_name=_("web chat"),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    label = models.CharField(_("label"), max_length=MAX_TEXT_LENGTH)
    team = models.ForeignKey(
        "teams.Team", on_delete=models.CASCADE, related_name="+", verbose_name=_("team")
    )

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("team offered")
        verbose_name_plural = _("teams offered")

    def __str__(self):
        return self.label

    def clean(self):
        if not self.label.strip():
            raise ValidationError({"label": _("Give the choice a label.")})


class OfferedSkill(models.Model):
    """A skill a choice requires of whoever answers (routing.md section 9): the conversation
    opened through that choice requires it at ``min_level`` or above."""

    offered = models.ForeignKey(
        OfferedTeam, on_delete=models.CASCADE, related_name="required_skills",
        verbose_name=_("team offered"),
    )
    skill = models.ForeignKey(
        "skills.Skill", on_delete=models.PROTECT, related_name="+", verbose_name=_("skill")
    )
    min_level = models.PositiveSmallIntegerField(_("minimum level"), default=1)

    class Meta:
        ordering = ["skill__name"]
        verbose_name = _("skill required")
        verbose_name_plural = _("skills required")
        constraints = [
            models.UniqueConstraint(fields=["offered", "skill"], name="offered_skill_once"),
            models.CheckConstraint(
                condition=models.Q(min_level__gte=1, min_level__lte=5),
                name="offered_skill_level_valid",
            ),
        ]

    def __str__(self):
        return f"{self.skill} ≥ {self.min_level}"
