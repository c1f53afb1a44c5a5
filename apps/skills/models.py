"""Skills (routing.md section 9): what agents can do, what a conversation requires, and
the ladder that relaxes a team's requirements as a conversation waits."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from apps.core.limits import MAX_TEXT_LENGTH, MAX_WAIT_SECONDS

MIN_LEVEL, MAX_LEVEL = 1, 5
LEVEL_VALIDATORS = [MinValueValidator(MIN_LEVEL), MaxValueValidator(MAX_LEVEL)]


class Skill(models.Model):
    """Something an agent can do (``english``, ``billing``), defined by an administrator."""

    name = models.CharField(_("name"), max_length=MAX_TEXT_LENGTH, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("skill")
        verbose_name_plural = _("skills")

    def __str__(self):
        return self.name


class AgentSkill(models.Model):
    """An agent's level (1-5) in a skill."""

    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="skill_levels",
        verbose_name=_("agent"),
    )
    skill = models.ForeignKey(
        Skill, on_delete=models.CASCADE, related_name="agent_levels", verbose_name=_("skill")
    )
    level = models.PositiveSmallIntegerField(_("level"), validators=LEVEL_VALIDATORS)

    class Meta:
        ordering = ["skill__name"]
        verbose_name = _("agent skill")
        verbose_name_plural = _("agent skills")
        constraints = [
            models.UniqueConstraint(fields=["agent", "skill"], name="agent_skill_unique"),
            models.CheckConstraint(
                condition=Q(level__gte=MIN_LEVEL, level__lte=MAX_LEVEL),
                name="agent_skill_level_valid",
            ),
        ]

    def __str__(self):
        return f"{self.skill} {self.level}"


class OrganizationRequirement(models.Model):
    """A skill an organization node requires of whoever serves its contacts. The nearest
    node with requirements, going up from the contact's, decides (as preferential rules)."""

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE,
        related_name="skill_requirements", verbose_name=_("organization"),
    )
    skill = models.ForeignKey(
        Skill, on_delete=models.PROTECT, related_name="+", verbose_name=_("skill")
    )
    min_level = models.PositiveSmallIntegerField(
        _("minimum level"), default=MIN_LEVEL, validators=LEVEL_VALIDATORS
    )

    class Meta:
        verbose_name = _("required skill")
        verbose_name_plural = _("required skills")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "skill"], name="organization_requirement_unique"
            ),
            models.CheckConstraint(
                condition=Q(min_level__gte=MIN_LEVEL, min_level__lte=MAX_LEVEL),
                name="organization_requirement_level_valid",
            ),
        ]

    def __str__(self):
        return f"{self.skill} ≥ {self.min_level}"


class RequirementSource(models.TextChoices):
    CHANNEL = "channel", _("Named by the channel")
    BOT = "bot", _("Named by a bot or supervisor")
    ORGANIZATION = "organization", _("Inherited from the organization")


class ConversationRequirement(models.Model):
    """A skill a conversation requires. ``min_level`` is the minimum in force now (the
    ladder may have lowered it from ``original_level``); a dropped requirement is no
    longer ``in_force``."""

    conversation = models.ForeignKey(
        "conversations.Conversation", on_delete=models.CASCADE, related_name="requirements",
        verbose_name=_("conversation"),
    )
    skill = models.ForeignKey(
        Skill, on_delete=models.PROTECT, related_name="+", verbose_name=_("skill")
    )
    min_level = models.PositiveSmallIntegerField(_("minimum level"), validators=LEVEL_VALIDATORS)
    original_level = models.PositiveSmallIntegerField(
        _("minimum level required at first"), validators=LEVEL_VALIDATORS
    )
    in_force = models.BooleanField(_("in force"), default=True)
    source = models.CharField(_("source"), max_length=16, choices=RequirementSource.choices)

    class Meta:
        ordering = ["skill__name"]
        verbose_name = _("conversation requirement")
        verbose_name_plural = _("conversation requirements")
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "skill"], name="conversation_requirement_unique"
            ),
            models.CheckConstraint(
                condition=Q(min_level__gte=MIN_LEVEL, min_level__lte=F("original_level"))
                & Q(original_level__lte=MAX_LEVEL),
                name="conversation_requirement_level_valid",
            ),
            models.CheckConstraint(
                condition=Q(source__in=RequirementSource.values),
                name="conversation_requirement_source_valid",
            ),
        ]

    def __str__(self):
        return f"{self.skill} ≥ {self.min_level}"


class StepAction(models.TextChoices):
    DROP = "drop", _("Drop requirements")
    LOWER = "lower", _("Lower minimum levels")
    OVERFLOW = "overflow", _("Overflow to another team")


class LadderStep(models.Model):
    """One step of a team's ladder, taken ``after_seconds`` after a conversation was
    queued in the team."""

    team = models.ForeignKey(
        "teams.Team", on_delete=models.CASCADE, related_name="ladder_steps",
        verbose_name=_("team"),
    )
    position = models.PositiveSmallIntegerField(_("position"))
    after_seconds = models.PositiveIntegerField(
        _("after (seconds)"), validators=[MaxValueValidator(MAX_WAIT_SECONDS)]
    )
    action = models.CharField(_("action"), max_length=16, choices=StepAction.choices)
    all_skills = models.BooleanField(
        _("all skills"), default=False, help_text=_("Drop: every requirement stops.")
    )
    by = models.PositiveSmallIntegerField(
        _("lower by"), null=True, blank=True, validators=LEVEL_VALIDATORS
    )
    overflow_team = models.ForeignKey(
        "teams.Team", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("overflow to team"),
    )
    skills = models.ManyToManyField(
        Skill, through="LadderStepSkill", blank=True, related_name="+",
        verbose_name=_("skills"),
    )

    class Meta:
        ordering = ["team", "position"]
        verbose_name = _("ladder step")
        verbose_name_plural = _("ladder steps")
        constraints = [
            models.UniqueConstraint(fields=["team", "position"], name="ladder_step_unique"),
            models.CheckConstraint(
                condition=Q(action__in=StepAction.values), name="ladder_step_action_valid"
            ),
            models.CheckConstraint(
                condition=~Q(action=StepAction.LOWER) | Q(by__gte=1),
                name="ladder_step_lower_has_by",
            ),
            models.CheckConstraint(
                condition=~Q(action=StepAction.OVERFLOW)
                | (Q(overflow_team__isnull=False) & ~Q(overflow_team=F("team"))),
                name="ladder_step_overflow_other_team",
            ),
        ]

    def __str__(self):
        return f"{self.team} #{self.position + 1}: {self.action} after {self.after_seconds}s"


class LadderStepSkill(models.Model):
    step = models.ForeignKey(LadderStep, on_delete=models.CASCADE, related_name="skill_links")
    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("ladder step skill")
        constraints = [
            models.UniqueConstraint(fields=["step", "skill"], name="ladder_step_skill_unique")
        ]

    def __str__(self):
        return str(self.skill)


class ConversationOverflow(models.Model):
    """A team whose online members became candidates for a conversation (an ``overflow``
    step): they see it in their list of overflow work."""

    conversation = models.ForeignKey(
        "conversations.Conversation", on_delete=models.CASCADE, related_name="overflows",
        verbose_name=_("conversation"),
    )
    team = models.ForeignKey(
        "teams.Team", on_delete=models.CASCADE, related_name="+", verbose_name=_("team")
    )
    at = models.DateTimeField(_("since"), auto_now_add=True)

    class Meta:
        verbose_name = _("overflow")
        verbose_name_plural = _("overflows")
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "team"], name="conversation_overflow_unique"
            )
        ]
        indexes = [models.Index(fields=["team", "conversation"], name="overflow_team_idx")]

    def __str__(self):
        return f"#{self.conversation_id} → {self.team}"
