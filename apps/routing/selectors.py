"""Reads for routing and for everyone who shows queues: fixed query counts, permissions once."""

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Subquery, Value, When

from apps.accounts.models import Presence, User
from apps.conversations import visibility
from apps.conversations.models import Conversation, ConversationEvent, Message, Status
from apps.organizations.models import Contact, PreferentialRule
from apps.routing.decisions import Candidate
from apps.routing.models import PeriodicRun
from apps.teams.models import Membership, RoutingSettings, Team


def preferential_rule_for(contact: Contact) -> PreferentialRule | None:
    """The active rule on the contact, else on the nearest organization node going up to the
    root: one query over the MPTT ancestors (tree_id, lft <= node.lft, rght >= node.rght)."""
    target = Q(contact_id=contact.pk)
    org = contact.organization
    if org is not None:
        target |= Q(
            organization__tree_id=org.tree_id,
            organization__lft__lte=org.lft,
            organization__rght__gte=org.rght,
        )
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


def default_team() -> Team | None:
    settings = RoutingSettings.objects.select_related("default_team").filter(
        id=RoutingSettings.SINGLETON_ID
    ).first()
    return settings.default_team if settings else None


def online_candidates(team_id: int, *, exclude_agent_id: int | None = None) -> list[Candidate]:
    """The team's online, active members with their load and rotation state (one query)."""
    rows = Membership.objects.filter(
        team_id=team_id, agent__presence=Presence.ONLINE, agent__is_active=True
    )
    if exclude_agent_id:
        rows = rows.exclude(agent_id=exclude_agent_id)
    return [
        Candidate(
            agent_id=agent_id,
            name=name or username,
            capacity=capacity,
            load=load,
            last_assigned_at=last_assigned_at,
        )
        for agent_id, name, username, capacity, load, last_assigned_at in rows.order_by(
            "agent_id"
        ).values_list(
            "agent_id",
            "agent__name",
            "agent__username",
            "agent__capacity",
            "agent__open_count",
            "last_assigned_at",
        )
    ]


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
    """Whether ``user`` may see ``conversation`` (their teams are read only if it matters)."""
    return visibility.may_see(
        user, conversation.placement,
        team_ids=team_ids if team_ids is not None else (lambda: team_ids_of(user)),
    )


def agents_overview() -> QuerySet[User]:
    """Every active person with presence and load, for the supervisor view (one query)."""
    return User.objects.filter(is_active=True).order_by("username")


def messages_of(conversation_id: int) -> QuerySet:
    """A conversation's messages, oldest first, with their authors (one query)."""
    return Message.objects.filter(conversation_id=conversation_id).select_related("author")


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
