from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core.limits import MAX_TEXT_LENGTH


class DistributionMode(models.TextChoices):
    MANUAL = "manual", _("Manual claim")
    SEQUENTIAL = "sequential", _("Sequential rotation")
    CAPACITY = "capacity", _("By capacity")


class Team(models.Model):
    name = models.CharField(_("name"), max_length=MAX_TEXT_LENGTH, unique=True)
    distribution_mode = models.CharField(
        _("distribution mode"), max_length=16, choices=DistributionMode.choices,
        default=DistributionMode.MANUAL,
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="teams", blank=True,
        verbose_name=_("members"),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        constraints = [
            models.CheckConstraint(
                condition=Q(distribution_mode__in=DistributionMode.values),
                name="team_distribution_mode_valid",
            ),
        ]

    def __str__(self):
        return self.name


class Membership(models.Model):
    """An agent in a team. ``last_assigned_at`` is the rotation state: least recent goes next."""

    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("team")
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships",
        verbose_name=_("agent"),
    )
    joined_at = models.DateTimeField(_("joined at"), auto_now_add=True)
    last_assigned_at = models.DateTimeField(
        _("last assigned at"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["team", "agent"], name="membership_unique"),
        ]
        indexes = [models.Index(fields=["agent", "team"], name="membership_agent_idx")]

    def __str__(self):
        return f"{self.agent} in {self.team}"


class RoutingSettings(models.Model):
    """The single row of routing settings."""

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID, editable=False)
    default_team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("default team"),
        help_text=_("Where a conversation goes when no bot names a team. Empty: Waiting."),
    )

    class Meta:
        verbose_name = _("routing settings")
        verbose_name_plural = _("routing settings")
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="routing_settings_singleton"),
        ]

    def __str__(self):
        return str(_("Routing settings"))

    @classmethod
    def load(cls) -> "RoutingSettings":
        obj, _created = cls.objects.get_or_create(id=cls.SINGLETON_ID)
        return obj
