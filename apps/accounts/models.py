import hashlib
import secrets

from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.auth.password_validation import validate_password
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.limits import MAX_TEXT_LENGTH


class Role(models.TextChoices):
    AGENT = "agent", _("Agent")
    SUPERVISOR = "supervisor", _("Supervisor")
    ADMIN = "admin", _("Administrator")


class Presence(models.TextChoices):
    ONLINE = "online", _("Online")
    AWAY = "away", _("Away")
    OFFLINE = "offline", _("Offline")


class AgentChangeKind(models.TextChoices):
    CREATED = "created", _("Created")
    PRESENCE = "presence", _("Presence")
    CAPACITY = "capacity", _("Capacity")
    SKILLS = "skills", _("Skills")
    TEAM_JOINED = "team_joined", _("Joined a team")
    TEAM_LEFT = "team_left", _("Left a team")
    ROLE = "role", _("Role")
    ACTIVATED = "activated", _("Activated")
    DEACTIVATED = "deactivated", _("Deactivated")


class ChangeCause(models.TextChoices):
    """Why an agent changed."""

    CHOSE = "chose", _("The agent chose it")
    CONNECTED = "connected", _("A connection opened")
    DISCONNECTED = "disconnected", _("The last connection closed")
    SWEPT = "swept", _("No heartbeat: swept as stale")
    DEACTIVATED = "deactivated", _("The account was deactivated")
    EDITED = "edited", _("Changed by a person")
    CREATED = "created", _("The account was created")
    SYSTEM = "system", _("The system")


class PersonManager(UserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        """``createsuperuser --noinput`` (DJANGO_SUPERUSER_PASSWORD) skips Django's password
        validation; an administrator's password is validated like any other."""
        if password is not None:
            validate_password(password, self.model(username=username, email=email or ""))
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """A person who signs in: an agent, a supervisor or an administrator.

    ``open_count`` is the number of open conversations assigned to the agent. It is kept by
    the routing services in the same transaction as every assignment, so that automatic
    distribution can check and raise an agent's load with one conditional UPDATE on this row
    (the row lock is what keeps concurrent workers from exceeding ``capacity``).
    ``check_invariants`` verifies it against the conversations.
    """

    name = models.CharField(_("name"), max_length=MAX_TEXT_LENGTH, blank=True)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.AGENT)
    capacity = models.PositiveIntegerField(
        _("capacity"),
        default=5,
        help_text=_("Open conversations automatic distribution may give this agent."),
    )
    presence = models.CharField(
        _("presence"), max_length=16, choices=Presence.choices, default=Presence.OFFLINE
    )
    last_heartbeat = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    chose_away = models.BooleanField(
        _("chose away"), default=False, editable=False,
        help_text=_("The agent chose away: opening the inbox keeps them away, not online."),
    )
    offline_since = models.DateTimeField(
        _("offline since"), null=True, blank=True, editable=False,
        help_text=_("When the agent last became offline (teams may requeue after a while)."),
    )
    open_count = models.PositiveIntegerField(_("open conversations"), default=0, editable=False)

    objects = PersonManager()

    class Meta:
        ordering = ["username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=0), name="user_capacity_not_negative"),
            models.CheckConstraint(
                condition=Q(open_count__gte=0), name="user_open_count_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(role__in=Role.values), name="user_role_valid"
            ),
            models.CheckConstraint(
                condition=Q(presence__in=Presence.values), name="user_presence_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["presence", "last_heartbeat"], name="user_presence_idx"),
            models.Index(
                fields=["offline_since"],
                condition=Q(presence=Presence.OFFLINE, offline_since__isnull=False),
                name="user_offline_since_idx",
            ),
        ]

    def save(self, *args, **kwargs):
        if self.is_superuser:
            self.role = Role.ADMIN
        adding = self._state.adding
        # Presence changes go through routing's set_presence, which keeps offline_since;
        # this covers people created (or edited) offline.
        if self.presence == Presence.OFFLINE and self.offline_since is None:
            self.offline_since = timezone.now()
        elif self.presence != Presence.OFFLINE:
            self.offline_since = None
        super().save(*args, **kwargs)
        if adding:
            self._record_creation()

    def _record_creation(self) -> None:
        """A new person's first rows of history: created, and the presence they start in."""
        now = timezone.now()
        by = getattr(self, "created_by", None)
        rows = [AgentChange(
            agent=self, at=now, kind=AgentChangeKind.CREATED, cause=ChangeCause.CREATED,
            actor=by if isinstance(by, User) else None,
            after={"role": self.role, "capacity": self.capacity, "presence": self.presence,
                   "is_active": self.is_active},
        )]
        if self.presence != Presence.OFFLINE:
            rows.append(AgentChange(
                agent=self, at=now, kind=AgentChangeKind.PRESENCE, cause=ChangeCause.CREATED,
                actor=rows[0].actor,
                before=Presence.OFFLINE, after=self.presence,
            ))
        AgentChange.objects.bulk_create(rows)

    def __str__(self):
        return self.name or self.username

    @property
    def display_name(self) -> str:
        return self.name or self.get_full_name() or self.username

    @property
    def is_admin(self) -> bool:
        return self.is_superuser or self.role == Role.ADMIN

    @property
    def is_supervisor(self) -> bool:
        """Supervisors and administrators may distribute, assign and transfer anything."""
        return self.is_admin or self.role == Role.SUPERVISOR

    @property
    def is_integration(self) -> bool:
        return False


class AgentChange(models.Model):
    """One change to an agent: when, what, from, to, who did it and why
    (apps.accounts.history writes them; nothing edits or deletes them)."""

    agent = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="changes", verbose_name=_("agent")
    )
    at = models.DateTimeField(_("when"), default=timezone.now)
    kind = models.CharField(_("what"), max_length=16, choices=AgentChangeKind.choices)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("done by"),
    )
    cause = models.CharField(_("why"), max_length=16, choices=ChangeCause.choices)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("agent change")
        verbose_name_plural = _("history of people")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=AgentChangeKind.values), name="agent_change_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(cause__in=ChangeCause.values), name="agent_change_cause_valid"
            ),
        ]
        indexes = [
            # An agent's state at a moment: the latest row of a kind before it.
            models.Index(fields=["agent", "kind", "at"], name="agent_change_state_idx"),
            # A period's changes of every agent (reports, the simulator's replay).
            models.Index(fields=["kind", "at"], name="agent_change_period_idx"),
        ]

    def __str__(self):
        return f"{self.agent_id} {self.kind} {self.before!r} -> {self.after!r}"


def is_person(principal) -> bool:
    """A signed-in, active agent, supervisor or administrator (not an integration client,
    not an anonymous visitor, not a deactivated account)."""
    return isinstance(principal, User) and principal.is_active


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class PersonToken(models.Model):
    """A person's API token (``Authorization: Token <token>``, or a websocket's ``?token=``).

    Only its SHA-256 is stored, as for integration clients: the token is shown once, in the
    answer to ``auth/token``. It lasts PERSON_TOKEN_LIFETIME_DAYS from when it was issued
    (fixed, not sliding: a stolen token stops working at the latest then), and goes when the
    person changes their password or revokes it (``DELETE me/token``)."""

    PREFIX = "pt_"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_prefix = models.CharField(max_length=8, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("person token")
        indexes = [models.Index(fields=["user", "expires_at"], name="person_token_user_idx")]

    def __str__(self):
        return f"{self.token_prefix}… ({self.user})"

    @classmethod
    def new_token(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)


class IntegrationClient(models.Model):
    """An API client (channel connector or bot). It holds a token and is never an agent.

    Only the token's SHA-256 is stored: the token itself is shown once, on creation.
    """

    name = models.CharField(_("name"), max_length=MAX_TEXT_LENGTH)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_prefix = models.CharField(_("token prefix"), max_length=8, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    # Outbound webhooks (apps.webhooks): where Atende tells the integration what agents said
    # and did in its conversations. The secret signs each request; it is stored encrypted
    # (apps.webhooks.crypto) because signing needs it back, and shown once.
    webhook_url = models.CharField(
        _("webhook URL"), max_length=2048, blank=True,
        help_text=_("Where Atende POSTs this integration's events (http or https)."),
    )
    webhook_secret = models.TextField(blank=True, editable=False)
    active = models.BooleanField(
        _("active"), default=True,
        help_text=_("Deliver webhooks to this integration (off: deliveries stop; the token "
                    "keeps working)."),
    )
    # Delivery health, kept by the delivery worker: consecutive failed attempts, since when,
    # and (circuit breaker) no attempt before ``webhook_retry_at``.
    webhook_failures = models.PositiveIntegerField(default=0, editable=False)
    webhook_failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    webhook_retry_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("integration client")
        verbose_name_plural = _("integration clients")

    def __str__(self):
        return self.name

    @classmethod
    def new_token(cls) -> str:
        return "int_" + secrets.token_urlsafe(32)

    def set_token(self, raw: str) -> None:
        self.token_hash = hash_token(raw)
        self.token_prefix = raw[:8]

    # The request principal protocol shared with User, read by permissions and services.
    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_admin = False
    is_supervisor = False
    is_integration = True
    role = "integration"

    @property
    def display_name(self) -> str:
        return self.name
