"""Reads for routing and for everyone who shows queues: fixed query counts, permissions once."""

from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextChoices,
    Value,
    When,
)
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import Presence, User
from apps.conversations import visibility
from apps.conversations.models import Conversation, ConversationEvent, Message, Status
from apps.organizations.models import Contact, PreferentialRule
from apps.routing.decisions import Candidate
from apps.routing.models import PeriodicRun
from apps.skills import selectors as skill_selectors
from apps.teams import config_cache
from apps.teams.models import Membership, Team


def preferential_rule_for(contact: Contact) -> PreferentialRule | None:
    """The active rule on the contact, else on the nearest organization node going up to the
    root: one query over the MPTT ancestors (tree_id, lft <= node.lft, rght >= node.rght).
    A contact read with ``with_applicable_rule`` already knows which rule it is: no query
    when there is none. An unsaved contact can only inherit its organization's."""
    if hasattr(contact, "applicable_rule_id"):
        if contact.applicable_rule_id is None:
            return None
        return (
            PreferentialRule.objects.filter(pk=contact.applicable_rule_id)
            .select_related("agent", "organization", "contact")
            .first()
        )
    org = contact.organization
    if contact.pk is None and org is None:
        return None
    target = Q(contact_id=contact.pk) if contact.pk is not None else Q()
    if org is not None:
        node = Q(
            organization__tree_id=org.tree_id,
            organization__lft__lte=org.lft,
            organization__rght__gte=org.rght,
        )
        target = target | node if contact.pk is not None else node
    return (
        PreferentialRule.objects.filter(target, active=True, agent__is_active=True)
        .select_related("agent", "organization", "contact")
        .annotate(
            on_contact=Case(
                When(contact_id=contact.pk, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        .order_by("-on_contact", "-organization__level")
        .first()
    )


def with_applicable_rule(contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    """Contacts annotated with ``applicable_rule_id``: ``preferential_rule_for`` as a
    subquery of the query that reads them (same rule, same order)."""
    rules = (
        PreferentialRule.objects.filter(
            Q(contact_id=OuterRef("pk"))
            | Q(
                organization__tree_id=OuterRef("organization__tree_id"),
                organization__lft__lte=OuterRef("organization__lft"),
                organization__rght__gte=OuterRef("organization__rght"),
            ),
            active=True,
            agent__is_active=True,
        )
        .annotate(
            # A rule has exactly one target: one with a contact here is on this contact.
            on_contact=Case(
                When(contact__isnull=False, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        .order_by("-on_contact", "-organization__level")
        .values("pk")[:1]
    )
    return contacts.annotate(applicable_rule_id=Subquery(rules))


def default_team() -> Team | None:
    """The routing settings' default team: read once per process until it changes."""
    return config_cache.default_team()


def online_candidates(
    team_id: int, *, exclude_agent_id: int | None = None, extra_team_ids=(),
    with_skills: bool = False,
) -> list[Candidate]:
    """The team's online, active members (and those of ``extra_team_ids``: the teams a
    conversation overflowed to) with their load and rotation state in ``team_id``: one
    query, and one more for their skills when asked."""
    rows = Membership.objects.filter(
        team_id__in=[team_id, *extra_team_ids], agent__presence=Presence.ONLINE,
        agent__is_active=True,
    )
    if exclude_agent_id:
        rows = rows.exclude(agent_id=exclude_agent_id)
    found: dict[int, Candidate] = {}
    for agent_id, member_of, name, username, capacity, load, last_assigned_at in rows.order_by(
        "agent_id"
    ).values_list(
        "agent_id", "team_id", "agent__name", "agent__username", "agent__capacity",
        "agent__open_count", "last_assigned_at",
    ):
        known = found.get(agent_id)
        if known is None or member_of == team_id:  # the rotation of the team itself
            found[agent_id] = Candidate(
                agent_id=agent_id, name=name or username, capacity=capacity, load=load,
                last_assigned_at=last_assigned_at if member_of == team_id else None,
            )
    candidates = list(found.values())
    if with_skills and candidates:
        levels = skill_selectors.agents_skills(found)
        for c in candidates:
            c.skills = levels.get(c.agent_id, {})
    return candidates


def team_ids_of(user) -> list[int]:
    return list(Membership.objects.filter(agent_id=user.pk).values_list("team_id", flat=True))


def teams_visible_to(user) -> QuerySet[Team]:
    if getattr(user, "is_supervisor", False):
        return Team.objects.all()
    return Team.objects.filter(memberships__agent_id=user.pk)


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
    """Whether ``user`` may see ``conversation`` (their teams are read only if it matters):
    by the visibility rule, or as a candidate for overflow work (a queued conversation whose
    ladder overflowed to one of their teams: one more query, only then)."""
    if visibility.may_see(
        user, conversation.placement,
        team_ids=team_ids if team_ids is not None else (lambda: team_ids_of(user)),
    ):
        return True
    return (
        conversation.status == Status.QUEUED
        and getattr(user, "is_authenticated", False)
        and overflow_work_for(user).filter(pk=conversation.pk).exists()
    )


def overflow_work_for(user) -> QuerySet[Conversation]:
    """Queued conversations whose team's ladder overflowed to one of ``user``'s teams
    (routing.md 9.4: the list of overflow work), oldest first, with what a row shows."""
    from apps.skills.models import ConversationOverflow

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


def agents_overview() -> QuerySet[User]:
    """Every active person with presence and load, for the supervisor view (one query)."""
    return User.objects.filter(is_active=True).order_by("username")


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


def last_sweep_at():
    """When the periodic sweep last finished (None: never), one query."""
    return (
        PeriodicRun.objects.filter(name=PeriodicRun.SWEEP)
        .values_list("finished_at", flat=True)
        .first()
    )


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
