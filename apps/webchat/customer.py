"""What a web chat's customer may do and see: write (which opens and routes a conversation
through the same intake as ``inbound``), rate a closed conversation, and read their own
conversation, shown only as it is meant for them (the agent's first name, never ids,
emails, surnames, internal history or reasons)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from apps.conversations import services as conversations
from apps.conversations.models import Conversation, Message, SenderKind, Status
from apps.conversations.waits import queue_of, team_open_fields
from apps.core.errors import InvalidInput, NotFound
from apps.core.time import iso
from apps.routing.services.ratings import rate_conversation
from apps.webchat import queues
from apps.webchat.errors import UnknownChat
from apps.webchat.identity import Customer
from apps.webchat.models import OfferedTeam, WebChat
from apps.webchat.strings import strings

HISTORY_LIMIT = 200  # the messages a (re)connecting customer is sent at once
KEY_LENGTH = 64


def chat_for_key(key) -> WebChat:
    """The active web chat of a public key, with its teams offered, or UnknownChat."""
    webchat = None
    if isinstance(key, str) and 0 < len(key) <= KEY_LENGTH:
        webchat = (
            WebChat.objects.filter(public_key=key, active=True)
            .prefetch_related("teams_offered__team", "teams_offered__required_skills")
            .first()
        )
    if webchat is None:
        raise UnknownChat(_("There is no active web chat with that key."))
    return webchat


def first_name(user) -> str:
    name = (user.display_name or "").strip()
    return name.split()[0] if name else ""


def offered(webchat: WebChat) -> list[OfferedTeam]:
    return list(webchat.teams_offered.all())


def config_payload(webchat: WebChat) -> dict:
    """What the window needs before the customer writes: its look, its language and the
    choices offered, each with whether its team is open now and when it opens."""
    return {
        "name": webchat.name,
        "greeting": webchat.greeting,
        "color": webchat.color,
        "language": webchat.language or None,
        "max_message_chars": settings.WEBCHAT_MAX_MESSAGE_CHARS,
        "strings": strings(),
        "teams": [
            {"choice": i, "label": choice.label, **team_open_fields(choice.team)}
            for i, choice in enumerate(offered(webchat))
        ],
    }


def latest_conversation(customer: Customer) -> Conversation | None:
    return (
        Conversation.objects.filter(contact__external_id=customer.external_id)
        .select_related("team", "assignee")
        .order_by("-created_at", "-id")
        .first()
    )


def message_view(message: Message) -> dict:
    """A message as the customer sees it: who wrote it ("me" or the agent's first name)."""
    mine = message.sender_kind == SenderKind.CONTACT
    return {
        "id": message.pk,
        "from": "me" if mine else "agent",
        "agent": None if mine or message.author is None else first_name(message.author),
        "body": message.body,
        "at": iso(message.created_at),
    }


def messages_after(conversation_id: int, after_id: int = 0) -> list[dict]:
    rows = (
        Message.objects.filter(conversation_id=conversation_id, pk__gt=after_id)
        .select_related("author")
        .order_by("-id")[:HISTORY_LIMIT]
    )
    return [message_view(m) for m in reversed(rows)]


def status_view(conversation: Conversation | None, *, since: float | None = None) -> dict:
    """Where the customer's conversation stands: its status, position and estimated wait
    while it waits, whether its team is open (and when it opens), who is answering, and
    whether it may be rated. A queued conversation's position comes from its team's queue
    snapshot read at or after ``since`` (apps.webchat.queues)."""
    if conversation is None:
        return {"conversation": None, "status": "none", "team": None, "position": None,
                "estimated_wait_seconds": None, "team_open": True, "team_opens_at": None,
                "agent": None, "can_rate": False, "rating": None}
    if conversation.status == Status.QUEUED:
        queue = queues.queue_of(conversation.team_id, conversation.pk, since=since)
    else:
        queue = queue_of(conversation)
    queue = queue or {}
    waiting = conversation.status != Status.CLOSED
    return {
        "conversation": conversation.pk,
        "status": conversation.status,
        "team": conversation.team_id,
        "position": queue.get("position"),
        "estimated_wait_seconds": queue.get("estimated_wait_seconds"),
        **(team_open_fields(conversation.team) if waiting else team_open_fields(None)),
        "agent": (
            first_name(conversation.assignee)
            if conversation.status == Status.ASSIGNED and conversation.assignee else None
        ),
        "can_rate": conversation.status == Status.CLOSED and conversation.rated_at is None,
        "rating": (
            None if conversation.rated_at is None
            else {"score": conversation.rating_score, "comment": conversation.rating_comment}
        ),
    }


def current_status(customer: Customer, *, since: float | None = None) -> dict:
    return status_view(latest_conversation(customer), since=since)


def requeued(view: dict, *, since: float) -> dict:
    """The same view with the position and estimate of its team's queue now (the queue
    moved; nothing else about this conversation did): no query of its own."""
    queue = queues.queue_of(view["team"], view["conversation"], since=since) or {}
    return {**view, "position": queue.get("position"),
            "estimated_wait_seconds": queue.get("estimated_wait_seconds")}


def full_view(customer: Customer) -> dict:
    conversation = latest_conversation(customer)
    return {
        **status_view(conversation),
        "messages": [] if conversation is None else messages_after(conversation.pk),
    }


def _contact_details(customer: Customer, name, email) -> dict:
    details = {"name": customer.name, "email": customer.email}
    if not customer.identified:  # an anonymous visitor may give a name and an email
        if isinstance(name, str) and name.strip():
            details["name"] = name.strip()[:255]
        if isinstance(email, str) and email.strip():
            details["email"] = email.strip()[:255]
    if details.get("email"):
        try:
            validate_email(details["email"])
        except ValidationError:
            raise InvalidInput(_("That is not an email address."), field="email") from None
    return {k: v for k, v in details.items() if v}


def send_message(
    *, webchat: WebChat, customer: Customer, body, choice=None, name=None, email=None
) -> tuple[Conversation, Message, bool]:
    """The customer wrote: appended to their open conversation, or a new one opened and
    routed (to the team of the choice they picked, if the chat offers any). Returns
    (conversation, message, created)."""
    choices = offered(webchat)
    team, requirements = None, {}
    if choice is not None:
        if isinstance(choice, bool) or not isinstance(choice, int) or not (
            0 <= choice < len(choices)
        ):
            raise InvalidInput(_("Pick one of the choices offered."), field="choice")
        team = choices[choice].team
        requirements = {r.skill_id: r.min_level for r in choices[choice].required_skills.all()}
    return conversations.receive_inbound_message(
        external_id=customer.external_id, body=body,
        contact_details=_contact_details(customer, name, email), team=team,
        channel="webchat", actor=webchat.integration, requirements=requirements or None,
    )


def rate(*, webchat: WebChat, customer: Customer, conversation_id, score, comment="") -> dict:
    """The customer rates their own closed conversation (once)."""
    conversation = latest_conversation(customer)
    if conversation is None or conversation.pk != conversation_id:
        raise NotFound(_("There is no such conversation."))
    rated = rate_conversation(
        conversation_id=conversation.pk, score=score, comment=comment or "",
        actor=webchat.integration,
    )
    return status_view(rated)
