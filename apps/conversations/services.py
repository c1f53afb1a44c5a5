"""Intake (a contact's message from a channel) and replies."""

import zlib

from django.db import IntegrityError, transaction
from django.db.models import FilteredRelation, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import IntegrationClient, User
from apps.conversations.errors import AnotherIntegrations
from apps.conversations.events import MessageCreated
from apps.conversations.models import (
    Conversation,
    InboundReceipt,
    Message,
    SenderKind,
    Status,
)
from apps.conversations.selectors import may_see
from apps.core.announce import announce
from apps.core.db import advisory_xact_lock, retry_on_deadlock
from apps.core.errors import InvalidInput
from apps.core.inserts import Ref, Update, write_together
from apps.core.limits import MAX_BODY_LENGTH
from apps.organizations.models import Contact, Organization
from apps.organizations.selectors import with_applicable_rule
from apps.routing import services as routing
from apps.routing.errors import ConversationClosed, ConversationNotFound, NotAllowedToRoute
from apps.teams.models import Team
from apps.webhooks.outbox import record_reply

CONTACT_FIELDS = ("name", "email", "phone")


def _clean_body(body) -> str:
    if not isinstance(body, str) or not body.strip():
        raise InvalidInput(_("The message body must be a non-empty text."), field="body")
    if len(body) > MAX_BODY_LENGTH:
        raise InvalidInput(
            _("The message body is longer than %(max)s characters.") % {"max": MAX_BODY_LENGTH},
            field="body",
        )
    return body


_CONTACTS: dict = {}  # the query below, built once per process (building it costs more
# Python than running it; each call clones it with its own filter)


def _contacts_query():
    query = _CONTACTS.get("query")
    if query is None:
        open_ones = FilteredRelation(
            "conversations", condition=~Q(conversations__status=Status.CLOSED)
        )
        query = _CONTACTS["query"] = (
            with_applicable_rule(Contact.objects.all())
            .annotate(open_conversation=open_ones)
            .select_related(
                "organization", "open_conversation", "open_conversation__team",
                "open_conversation__assignee",
            )
            .order_by()
        )
    return query


def _contact_and_open_conversation(external_id: str) -> Contact | None:
    """The contact with, in one query, its organization, its open conversation
    (``contact.open_conversation``, with team and assignee, or None) and which preferential
    rule applies to it (``applicable_rule_id``)."""
    contact = next(iter(_contacts_query().filter(external_id=external_id)[:1]), None)
    if contact is not None:
        # select_related leaves the attribute unset when the join found no row.
        contact.open_conversation = getattr(contact, "open_conversation", None)
        if contact.open_conversation is not None:
            contact.open_conversation.contact = contact
    return contact


def _contact_for(*, external_id: str, details: dict, organization) -> Contact:
    """The contact, or a new one (unsaved: it is written with its first conversation)."""
    defaults = {k: v for k, v in details.items() if k in CONTACT_FIELDS and v}
    if organization is not None:
        defaults["organization"] = organization
    contact = _contact_and_open_conversation(external_id)
    if contact is None:
        contact = Contact(external_id=external_id, **defaults)
        contact.open_conversation = None
        return contact
    # Fill what the contact did not have yet; never overwrite what an admin set.
    missing = {k: v for k, v in defaults.items() if not getattr(contact, k, None)}
    if missing:
        for key, value in missing.items():
            setattr(contact, key, value)
        contact.save(update_fields=list(missing))
        if "organization" in missing:
            del contact.applicable_rule_id  # the organization's rule: looked up again
    return contact


def _receipt_row(contact: Contact, receipt: tuple[str, str] | None) -> InboundReceipt | None:
    """The channel's receipt of a contact's message, unsaved (None without a message id)."""
    if receipt is None:
        return None
    channel, channel_message_id = receipt
    return InboundReceipt(
        contact_id=contact.pk, channel=channel, channel_message_id=channel_message_id
    )


def _append(
    conversation: Conversation, *, sender_kind: str, author, body: str,
    receipt: InboundReceipt | None = None,
) -> Message:
    """Add a message (and the receipt of a contact's message, so that the same delivery
    made again is recognised): one statement on PostgreSQL with the conversation's update."""
    now = timezone.now()
    message = Message(conversation=conversation, sender_kind=sender_kind, author=author,
                      body=body)
    rows, refs = [message], []
    if receipt is not None:
        rows.append(receipt)
        refs.append(Ref(receipt, "message_id", message))
    changes = {"last_message": message, "last_activity_at": now, "updated_at": now}
    if sender_kind == SenderKind.AGENT and conversation.first_reply_at is None:
        # The first response (docs/reports.md): kept on the row, in the same statement.
        changes |= {"first_reply_at": now, "first_reply_by_id": author.pk,
                    "served_step": conversation.ladder_step}
        conversation.first_reply_at, conversation.first_reply_by = now, author
        conversation.served_step = conversation.ladder_step
    write_together(rows, refs, Update(Conversation, conversation.pk, changes))
    conversation.last_message = message
    conversation.last_activity_at = now
    conversation.updated_at = now
    _announce_message(conversation, message)
    return message


def _announce_message(conversation: Conversation, message: Message) -> None:
    announce(
        MessageCreated(
            conversation_id=conversation.pk,
            message_id=message.pk,
            placement=conversation.placement,
        )
    )


# The unique constraints a concurrent first message of the same contact can hit: the
# contact created twice, or two open conversations. The whole intake runs again and finds
# what the other one wrote.
RACED_CONSTRAINTS = (
    "organizations_contact_external_id_key",
    "organizations_contact.external_id",
    "conv_one_open_per_contact",
    "conversations_conversation.contact_id",
)


def _raced(error: IntegrityError) -> bool:
    cause = error.__cause__
    name = getattr(getattr(cause, "diag", None), "constraint_name", None) or str(error)
    return any(constraint in name for constraint in RACED_CONSTRAINTS)


@retry_on_deadlock
def receive_inbound_message(
    *,
    external_id: str,
    body: str,
    contact_details: dict | None = None,
    organization: Organization | None = None,
    team: Team | None = None,
    channel: str = "webchat",
    actor: IntegrationClient | User | None = None,
    message_id: str | None = None,
    requirements: dict[int, int] | None = None,
) -> tuple[Conversation, Message, bool]:
    """A contact wrote in: find or create the contact, append to their open conversation or
    open and route a new one. Returns (conversation, message, created).

    ``message_id`` is the channel's own id of the message: a delivery of an id already
    received for this contact on this channel changes nothing and returns the conversation
    as it is now, with the message received then (created False). ``requirements``
    ({skill id: minimum level}) apply to a new conversation only."""
    body = _clean_body(body)
    if not isinstance(external_id, str) or not external_id.strip():
        raise InvalidInput(_("The contact needs an external_id."), field="contact")
    receipt = None if message_id is None else (channel, message_id)
    for attempt in range(3):
        try:
            with transaction.atomic():
                received = _receive(
                    external_id=external_id, body=body, details=contact_details or {},
                    organization=organization, team=team, channel=channel, actor=actor,
                    receipt=receipt, requirements=requirements,
                )
                if not received[2]:  # appended (or a repeat): was it its own?
                    _require_its_own(actor, received[0])
                return received
        except IntegrityError as error:
            # A concurrent first message of the same contact won: run again, append to it.
            if attempt == 2 or not _raced(error):
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _receive(*, external_id, body, details, organization, team, channel, actor, receipt,
             requirements=None):
    if receipt is not None:
        # Concurrent deliveries of one message wait for each other here, so the second
        # finds the first's receipt (the unique constraint is the backstop).
        advisory_xact_lock(_delivery_key(external_id, *receipt))
        repeated = _already_received(external_id, *receipt)
        if repeated is not None:
            return repeated
    contact = _contact_for(external_id=external_id, details=details, organization=organization)
    conversation = contact.open_conversation
    if conversation is not None:
        message = _append(
            conversation, sender_kind=SenderKind.CONTACT, author=None, body=body,
            receipt=_receipt_row(contact, receipt),
        )
        return conversation, message, False
    message = Message(sender_kind=SenderKind.CONTACT, author=None, body=body)
    conversation = routing.open_conversation(
        contact=contact, channel=channel, team=team, actor=actor, message=message,
        receipt=_receipt_row(contact, receipt), requirements=requirements,
    )
    _announce_message(conversation, message)
    return conversation, message, True


def _require_its_own(actor, conversation: Conversation) -> None:
    """An integration writes only into its own conversations (the visibility rule): a
    contact whose open conversation came in some other way is refused, and the transaction
    (with anything appended) rolls back; nothing about that conversation is answered."""
    if isinstance(actor, IntegrationClient) and not may_see(actor, conversation):
        raise AnotherIntegrations(
            _("This contact has an open conversation that came in through another channel "
              "integration: it cannot be written to from here until it is closed."),
            field="contact",
        )


def _delivery_key(external_id: str, channel: str, message_id: str) -> int:
    return zlib.crc32(f"{external_id}\x00{channel}\x00{message_id}".encode()) & 0x7FFFFFFF


def _already_received(
    external_id: str, channel: str, message_id: str
) -> tuple[Conversation, Message, bool] | None:
    receipt = (
        InboundReceipt.objects.filter(
            contact__external_id=external_id, channel=channel, channel_message_id=message_id
        )
        .select_related("message")
        .first()
    )
    if receipt is None:
        return None
    conversation = Conversation.objects.select_related("contact").get(
        pk=receipt.message.conversation_id
    )
    return conversation, receipt.message, False


def post_reply(*, conversation_id: int, author: User, body: str) -> Message:
    """An agent's reply: the assignee or a supervisor, on an open conversation."""
    body = _clean_body(body)
    if not isinstance(author, User):
        raise NotAllowedToRoute(_("Only an agent can reply."))
    with transaction.atomic():
        # Locked: a reply and a no-reply handover of the same conversation take turns.
        conversation = Conversation.objects.select_for_update().filter(pk=conversation_id).first()
        if conversation is None or not may_see(author, conversation):
            raise ConversationNotFound(
                _("There is no conversation %(id)s, or you cannot see it.")
                % {"id": conversation_id}
            )
        if conversation.status == Status.CLOSED:
            raise ConversationClosed(
                _("Conversation %(id)s is closed.") % {"id": conversation.pk}
            )
        is_assignee = (
            conversation.status == Status.ASSIGNED and conversation.assignee_id == author.pk
        )
        if not (is_assignee or author.is_supervisor):
            raise NotAllowedToRoute(_("Take the conversation (ATENDER) before replying."))
        routing.reply_sent(conversation=conversation, author_id=author.pk)
        message = _append(conversation, sender_kind=SenderKind.AGENT, author=author, body=body)
        record_reply(conversation, message)  # the channel's webhook, in this transaction
        return message
