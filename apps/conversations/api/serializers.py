from django.utils.translation import gettext_lazy
from rest_framework import serializers

from apps.conversations.models import ActorKind, EventKind, SenderKind, Status
from apps.conversations.payloads import conversation_payload, message_payload
from apps.conversations.selectors import MESSAGES_DEFAULT_LIMIT, MESSAGES_MAX_LIMIT, ListOrder
from apps.core.api import (
    AgentSummarySerializer,
    IdRelatedField,
    Serializer,
)
from apps.core.limits import (
    MAX_BODY_LENGTH,
    MAX_ID,
    MAX_RATING_COMMENT_LENGTH,
    MAX_TEXT_LENGTH,
)
from apps.organizations.models import Organization, RuleType
from apps.skills.api.serializers import SkillSpecField
from apps.teams.models import Team


class BodyField(serializers.CharField):
    """A message body: 1 to 10,000 characters, not only blanks (kept as written)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", MAX_BODY_LENGTH)
        kwargs.setdefault("min_length", 1)
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    default_error_messages = {"not_text": gettext_lazy("The message body must be text.")}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_text")
        value = super().to_internal_value(data)
        if not value.strip():
            self.fail("blank")
        return value


class LastMessageSerializer(Serializer):
    id = serializers.IntegerField()
    sender = serializers.ChoiceField(choices=SenderKind.choices, source="sender_kind")
    body = serializers.CharField()
    created_at = serializers.DateTimeField()


class MessageSerializer(LastMessageSerializer):
    """``{id, sender, body, created_at}`` plus the agent who wrote it (null for the contact)."""

    author = AgentSummarySerializer(allow_null=True)

    def to_representation(self, message):
        return message_payload(message)


class QueuePositionSerializer(Serializer):
    """Where a queued or waiting conversation stands: ``position`` 1 is next (oldest first;
    a conversation starred for an online member of its team is in that agent's own line);
    ``estimated_wait_seconds`` is null in Waiting and while no member of the team is
    online."""

    position = serializers.IntegerField(min_value=1)
    estimated_wait_seconds = serializers.IntegerField(min_value=0, allow_null=True)
    eligible_online = serializers.IntegerField(
        min_value=0, required=False,
        help_text="Only for a conversation that requires skills: the online members eligible "
        "at its current step, the only ones the estimate counts.",
    )


class RatingSerializer(Serializer):
    """The customer's rating: a score from 1 to 5 and an optional comment."""

    score = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(
        required=False, allow_blank=True, max_length=MAX_RATING_COMMENT_LENGTH, default=""
    )
    at = serializers.DateTimeField(read_only=True)


class SkillRefSerializer(Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class RequirementSerializer(Serializer):
    """A skill the conversation requires: ``min_level`` is the minimum now (the ladder may
    have lowered it); ``in_force`` false once the ladder dropped it."""

    skill = SkillRefSerializer()
    min_level = serializers.IntegerField(min_value=1, max_value=5)
    in_force = serializers.BooleanField()


class ConversationSerializer(Serializer):
    """The conversation object of api.md, plus display names (``*_name``) and times.
    ``reserved_until``: when a conversation reserved for its busy preferred agent goes to
    its team (null: no limit, or not reserved). ``reply_due_at``: when an automatic
    assignment is handed over to another agent unless the assignee replies first (null:
    no such rule, a person chose the agent, or they replied). ``queue``: for ``queued``
    and ``waiting`` conversations only."""

    id = serializers.IntegerField()
    contact = serializers.IntegerField(source="contact_id")
    channel = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    team = serializers.IntegerField(source="team_id", allow_null=True)
    assignee = serializers.IntegerField(source="assignee_id", allow_null=True)
    preferred_agent = serializers.IntegerField(source="preferred_agent_id", allow_null=True)
    preferred_type = serializers.ChoiceField(choices=RuleType.choices, allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    last_message = LastMessageSerializer(allow_null=True)
    last_activity_at = serializers.DateTimeField()
    integration = serializers.IntegerField(
        source="integration_id", allow_null=True,
        help_text="The integration whose inbound opened it (it receives its webhooks).",
    )
    queued_at = serializers.DateTimeField(allow_null=True)
    contact_name = serializers.CharField()
    team_name = serializers.CharField(allow_null=True)
    assignee_name = serializers.CharField(allow_null=True)
    preferred_agent_name = serializers.CharField(allow_null=True)
    reserved_until = serializers.DateTimeField(allow_null=True)
    reply_due_at = serializers.DateTimeField(allow_null=True)
    queue = QueuePositionSerializer(allow_null=True)
    rating = RatingSerializer(allow_null=True)
    requirements = RequirementSerializer(many=True)
    ladder_step = serializers.IntegerField(
        min_value=0, help_text="Ladder steps passed in its team (0 before any)."
    )
    next_step_at = serializers.DateTimeField(
        allow_null=True, help_text="When the team's next ladder step is due (queued only)."
    )

    def to_representation(self, conversation):
        return conversation_payload(conversation)


class InboundAnswerSerializer(ConversationSerializer):
    """The conversation, plus what the channel tells the customer: whether its team is open
    now and, when it is closed, when it opens next (null when open or with no team)."""

    team_open = serializers.BooleanField()
    team_opens_at = serializers.DateTimeField(allow_null=True)


class QueueAnswerSerializer(Serializer):
    """What a bot tells a customer who asks where they stand."""

    status = serializers.ChoiceField(choices=Status.choices)
    position = serializers.IntegerField(allow_null=True)
    estimated_wait_seconds = serializers.IntegerField(allow_null=True)
    team_open = serializers.BooleanField()
    team_opens_at = serializers.DateTimeField(allow_null=True)
    reserved_until = serializers.DateTimeField(allow_null=True)


class ConversationFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    team = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    assignee = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    contact = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    preferred_agent = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    open = serializers.BooleanField(
        required=False, default=None, allow_null=True,
        help_text="true: only conversations that are not closed; false: only closed ones.",
    )
    q = serializers.CharField(
        required=False, max_length=MAX_TEXT_LENGTH,
        help_text=("Search: the contact's name or external id contains this text."),
    )
    ordering = serializers.ChoiceField(
        choices=ListOrder.choices, required=False, default=ListOrder.ACTIVITY,
        help_text=(
            "activity (default): newest activity first. queue: the order distribution uses "
            "(oldest in the queue first), with the caller's starred conversations first."
        ),
    )
    after = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID,
        help_text=(
            "The id of the last row you have: only the rows after it in this ordering (load "
            "more without skipping anyone when rows leave the list meanwhile)."
        ),
    )


class MessagePageSerializer(serializers.Serializer):
    limit = serializers.IntegerField(
        required=False, min_value=1, max_value=MESSAGES_MAX_LIMIT,
        default=MESSAGES_DEFAULT_LIMIT,
        help_text=("How many of the newest messages (default 100, at most 200)."),
    )
    before = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID,
        help_text=("A message id: only the messages before it."),
    )


class ActorSerializer(Serializer):
    kind = serializers.ChoiceField(choices=ActorKind.choices)
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()


class PlacementSerializer(Serializer):
    status = serializers.ChoiceField(choices=Status.choices)
    team = serializers.IntegerField(allow_null=True)
    assignee = serializers.IntegerField(allow_null=True)


class EventSerializer(Serializer):
    """One step of a conversation's history: ``{id, at, kind, actor, from, to, reason}``.
    ``from`` is null on the event that created the conversation."""

    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    kind = serializers.ChoiceField(choices=EventKind.choices)
    actor = ActorSerializer()
    reason = serializers.CharField()

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = PlacementSerializer(allow_null=True)
        fields["to"] = PlacementSerializer()
        return fields

    def to_representation(self, event):
        if event.actor_id:
            actor = {"kind": event.actor_kind, "id": event.actor_id,
                     "name": event.actor.display_name}
        elif event.actor_integration_id:
            actor = {"kind": event.actor_kind, "id": event.actor_integration_id,
                     "name": event.actor_integration.display_name}
        else:
            actor = {"kind": event.actor_kind, "id": None,
                     "name": str(ActorKind(event.actor_kind).label)
                     if event.actor_kind in ActorKind.values else event.actor_kind}
        return {
            "id": event.pk,
            "at": self.fields["at"].to_representation(event.at),
            "kind": event.kind,
            "actor": actor,
            "from": (
                {"status": event.from_status, "team": event.from_team_id,
                 "assignee": event.from_assignee_id}
                if event.from_status
                else None
            ),
            "to": {"status": event.to_status, "team": event.to_team_id,
                   "assignee": event.to_assignee_id},
            "reason": event.reason,
        }


class HistoryBoundsSerializer(serializers.Serializer):
    limit = serializers.IntegerField(
        required=False, min_value=1, help_text="At most this many events (default 100, at "
        "most 200; more is capped): the newest."
    )
    before = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID,
        help_text="Only the events before the one with this id.",
    )


class ReplySerializer(Serializer):
    body = BodyField()


class InboundContactSerializer(Serializer):
    external_id = serializers.CharField(max_length=MAX_TEXT_LENGTH)
    name = serializers.CharField(max_length=MAX_TEXT_LENGTH, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=MAX_TEXT_LENGTH, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=MAX_TEXT_LENGTH, required=False, allow_blank=True)
    organization = IdRelatedField(
        queryset=Organization.objects.all(), required=False, allow_null=True
    )


class InboundSerializer(Serializer):
    """A contact's message from a channel."""

    contact = InboundContactSerializer()
    body = BodyField()
    team = IdRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    channel = serializers.CharField(max_length=32, required=False, default="webchat")
    message_id = serializers.CharField(
        max_length=MAX_TEXT_LENGTH, required=False, allow_null=True, trim_whitespace=False,
        help_text="The channel's own id of the message: a repeated delivery is ignored.",
    )
    skills = SkillSpecField(
        required=False,
        help_text='Skills a new conversation requires, by name: ["english", {"skill": '
        '"billing", "min_level": 3}] (min_level 1-5, default 1).',
    )


class OrganizationNodeSerializer(Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()


class PreferredAgentSerializer(Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    type = serializers.ChoiceField(choices=RuleType.choices)


class ContactCardSerializer(Serializer):
    """Who the customer is: ``{id, name, email, phone, external_id, channel, organization_path:
    [{id, name, kind}] (root first), preferred_agent: {id, name, type} | null (the rule that
    applies now), conversations: [their other conversations the caller may see, newest
    first, at most 20]}``."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()
    external_id = serializers.CharField()
    channel = serializers.CharField()
    organization_path = OrganizationNodeSerializer(many=True)
    preferred_agent = PreferredAgentSerializer(allow_null=True)
    conversations = ConversationSerializer(many=True)

    def to_representation(self, card):
        contact, rule = card["contact"], card["rule"]
        return {
            "id": contact.pk,
            "name": contact.name,
            "email": contact.email,
            "phone": contact.phone,
            "external_id": contact.external_id,
            "channel": card["conversation"].channel,
            "organization_path": card["path"],
            "preferred_agent": (
                {"id": rule.agent_id, "name": rule.agent.display_name, "type": rule.type}
                if rule is not None
                else None
            ),
            "conversations": [conversation_payload(c) for c in card["others"]],
        }
