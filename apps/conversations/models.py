from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.conversations.events import Placement
from apps.conversations.kinds import MOVEMENT_KINDS, ActorKind, EventKind
from apps.conversations.reasons import render
from apps.organizations.models import RuleType

__all__ = [  # the kinds live in their own module; they are read from here as ever
    "MOVEMENT_KINDS", "ActorKind", "Conversation", "ConversationEvent", "EventKind",
    "InboundReceipt", "Message", "SenderKind", "Status", "UNASSIGNED_STATUSES",
]


class Status(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    QUEUED = "queued", _("Queued")
    RESERVED = "reserved", _("Reserved")
    ASSIGNED = "assigned", _("Assigned")
    CLOSED = "closed", _("Closed")


UNASSIGNED_STATUSES = (Status.WAITING, Status.QUEUED, Status.RESERVED)


class Conversation(models.Model):
    """One chat with one contact.

    Where it stands is (status, team, assignee, preferred_agent):
    waiting: no team, no agent; queued: in a team's queue; reserved: waits for its preferred
    agent (``team`` is where it goes if released); assigned: an agent has it; closed.
    """

    contact = models.ForeignKey(
        "organizations.Contact", on_delete=models.PROTECT, related_name="conversations",
        verbose_name=_("contact"),
    )
    channel = models.CharField(_("channel"), max_length=32, default="webchat")
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.WAITING
    )
    team = models.ForeignKey(
        "teams.Team", on_delete=models.PROTECT, null=True, blank=True,
        related_name="conversations", verbose_name=_("team"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="assigned_conversations", verbose_name=_("assigned agent"),
    )
    auto_assigned = models.BooleanField(
        _("assigned automatically"), default=False,
        help_text=_("Assigned by automatic distribution, not by a person."),
    )
    assigned_limit = models.PositiveIntegerField(
        null=True, blank=True, editable=False,
        help_text=_(
            "The agent's capacity limit when automatic distribution assigned it within that "
            "limit (empty: not bound by a limit, e.g. rotation or a person's choice)."
        ),
    )
    preferred_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="preferred_conversations", verbose_name=_("preferred agent"),
    )
    preferred_type = models.CharField(
        _("preferential rule type"), max_length=8, choices=RuleType.choices, blank=True
    )
    last_message = models.ForeignKey(
        "Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("last message"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    queued_at = models.DateTimeField(
        _("queued at"), null=True, blank=True,
        help_text=_("When it entered its current queue: oldest first."),
    )
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    last_activity_at = models.DateTimeField(
        _("last activity at"), auto_now_add=True, db_index=True
    )
    integration = models.ForeignKey(
        "accounts.IntegrationClient", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="conversations",
        help_text=_("The integration whose inbound opened it: it may read it and receives "
                    "its webhooks."),
    )
    # Deadlines of the time rules (docs/time-rules.md): each is set only in the state it
    # concerns (CHECK constraints below) and found through a partial index.
    reserved_until = models.DateTimeField(
        null=True, blank=True,
        help_text=_("When a reservation for a busy preferred agent ends (null: no limit)."),
    )
    reply_due_at = models.DateTimeField(
        null=True, blank=True,
        help_text=_("When an automatic assignment without a reply from the agent is handed over."),
    )
    # The first agent message (docs/reports.md: served, first response), set with it.
    first_reply_at = models.DateTimeField(_("first reply at"), null=True, blank=True)
    first_reply_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("first reply by"),
    )
    # The ladder step it stood at when an agent first replied (reports.md: served at each
    # step of the team's ladder), set with ``first_reply_at``.
    served_step = models.PositiveSmallIntegerField(_("served at ladder step"), null=True,
                                                   blank=True)
    # The latest hand-over between agents (a transfer to an agent, a supervisor reassigning
    # an assigned conversation): an assignment at or before it was no answer from a queue.
    handed_at = models.DateTimeField(_("handed between agents at"), null=True, blank=True)
    # The customer's rating (reports.md): once, after it is closed.
    rating_score = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    rating_comment = models.TextField(_("rating comment"), blank=True, default="")
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)
    # The ladder (routing.md section 9): steps passed in the current team, and when the next
    # one is due (set only while queued; found through a partial index like the time rules).
    ladder_step = models.PositiveSmallIntegerField(_("ladder step"), default=0)
    has_requirements = models.BooleanField(
        _("requires skills"), default=False, editable=False,
        help_text=_("Whether it requires skills: lists read requirements only for these."),
    )
    next_step_at = models.DateTimeField(
        _("next ladder step at"), null=True, blank=True,
        help_text=_("When the team's next ladder step relaxes who can serve it."),
    )
    handed_over_from = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
        help_text=_(
            "The agent it was taken back from for not replying: automatic distribution passes "
            "them over for it while it waits in the queue."
        ),
    )

    class Meta:
        ordering = ["-last_activity_at", "-id"]
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        constraints = [
            models.CheckConstraint(condition=Q(status__in=Status.values), name="conv_status_valid"),
            models.CheckConstraint(
                condition=(
                    Q(status=Status.ASSIGNED, assignee__isnull=False)
                    | Q(status__in=UNASSIGNED_STATUSES, assignee__isnull=True)
                    | Q(status=Status.CLOSED)
                ),
                name="conv_status_matches_assignee",
            ),
            models.CheckConstraint(
                condition=~Q(status=Status.WAITING) | Q(team__isnull=True),
                name="conv_waiting_has_no_team",
            ),
            models.CheckConstraint(
                condition=~Q(status=Status.QUEUED) | Q(team__isnull=False),
                name="conv_queued_has_team",
            ),
            models.CheckConstraint(
                condition=~Q(status=Status.RESERVED) | Q(preferred_agent__isnull=False),
                name="conv_reserved_has_preferred_agent",
            ),
            models.CheckConstraint(
                condition=Q(status=Status.CLOSED, closed_at__isnull=False)
                | (~Q(status=Status.CLOSED) & Q(closed_at__isnull=True)),
                name="conv_closed_iff_closed_at",
            ),
            models.CheckConstraint(
                condition=Q(preferred_agent__isnull=True, preferred_type="")
                | (Q(preferred_agent__isnull=False) & Q(preferred_type__in=RuleType.values)),
                name="conv_preference_complete",
            ),
            models.UniqueConstraint(
                fields=["contact"], condition=~Q(status=Status.CLOSED),
                name="conv_one_open_per_contact",
            ),
            models.CheckConstraint(
                condition=Q(reserved_until__isnull=True) | Q(status=Status.RESERVED),
                name="conv_reserved_until_only_reserved",
            ),
            models.CheckConstraint(
                condition=Q(reply_due_at__isnull=True) | Q(status=Status.ASSIGNED),
                name="conv_reply_due_only_assigned",
            ),
            models.CheckConstraint(
                condition=Q(next_step_at__isnull=True) | Q(status=Status.QUEUED),
                name="conv_next_step_only_queued",
            ),
            models.CheckConstraint(
                condition=Q(handed_over_from__isnull=True) | Q(status=Status.QUEUED),
                name="conv_handed_over_only_queued",
            ),
            models.CheckConstraint(
                condition=Q(rated_at__isnull=True, rating_score__isnull=True, rating_comment="")
                | Q(rated_at__isnull=False, rating_score__gte=1, rating_score__lte=5,
                    status=Status.CLOSED),
                name="conv_rating_complete_and_closed",
            ),
        ]
        indexes = [
            # Team queue, oldest first (distribution and lists).
            models.Index(
                fields=["team", "queued_at", "id"], condition=Q(status=Status.QUEUED),
                name="conv_team_queue_idx",
            ),
            models.Index(
                fields=["queued_at", "id"], condition=Q(status=Status.WAITING),
                name="conv_waiting_idx",
            ),
            models.Index(
                fields=["preferred_agent", "queued_at", "id"],
                condition=Q(status=Status.RESERVED), name="conv_reserved_idx",
            ),
            models.Index(
                fields=["assignee"], condition=Q(status=Status.ASSIGNED),
                name="conv_assigned_idx",
            ),
            models.Index(fields=["status", "team"], name="conv_status_team_idx"),
            # Deadlines falling due (the worker's runs and the sweep).
            models.Index(
                fields=["reserved_until", "id"],
                condition=Q(status=Status.RESERVED, reserved_until__isnull=False),
                name="conv_reservation_due_idx",
            ),
            models.Index(
                fields=["reply_due_at", "id"],
                condition=Q(status=Status.ASSIGNED, reply_due_at__isnull=False),
                name="conv_reply_due_idx",
            ),
            models.Index(
                fields=["next_step_at", "id"],
                condition=Q(status=Status.QUEUED, next_step_at__isnull=False),
                name="conv_ladder_due_idx",
            ),
            # The team's recent pace (queue estimates): assignments and closes by time.
            models.Index(
                fields=["team", "assigned_at"], condition=Q(assigned_at__isnull=False),
                name="conv_team_assigned_at_idx",
            ),
            models.Index(
                fields=["team", "closed_at"], condition=Q(status=Status.CLOSED),
                name="conv_team_closed_at_idx",
            ),
            # Ratings of a period (reports).
            models.Index(
                fields=["rated_at"], condition=Q(rated_at__isnull=False),
                name="conv_rated_at_idx",
            ),
            # Reports: each figure reads the conversations of its moment in the period, by
            # team (docs/performance.md).
            models.Index(fields=["team", "created_at"], name="conv_team_created_idx"),
            models.Index(
                fields=["team", "first_reply_at"], condition=Q(first_reply_at__isnull=False),
                name="conv_team_first_reply_idx",
            ),
            models.Index(
                fields=["first_reply_by", "first_reply_at"],
                condition=Q(first_reply_at__isnull=False), name="conv_agent_first_reply_idx",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.contact} ({self.get_status_display()})"

    @property
    def rating(self) -> dict | None:
        """The customer's rating as the API shows it, or None."""
        if self.rated_at is None:
            return None
        return {"score": self.rating_score, "comment": self.rating_comment, "at": self.rated_at}

    @property
    def placement(self) -> Placement:
        return Placement(
            status=self.status,
            team_id=self.team_id,
            assignee_id=self.assignee_id,
            preferred_agent_id=self.preferred_agent_id,
            integration_id=self.integration_id,
        )


class SenderKind(models.TextChoices):
    CONTACT = "contact", _("Contact")
    AGENT = "agent", _("Agent")


class Message(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages",
        verbose_name=_("conversation"),
    )
    sender_kind = models.CharField(_("sender"), max_length=16, choices=SenderKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("author"),
    )
    body = models.TextField(_("text"), max_length=10_000)
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [models.Index(fields=["conversation", "created_at"], name="message_conv_idx")]

    def __str__(self):
        return f"{self.sender_kind}: {self.body[:40]}"


class ConversationEvent(models.Model):
    """One change of a conversation's team, agent or state, and why it happened."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="events",
        verbose_name=_("conversation"),
    )
    at = models.DateTimeField(_("when"), auto_now_add=True)
    kind = models.CharField(_("what"), max_length=16, choices=EventKind.choices)
    actor_kind = models.CharField(_("done by"), max_length=24, choices=ActorKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("person"),
    )
    actor_integration = models.ForeignKey(
        "accounts.IntegrationClient", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("integration"),
    )
    from_status = models.CharField(_("status before"), max_length=16, blank=True)
    to_status = models.CharField(_("status after"), max_length=16, blank=True)
    from_team = models.ForeignKey(
        "teams.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("team before"),
    )
    to_team = models.ForeignKey(
        "teams.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("team after"),
    )
    from_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("agent before"),
    )
    to_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("agent after"),
    )
    reason_parts = models.JSONField(
        _("reason"), default=list, blank=True,
        help_text=_("Why, as sentence codes and their parameters (apps.conversations.reasons)."),
    )
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("history event")
        verbose_name_plural = _("history events")
        indexes = [
            models.Index(fields=["conversation", "at"], name="event_conv_idx"),
            # Reports: the moves of a period (transfers, handovers, requeues, overflows).
            models.Index(
                fields=["at"], condition=Q(kind__in=MOVEMENT_KINDS), name="event_moves_at_idx",
            ),
        ]

    def __str__(self):
        return f"{self.kind} #{self.conversation_id}: {self.reason[:60]}"

    @property
    def reason(self) -> str:
        """Why it happened, in the active language."""
        return render(self.reason_parts)


class InboundReceipt(models.Model):
    """A channel's own id of a contact's message that was received: the same delivery made
    again (channels deliver at least once) is recognised and not appended twice."""

    contact = models.ForeignKey(
        "organizations.Contact", on_delete=models.CASCADE, related_name="+"
    )
    channel = models.CharField(max_length=32)
    channel_message_id = models.CharField(max_length=255)
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="receipt")

    class Meta:
        verbose_name = _("inbound message receipt")
        verbose_name_plural = _("inbound message receipts")
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "channel", "channel_message_id"], name="inbound_receipt_once"
            )
        ]

    def __str__(self):
        return f"{self.channel}:{self.channel_message_id}"
