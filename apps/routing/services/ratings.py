"""The customer's rating of a conversation: once, after it is closed (reports.md)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import IntegrationClient
from apps.conversations.errors import AlreadyRated, NotYetClosed
from apps.conversations.models import ActorKind, Conversation, EventKind, Status
from apps.conversations.reasons import part
from apps.conversations.selectors import may_see
from apps.core.errors import InvalidInput
from apps.core.limits import MAX_RATING_COMMENT_LENGTH
from apps.routing.errors import ConversationNotFound
from apps.routing.services.history import record_event


def _clean(score, comment) -> tuple[int, str]:
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise InvalidInput(_("The score must be a whole number from 1 to 5."), field="score")
    if comment is None:
        comment = ""
    if not isinstance(comment, str):
        raise InvalidInput(_("The comment must be text."), field="comment")
    if len(comment) > MAX_RATING_COMMENT_LENGTH:
        raise InvalidInput(
            _("The comment is longer than %(max)s characters.")
            % {"max": MAX_RATING_COMMENT_LENGTH},
            field="comment",
        )
    return score, comment.strip()


def rate_conversation(
    *,
    conversation_id: int,
    score: int,
    comment: str = "",
    actor: IntegrationClient | None,
) -> Conversation:
    """Record the customer's rating (``actor``: the integration or web chat relaying it,
    None for the system) and write it into the conversation's history. A conversation that
    is not closed yet, or already rated, is a Conflict; nothing changes."""
    score, comment = _clean(score, comment)
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update().filter(pk=conversation_id).first()
        )
        if conversation is None or (actor is not None and not may_see(actor, conversation)):
            # The integration relays ratings of its own conversations only (the visibility
            # rule): any other is one that does not exist.
            raise ConversationNotFound(_("There is no such conversation, or you cannot see it."))
        if conversation.status != Status.CLOSED:
            raise NotYetClosed(_("A conversation is rated after it is closed."))
        if conversation.rated_at is not None:
            raise AlreadyRated(_("This conversation was rated already."))
        conversation.rating_score = score
        conversation.rating_comment = comment
        conversation.rated_at = timezone.now()
        conversation.save(update_fields=["rating_score", "rating_comment", "rated_at"])
        before = conversation.placement
        record_event(
            conversation, kind=EventKind.RATED, before=before, actor=actor,
            actor_kind=ActorKind.CUSTOMER, reason=[part("rated", score=score)],
            data={"score": score},
        )
        return conversation
