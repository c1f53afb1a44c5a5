"""The invariants of routing.md section 7, checked against the database.

One checker for the tests and for ``manage.py check_invariants``. It returns the
violations as sentences; an empty list means everything holds.
"""

from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, F, Q
from django.utils import timezone

from apps.accounts.models import Presence, User
from apps.conversations.models import Conversation, ConversationEvent, EventKind, Status
from apps.conversations.selectors import queue_counts_for
from apps.skills import selectors as skill_selectors
from apps.teams.models import DistributionMode, Membership, Team

ASSIGNING_EVENTS = (EventKind.ASSIGNED, EventKind.CLAIMED, EventKind.TRANSFERRED)


def check_invariants(
    *, check_counts_for: int = 200, deadline_grace_seconds: float | None = None
) -> list[str]:
    """``deadline_grace_seconds``: how late a time rule may be acted on before it counts
    as missed (default: three sweep periods)."""
    if deadline_grace_seconds is None:
        deadline_grace_seconds = 3 * settings.DISTRIBUTION_SWEEP_SECONDS
    problems: list[str] = []
    problems += _one_place_each()
    problems += _loads_match_and_within_limits()
    problems += _no_double_assignment_in_history()
    problems += _history_chains()
    problems += _capacity_teams_drained()
    problems += _counts_match(limit=check_counts_for)
    problems += _deadlines_kept(grace_seconds=deadline_grace_seconds)
    return problems


def _one_place_each() -> list[str]:
    """Invariant 3 (and 1): every open conversation is in exactly one place."""
    problems = []
    misplaced = Conversation.objects.exclude(
        Q(status=Status.WAITING, team__isnull=True, assignee__isnull=True)
        | Q(status=Status.QUEUED, team__isnull=False, assignee__isnull=True)
        | Q(status=Status.RESERVED, preferred_agent__isnull=False, assignee__isnull=True)
        | Q(status=Status.ASSIGNED, assignee__isnull=False)
        | Q(status=Status.CLOSED, closed_at__isnull=False)
    ).values_list("pk", flat=True)
    problems += [f"conversation {pk} is in no consistent place" for pk in misplaced]
    doubled = (
        Conversation.objects.exclude(status=Status.CLOSED)
        .values("contact_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    problems += [
        f"contact {row['contact_id']} has {row['n']} open conversations" for row in doubled
    ]
    return problems


def _loads_match_and_within_limits() -> list[str]:
    """Invariant 2: automatic distribution never exceeded a limit; load counters are true.

    The limit is the one recorded when the conversation was assigned (``assigned_limit``):
    an administrator may lower a limit below an agent's load afterwards. The k-th oldest of
    an agent's open limit-bound automatic assignments was made while the k-1 before it were
    open, so its limit then must have been at least k."""
    problems = []
    agents = User.objects.annotate(
        assigned=Count(
            "assigned_conversations",
            filter=Q(assigned_conversations__status=Status.ASSIGNED),
        ),
    ).values_list("username", "open_count", "assigned")
    for username, open_count, assigned in agents:
        if open_count != assigned:
            problems.append(
                f"{username}'s load counter says {open_count} but {assigned} are assigned"
            )
    bound = (
        Conversation.objects.filter(
            status=Status.ASSIGNED, auto_assigned=True, assigned_limit__isnull=False
        )
        .order_by("assignee_id", "assigned_at", "id")
        .values_list("assignee_id", "assignee__username", "assigned_limit")
    )
    rank, previous = 0, None
    for agent_id, username, limit in bound:
        rank = rank + 1 if agent_id == previous else 1
        previous = agent_id
        if rank > limit:
            problems.append(
                f"{username} got {rank} conversations automatically with a limit of {limit}"
            )
    return problems


def _no_double_assignment_in_history() -> list[str]:
    """Invariant 1 over time: an assignment always starts from an unassigned state, or hands
    over from the agent who had it (transfer, supervisor assign): never two winners."""
    bad = ConversationEvent.objects.filter(
        kind=EventKind.CLAIMED, from_status=Status.ASSIGNED
    ).values_list("conversation_id", flat=True)
    return [f"conversation {pk} was claimed while already assigned" for pk in bad]


def _capacity_teams_drained() -> list[str]:
    """Invariant 4 as routing.md 9.7 amends it: a conversation in a ``capacity`` team never
    waits while an online candidate eligible at its current step has free capacity (a
    member of its team, or of a team its ladder overflowed to, meeting every requirement
    still in force). A conversation taken back from an agent for not replying may wait
    while only that agent could take it (routing.md 8.2)."""
    problems = []
    queued = list(
        Conversation.objects.filter(
            status=Status.QUEUED, team__distribution_mode=DistributionMode.CAPACITY
        ).values_list("pk", "team_id", "team__name", "handed_over_from_id")
    )
    if not queued:
        return problems
    ids = [pk for pk, *_rest in queued]
    requirements = skill_selectors.requirements_in_force(ids)
    overflow = skill_selectors.overflow_teams_of(ids)
    idle: dict[int, set[int]] = {}
    names: dict[int, str] = {}
    for team_id, agent_id, username in Membership.objects.filter(
        agent__presence=Presence.ONLINE, agent__is_active=True,
        agent__open_count__lt=F("agent__capacity"),
    ).values_list("team_id", "agent_id", "agent__username"):
        idle.setdefault(team_id, set()).add(agent_id)
        names[agent_id] = username
    levels = skill_selectors.agents_skills(names)
    stuck: dict[tuple[int, str], set[str]] = {}
    for pk, team_id, team_name, passed_over in queued:
        pool = set(idle.get(team_id, ())).union(*(idle.get(t, ()) for t in overflow[pk]))
        needs = requirements.get(pk, {})
        able = {
            names[a] for a in pool
            if a != passed_over and all(levels[a].get(s, 0) >= m for s, m in needs.items())
        }
        if able:
            stuck.setdefault((team_id, team_name), set()).update(able)
    counts = Counter(team_id for _pk, team_id, _name, _passed in queued)
    for (team_id, team_name), able in sorted(stuck.items()):
        problems.append(
            f"team {team_name} has {counts[team_id]} queued while {', '.join(sorted(able))} "
            f"have free capacity"
        )
    return problems


def _deadlines_kept(*, grace_seconds: float) -> list[str]:
    """Section 8: no time rule's deadline is left long past due (a worker acts on it within
    seconds, the sweep within its period)."""
    cutoff = timezone.now() - timedelta(seconds=grace_seconds)
    problems = [
        f"conversation {pk}'s reservation ended at {at.isoformat()} and it is still reserved"
        for pk, at in Conversation.objects.filter(
            status=Status.RESERVED, reserved_until__lt=cutoff
        ).values_list("pk", "reserved_until")
    ]
    problems += [
        f"conversation {pk} had a reply due at {at.isoformat()} and was not handed over"
        for pk, at in Conversation.objects.filter(
            status=Status.ASSIGNED, reply_due_at__lt=cutoff
        ).values_list("pk", "reply_due_at")
    ]
    for team_id, name, seconds in Team.objects.filter(
        offline_requeue_seconds__isnull=False
    ).values_list("pk", "name", "offline_requeue_seconds"):
        stuck = Conversation.objects.filter(
            team_id=team_id, status=Status.ASSIGNED, assignee__presence=Presence.OFFLINE,
            assignee__offline_since__lt=cutoff - timedelta(seconds=seconds),
        ).values_list("pk", flat=True)
        problems += [
            f"conversation {pk} stays with an agent offline longer than team {name} allows"
            for pk in stuck
        ]
    return problems


def _counts_match(*, limit: int) -> list[str]:
    """Invariant 5: the counts the selectors give equal a plain recount."""
    problems = []
    open_rows = list(
        Conversation.objects.exclude(status=Status.CLOSED).values_list(
            "status", "team_id", "assignee_id", "preferred_agent_id"
        )
    )
    memberships: dict[int, set[int]] = {}
    for agent_id, team_id in Membership.objects.values_list("agent_id", "team_id"):
        memberships.setdefault(agent_id, set()).add(team_id)
    waiting = sum(1 for s, *_ in open_rows if s == Status.WAITING)
    for user in User.objects.filter(is_active=True).order_by("pk")[:limit]:
        counts = queue_counts_for(user)
        expected_mine = sum(
            1 for s, _t, a, _p in open_rows if s == Status.ASSIGNED and a == user.pk
        )
        expected_reserved = sum(
            1 for s, _t, _a, p in open_rows if s == Status.RESERVED and p == user.pk
        )
        if (counts["waiting"], counts["mine"], counts["reserved_for_me"]) != (
            waiting, expected_mine, expected_reserved,
        ):
            problems.append(f"counts shown to {user.username} disagree with the database")
        for team in counts["teams"]:
            expected = sum(1 for s, t, *_ in open_rows if s == Status.QUEUED and t == team["id"])
            if team["queued"] != expected:
                problems.append(
                    f"{user.username} sees {team['queued']} queued in {team['name']}, "
                    f"the database has {expected}"
                )
    return problems



def _history_chains() -> list[str]:
    """Nothing lost, nothing double-assigned over time: every event starts where the
    previous one of its conversation ended, and the last one is where it stands now."""
    problems = []
    current = {
        pk: (status, team_id, assignee_id)
        for pk, status, team_id, assignee_id in Conversation.objects.values_list(
            "pk", "status", "team_id", "assignee_id"
        )
    }
    previous: dict[int, tuple] = {}
    events = ConversationEvent.objects.order_by("conversation_id", "at", "id").values_list(
        "conversation_id", "from_status", "from_team_id", "from_assignee_id",
        "to_status", "to_team_id", "to_assignee_id",
    )
    for pk, f_status, f_team, f_assignee, t_status, t_team, t_assignee in events.iterator(
        chunk_size=5000
    ):
        before = previous.get(pk)
        if before is None:
            if f_status:
                problems.append(f"conversation {pk}'s history starts in the middle")
        elif (f_status, f_team) != before[:2] or (
            f_status == Status.ASSIGNED and f_assignee != before[2]
        ):
            problems.append(f"conversation {pk}'s history skips a change (lost update)")
        previous[pk] = (t_status, t_team, t_assignee)
    for pk, last in previous.items():
        now = current.get(pk)
        if now and (now[:2] != last[:2] or (now[0] == Status.ASSIGNED and now[2] != last[2])):
            problems.append(f"conversation {pk} stands where its history does not say")
    missing = set(current) - set(previous)
    problems += [f"conversation {pk} has no history" for pk in sorted(missing)]
    return problems
