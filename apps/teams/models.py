from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.limits import MAX_TEXT_LENGTH, MAX_WAIT_SECONDS
from apps.teams.hours import MINUTES_PER_DAY, clock, is_time_zone


def validate_time_zone(value: str) -> None:
    if not is_time_zone(value):
        raise ValidationError(
            _("“%(value)s” is not a time zone. Use an IANA name such as America/Sao_Paulo."),
            params={"value": value}, code="invalid_time_zone",
        )


def default_time_zone() -> str:
    return settings.TIME_ZONE


def wait_validators(minimum: int) -> list:
    """Seconds of a time rule: a whole number from ``minimum`` (0 or 1) to 30 days."""
    return [
        MinValueValidator(
            minimum, _("Give a whole number of seconds of at least %(limit_value)s.")
        ),
        MaxValueValidator(MAX_WAIT_SECONDS, _("At most %(limit_value)s seconds (30 days).")),
    ]


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
    # Time rules (docs/time-rules.md). Null: the rule is off.
    first_reply_seconds = models.PositiveIntegerField(
        _("first reply within (seconds)"), null=True, blank=True, validators=wait_validators(1),
        help_text=_(
            "A conversation given to an agent automatically (distribution, a preferential rule, "
            "a backlog run) that they have not answered within this time goes back to the team "
            "and to another agent. Conversations a person took or assigned are never taken "
            "back. Empty: off."
        ),
    )
    offline_requeue_seconds = models.PositiveIntegerField(
        _("requeue after offline (seconds)"), null=True, blank=True,
        validators=wait_validators(1),
        help_text=_(
            "When an agent has been offline (not away) this long, their open conversations in "
            "this team go back to the team and are distributed. Empty: off."
        ),
    )
    timezone = models.CharField(
        _("time zone"), max_length=64, default=default_time_zone,
        validators=[validate_time_zone],
        help_text=_("The zone of the opening hours and closed dates, e.g. America/Sao_Paulo."),
    )
    answer_target_seconds = models.PositiveIntegerField(
        _("answer target (seconds)"), default=60, validators=wait_validators(1),
        help_text=_(
            "The longest a customer should wait in the queue before an agent takes the "
            "conversation: the floor view shows the share of the last hour's conversations "
            "answered within it."
        ),
    )
    after_hours_team = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("after-hours team"),
        help_text=_(
            "While this team is closed, its new conversations go to this team instead. "
            "Empty: they queue here as usual."
        ),
    )
    sticky_days = models.PositiveIntegerField(
        _("last agent first (days)"), null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_(
            "A new conversation of a contact whose previous conversation in this team closed "
            "within this many days goes first to the agent who served it, if they are online, "
            "a member and have free capacity. Empty: off."
        ),
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
            models.CheckConstraint(
                condition=Q(first_reply_seconds__isnull=True) | Q(first_reply_seconds__gt=0),
                name="team_first_reply_positive",
            ),
            models.CheckConstraint(
                condition=Q(offline_requeue_seconds__isnull=True)
                | Q(offline_requeue_seconds__gt=0),
                name="team_offline_requeue_positive",
            ),
            models.CheckConstraint(
                condition=Q(answer_target_seconds__gt=0), name="team_answer_target_positive"
            ),
            models.CheckConstraint(
                condition=~Q(after_hours_team=F("pk")), name="team_after_hours_not_itself"
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.pk and self.after_hours_team_id == self.pk:
            raise ValidationError(
                {"after_hours_team": _("A team cannot be its own after-hours team.")}
            )


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class OpeningHours(models.Model):
    """One opening interval of a team on a weekday, in the team's time zone. Times are
    minutes after midnight; ``closes`` may be 24:00 (1440), so a night shift is two rows
    (22:00-24:00, then 00:00-06:00 on the next day). A team with none is always open."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.PositiveSmallIntegerField(_("opens"))
    closes = models.PositiveSmallIntegerField(_("closes"))

    class Meta:
        ordering = ["weekday", "opens"]
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        constraints = [
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="hours_weekday_valid"
            ),
            models.CheckConstraint(
                condition=Q(opens__gte=0, opens__lt=F("closes"), closes__lte=MINUTES_PER_DAY),
                name="hours_close_after_open",
                violation_error_message=_("The closing time must be after the opening time."),
            ),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {clock(self.opens)}-{clock(self.closes)}"


class ClosedDate(models.Model):
    """A day (in the team's time zone) when the team is closed whatever its hours say."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="closed_dates")
    date = models.DateField(_("date"))

    class Meta:
        ordering = ["date"]
        verbose_name = _("closed date")
        constraints = [
            models.UniqueConstraint(
                fields=["team", "date"], name="closed_date_unique",
                violation_error_message=_("This date is already listed as closed."),
            ),
        ]

    def __str__(self):
        return self.date.isoformat()


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
        return _("%(agent)s in %(team)s") % {"agent": self.agent, "team": self.team}


class RoutingSettings(models.Model):
    """The single row of routing settings."""

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID, editable=False)
    default_team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("default team"),
        help_text=_("Where a conversation goes when no bot names a team. Empty: Waiting."),
    )
    preferred_max_wait_seconds = models.PositiveIntegerField(
        _("longest wait for a busy preferred agent (seconds)"), null=True, blank=True,
        default=300, validators=wait_validators(0),
        help_text=_(
            "How long a conversation waits reserved for its busy preferred agent when the "
            "preferential rule sets no limit of its own; then it goes to its team, still "
            "starred. 0: it does not wait. Empty: no limit."
        ),
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


class ConfigurationSubject(models.TextChoices):
    TEAM = "team", _("Team")
    ROUTING_SETTINGS = "routing_settings", _("Routing settings")


class ConfigurationChange(models.Model):
    """One change of a team's configuration or of the routing settings: when, which field,
    from, to, who (apps.teams.history writes them; nothing edits or deletes them). Members
    joining and leaving are changes of people (accounts.AgentChange)."""

    at = models.DateTimeField(_("when"), default=timezone.now)
    subject = models.CharField(_("subject"), max_length=16, choices=ConfigurationSubject.choices)
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("team"),
    )
    team_name = models.CharField(_("team name"), max_length=MAX_TEXT_LENGTH, blank=True)
    field = models.CharField(_("what"), max_length=64)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("done by"),
    )

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("configuration change")
        verbose_name_plural = _("history of configuration")
        constraints = [
            models.CheckConstraint(
                condition=Q(subject__in=ConfigurationSubject.values),
                name="configuration_change_subject_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["team", "at"], name="configuration_change_team_idx"),
            models.Index(fields=["at"], name="configuration_change_at_idx"),
        ]

    def __str__(self):
        return f"{self.subject} {self.team_name} {self.field}"
