from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from mptt.models import MPTTModel, TreeForeignKey

from apps.core.limits import MAX_TEXT_LENGTH, MAX_WAIT_SECONDS


class OrganizationKind(models.TextChoices):
    ORGANIZATION = "organization", _("Organization")
    DEPARTMENT = "department", _("Department")


class Organization(MPTTModel):
    """A node of the client organization tree: companies, child companies, departments."""

    name = models.CharField(_("name"), max_length=MAX_TEXT_LENGTH)
    kind = models.CharField(
        _("kind"), max_length=16, choices=OrganizationKind.choices,
        default=OrganizationKind.ORGANIZATION,
    )
    parent = TreeForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
        verbose_name=_("parent"),
    )

    class MPTTMeta:
        order_insertion_by = ["name"]

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=OrganizationKind.values), name="organization_kind_valid"
            ),
        ]

    def __str__(self):
        return self.name


class Contact(models.Model):
    """A client who writes in from a channel, known to integrations by ``external_id``."""

    name = models.CharField(_("name"), max_length=MAX_TEXT_LENGTH, blank=True)
    email = models.EmailField(_("email"), max_length=MAX_TEXT_LENGTH, blank=True)
    phone = models.CharField(_("phone"), max_length=MAX_TEXT_LENGTH, blank=True)
    external_id = models.CharField(_("external id"), max_length=MAX_TEXT_LENGTH, unique=True)
    organization = TreeForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="contacts",
        verbose_name=_("organization"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self):
        return self.name or self.external_id


class RuleType(models.TextChoices):
    QUEUE = "queue", _("Chat queue (star)")
    AUTO = "auto", _("Automatic distribution")


class PreferentialRule(models.Model):
    """A preferred agent for an organization node (and its subtree) or for one contact."""

    organization = TreeForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True,
        related_name="preferential_rules", verbose_name=_("organization"),
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, null=True, blank=True,
        related_name="preferential_rules", verbose_name=_("contact"),
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferential_rules",
        verbose_name=_("preferred agent"),
    )
    type = models.CharField(_("type"), max_length=8, choices=RuleType.choices)
    active = models.BooleanField(_("active"), default=True)
    max_wait_seconds = models.PositiveIntegerField(
        _("longest wait while busy (seconds)"), null=True, blank=True,
        validators=[
            MaxValueValidator(MAX_WAIT_SECONDS, _("At most %(limit_value)s seconds (30 days).")),
        ],
        help_text=_(
            "Automatic rules: how long a conversation waits reserved for the agent while they "
            "are busy; then it goes to its team, still starred. 0: it does not wait. Empty: "
            "the routing settings' limit."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-active", "id"]
        verbose_name = _("preferential rule")
        verbose_name_plural = _("preferential rules")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(organization__isnull=False, contact__isnull=True)
                    | Q(organization__isnull=True, contact__isnull=False)
                ),
                name="rule_exactly_one_target",
                violation_error_message=_(
                    "Choose either an organization or a contact as the rule's target, not both."
                ),
            ),
            models.CheckConstraint(condition=Q(type__in=RuleType.values), name="rule_type_valid"),
            models.UniqueConstraint(
                fields=["organization"], condition=Q(active=True),
                name="rule_one_active_per_organization",
                violation_error_message=_("This organization already has an active rule."),
            ),
            models.UniqueConstraint(
                fields=["contact"], condition=Q(active=True),
                name="rule_one_active_per_contact",
                violation_error_message=_("This contact already has an active rule."),
            ),
        ]

    def __str__(self):
        return f"{self.target} → {self.agent} ({self.get_type_display()})"

    @property
    def target(self):
        return self.contact if self.contact_id else self.organization
