"""Intake (a contact's message from a channel) and replies."""

import zlib

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import IntegrationClient, User
from apps.conversations.events import MessageCreated
from apps.conversations.models import (
    Conversation,
    InboundReceipt,
    Message,
    SenderKind,
    Status,
)
from apps.core.announce import announce
from apps.core.db import advisory_xact_lock, retry_on_deadlock
from apps.core.errors import InvalidInput
from apps.core.limits import MAX_BODY_LENGTH
from apps.organizations.models import Contact, Organization
from apps.routing import selectors
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


def _find_or_create_contact(
    *, external_id: str, details: dict, organization
) -> tuple[Contact, bool]:
    defaults = {k: v for k, v in details.items() if k in CONTACT_FIELDS and v}
    if organization is not None:
        defaults["organization"] = organization
    contact, created = Contact.objects.select_related("organization").get_or_create(
        external_id=external_id, defaults=defaults
    )
    if not created:
        # Fill what the contact did not have yet; never overwrite what an admin set.
        missing = {k: v for k, v in defaults.items() if not getattr(contact, k, None)}
        if missing:
            for key, value in missing.items():
                setattr(contact, key, value)
            contact.save(update_fields=list(missing))
    return contact, created


def _append(
    conversation: Conversation, *, sender_kind: str, author, body: str,
    receipt: tuple[str, str] | None = None,
) -> Message:
    """Add a message; ``receipt`` (channel, the channel's message id) records a contact's
    message so that the same delivery made again is recognised."""
    now = timezone.now()
    message = Message.objects.create(
        conversation=conversation, sender_kind=sender_kind, author=author, body=body
    )
    if receipt is not None:
        channel, channel_message_id = receipt
        InboundReceipt.objects.create(
            contact_id=conversation.contact_id, channel=channel,
            channel_message_id=channel_message_id, message=message,
        )
    Conversation.objects.filter(pk=conversation.pk).update(
        last_message=message, last_activity_at=now, updated_at=now
    )
    conversation.last_message = message
    conversation.last_activity_at = now
    conversation.updated_at = now
    announce(
        MessageCreated(
            conversation_id=conversation.pk,
            message_id=message.pk,
            placement=conversation.placement,
        )
    )
    return message


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
) -> tuple[Conversation, Message, bool]:
    """A contact wrote in: find or create the contact, append to their open conversation or
    open and route a new one. Returns (conversation, message, created).

    ``message_id`` is the channel's own id of the message: a delivery of an id already
    received for this contact on this channel changes nothing and returns the conversation
    as it is now, with the message received then (created False)."""
    body = _clean_body(body)
    if not isinstance(external_id, str) or not external_id.strip():
        raise InvalidInput(_("The contact needs an external_id."), field="contact")
    receipt = None if message_id is None else (channel, message_id)
    with transaction.atomic():
        if receipt is not None:
            # Concurrent deliveries of one message wait for each other here, so the second
            # finds the first's receipt (the unique constraint is the backstop).
            advisory_xact_lock(_delivery_key(external_id, *receipt))
            repeated = _already_received(external_id, *receipt)
            if repeated is not None:
                return repeated
        contact, new_contact = _find_or_create_contact(
            external_id=external_id, details=contact_details or {}, organization=organization
        )
        if new_contact:
            # Nobody else can see this contact before we commit: no open conversation, no race.
            conversation = routing.open_conversation(
                contact=contact, channel=channel, team=team, actor=actor
            )
            message = _append(
                conversation, sender_kind=SenderKind.CONTACT, author=None, body=body,
                receipt=receipt,
            )
            return conversation, message, True
        for _attempt in range(2):
            conversation = (
                Conversation.objects.filter(contact=contact)
                .exclude(status=Status.CLOSED)
                .select_related("contact")
                .first()
            )
            if conversation is not None:
                message = _append(
                    conversation, sender_kind=SenderKind.CONTACT, author=None, body=body,
                    receipt=receipt,
                )
                return conversation, message, False
            try:
                with transaction.atomic():
                    conversation = routing.open_conversation(
                        contact=contact, channel=channel, team=team, actor=actor
                    )
            except IntegrityError:
                # A concurrent message of the same contact opened it first: append to it.
                continue
            message = _append(
                conversation, sender_kind=SenderKind.CONTACT, author=None, body=body,
                receipt=receipt,
            )
            return conversation, message, True
    raise AssertionError("the open conversation vanished twice")  # pragma: no cover


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
        if conversation is None or not selectors.may_see(author, conversation):
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
