"""Reads of conversations for everyone who shows them: fixed query counts, permissions once
(apps.conversations.visibility)."""

from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    Q,
    QuerySet,
    Subquery,
    TextChoices,
    Value,
    When,
)
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User
from apps.conversations import visibility
from apps.conversations.models import Conversation, ConversationEvent, Message, Status
from apps.organizations.selectors import preferential_rule_for
from apps.skills.models import ConversationOverflow
from apps.teams.models import Membership
from apps.teams.selectors import team_ids_of, teams_visible_to


def queue_counts_for(user: User) -> dict:
    """The counts of api.md "Queue counts", in two queries whatever the number of teams."""
    teams = list(
        teams_visible_to(user)
        .annotate(queued=Count("conversations", filter=Q(conversations__status=Status.QUEUED)))
        .order_by("name", "id")
        .values("id", "name", "queued")
    )
    counts = Conversation.objects.filter(
        Q(status=Status.WAITING)
        | Q(status=Status.ASSIGNED, assignee_id=user.pk)
        | Q(status=Status.RESERVED, preferred_agent_id=user.pk)
    ).aggregate(
        waiting=Count("id", filter=Q(status=Status.WAITING)),
        mine=Count("id", filter=Q(status=Status.ASSIGNED)),
        reserved_for_me=Count("id", filter=Q(status=Status.RESERVED)),
    )
    return {
        "waiting": counts["waiting"],
        "teams": teams,
        "mine": counts["mine"],
        "reserved_for_me": counts["reserved_for_me"],
    }


def conversations_visible_to(user) -> QuerySet[Conversation]:
    """Agents see Waiting, their teams' conversations and their own (and those reserved for
    them); supervisors and administrators see all; integrations and strangers none
    (apps.conversations.visibility)."""
    condition = visibility.conversation_filter(
        user, team_ids_query=Membership.objects.filter(agent_id=user.pk).values("team_id")
    )
    qs = Conversation.objects.all()
    return qs if condition is None else qs.filter(condition)


def conversation_list_for(user) -> QuerySet[Conversation]:
    """The visible conversations with everything a list row shows: one query (plus count)."""
    return conversations_visible_to(user).select_related(
        "contact", "team", "assignee", "preferred_agent", "last_message"
    )


def conversation_for_queue(principal, pk: int) -> Conversation | None:
    """The conversation whose place in the queue ``principal`` asks about, if they may see
    it (an integration: one it opened), else None. One query."""
    return conversations_visible_to(principal).select_related("team").filter(pk=pk).first()


def may_see(user, conversation: Conversation, *, team_ids: list[int] | None = None) -> bool:
    """Whether ``user`` may see ``conversation`` (their teams are read only if it matters)."""
    return visibility.may_see(
        user, conversation.placement,
        team_ids=team_ids if team_ids is not None else (lambda: team_ids_of(user)),
    )


def events_of(
    conversation_id: int, *, newest: int | None = None, before: int | None = None
) -> list | QuerySet:
    """A conversation's history, oldest first, with the actors' names (one query; all of it,
    or only the ``newest`` events, before the event ``before`` if given)."""
    events = ConversationEvent.objects.filter(conversation_id=conversation_id).select_related(
        "actor", "actor_integration"
    )
    if before is not None:
        # In history order (at, id), the events before that one (a subquery, same query).
        anchor = ConversationEvent.objects.filter(pk=before, conversation_id=conversation_id)
        events = events.filter(
            Q(at__lt=Subquery(anchor.values("at")))
            | Q(at=Subquery(anchor.values("at")), pk__lt=before)
        )
    if newest is None:
        return events
    return list(reversed(events.order_by("-at", "-id")[:newest]))


# --------------------------------------------------------------------------- lists for the inbox


class ListOrder(TextChoices):
    """How ``conversations/`` lists: the default is newest activity first (api.md)."""

    ACTIVITY = "activity", _("Newest activity first")
    QUEUE = "queue", _("Queue order: the caller's starred first, then oldest first")


def _starred_for(user):
    return Case(
        When(preferred_agent_id=user.pk, then=Value(1)), default=Value(0),
        output_field=IntegerField(),
    )


def _after_in_queue(anchor: dict, user) -> Q:
    """Rows after ``anchor`` in queue order (starred for the caller, queued_at, id)."""
    queued_at, pk = anchor["queued_at"], anchor["pk"]
    if queued_at is None:  # nulls come first
        later = Q(queued_at__isnull=True, pk__gt=pk) | Q(queued_at__isnull=False)
    else:
        later = Q(queued_at__gt=queued_at) | Q(queued_at=queued_at, pk__gt=pk)
    starred = Q(preferred_agent_id=user.pk)
    if anchor["preferred_agent_id"] == user.pk:
        return (starred & later) | ~starred
    return ~starred & later


def _after_in_activity(anchor: dict) -> Q:
    moment, pk = anchor["last_activity_at"], anchor["pk"]
    return Q(last_activity_at__lt=moment) | Q(last_activity_at=moment, pk__lt=pk)


def ordered_list(
    rows: QuerySet[Conversation], user, *, ordering: str = ListOrder.ACTIVITY,
    after: int | None = None,
) -> QuerySet[Conversation]:
    """``rows`` (a visible list) in ``ordering``; with ``after`` (the id of a visible row, as
    a client's last loaded row), only the rows that follow it: a keyset, so rows leaving the
    head of a queue while an agent scrolls never shift the next page past anyone. Reading
    the anchor is one query; None when the anchor is not a visible conversation."""
    if after is not None:
        anchor = (
            conversations_visible_to(user).filter(pk=after)
            .values("pk", "queued_at", "last_activity_at", "preferred_agent_id").first()
        )
        if anchor is None:
            return None
    if ordering == ListOrder.QUEUE:
        rows = rows.annotate(starred_for_caller=_starred_for(user)).order_by(
            "-starred_for_caller", F("queued_at").asc(nulls_first=True), "id"
        )
        return rows.filter(_after_in_queue(anchor, user)) if after is not None else rows
    rows = rows.order_by("-last_activity_at", "-id")
    return rows.filter(_after_in_activity(anchor)) if after is not None else rows


def search_filter(text: str) -> Q:
    """Conversations whose contact's name or external id contains ``text`` (any case)."""
    return Q(contact__name__icontains=text) | Q(contact__external_id__icontains=text)


MESSAGES_DEFAULT_LIMIT = 100


MESSAGES_MAX_LIMIT = 200


def latest_messages(conversation_id: int, *, limit: int = MESSAGES_DEFAULT_LIMIT,
                    before: int | None = None) -> tuple[list[Message], bool]:
    """The newest ``limit`` messages (before the message id ``before``, if given), oldest
    first, with their authors, and whether older ones exist: one query."""
    rows = Message.objects.filter(conversation_id=conversation_id)
    if before is not None:
        rows = rows.filter(pk__lt=before)
    newest = list(rows.select_related("author").order_by("-pk")[: limit + 1])
    more = len(newest) > limit
    return newest[:limit][::-1], more


EARLIER_CONVERSATIONS = 20


def contact_card(user, conversation: Conversation) -> dict:
    """Who the customer of ``conversation`` (visible to ``user``, contact and organization
    selected) is: the organization path from the root, the preferential rule that applies
    now, and their other conversations ``user`` may see, newest first (at most
    ``EARLIER_CONVERSATIONS``). Three queries at most, whatever the tree depth or history."""
    contact = conversation.contact
    organization = contact.organization
    path = (
        list(organization.get_ancestors(include_self=True).values("id", "name", "kind"))
        if organization is not None
        else []
    )
    rule = preferential_rule_for(contact)
    others = list(
        conversation_list_for(user)
        .filter(contact_id=contact.pk)
        .exclude(pk=conversation.pk)
        .order_by("-created_at", "-id")[:EARLIER_CONVERSATIONS]
    )
    return {"contact": contact, "path": path, "rule": rule, "others": others}



def overflow_work_for(user) -> QuerySet[Conversation]:
    """Queued conversations whose team's ladder overflowed to one of ``user``'s teams
    (routing.md 9.4: the list of overflow work), oldest first, with what a row shows."""
    return (
        Conversation.objects.filter(
            status=Status.QUEUED,
            pk__in=ConversationOverflow.objects.filter(
                team_id__in=Membership.objects.filter(agent_id=user.pk).values("team_id")
            ).values("conversation_id"),
        )
        .select_related("contact", "team", "assignee", "preferred_agent", "last_message")
        .order_by("queued_at", "id")
    )


def is_overflow_work_for(user, conversation: Conversation) -> bool:
    """Whether ``conversation`` is in ``user``'s list of overflow work (one query, only for
    a queued conversation): an overflow candidate may claim it."""
    return conversation.status == Status.QUEUED and (
        overflow_work_for(user).filter(pk=conversation.pk).exists()
    )
