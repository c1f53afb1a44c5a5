"""Back into the team: what every time rule does once its deadline passes.

A reservation that ended, an assignment without a reply and the conversations of an agent
who stayed offline all go back to their team's queue (or to Waiting, a reservation without
a team) keeping their place in it (the time they entered the team: they have waited
longest), with one history event each; then the team distributes them as its mode says,
exactly as it would have at arrival: a ``capacity`` team runs its backlog (oldest first,
within free capacity), a ``sequential`` team gives them out by rotation, a ``manual`` team
leaves them for a claim. A conversation taken back from an agent for not replying never
goes back to that agent automatically (``handed_over_from``).

Lock order (with the callers' conversation rows held, taken with SKIP LOCKED): the team's
advisory lock, then the agents they leave, then the team's members, each in id order.
"""

from collections import Counter
from collections.abc import Callable

from django.db.models import Case, F, IntegerField, Value, When
from django.utils import timezone

from apps.accounts.models import User
from apps.conversations.events import Placement
from apps.conversations.models import ActorKind, Conversation, ConversationEvent, Status
from apps.conversations.reasons import Part
from apps.core.db import advisory_xact_lock
from apps.routing.services.backlog import distribute_locked, lock_members
from apps.routing.services.history import Actor, actor_kind_of, announce_changes, event_row
from apps.routing.services.ladder_clock import next_step_expression, step_due
from apps.routing.services.load import distribute_when_available
from apps.routing.services.time_rules import DeadlineKind, expect
from apps.teams.models import DistributionMode, Team

StillDue = Callable[[Conversation, tuple | None], bool]


def return_to_team(
    team: Team | None,
    conversations: list[Conversation],
    *,
    kind: str,
    reasons: dict[int, list[Part]],
    data: dict[int, dict],
    pass_over_holder: bool = False,
    still_due: StillDue | None = None,
    actor: Actor = None,
) -> list[Conversation]:
    """Inside the caller's transaction, which holds the rows of ``conversations`` (all of
    ``team``): put them back and distribute the team. ``pass_over_holder``: automatic
    distribution never gives them back to the agent they are taken from.
    ``still_due(conversation, holder)`` re-checks a conversation once its agent's row
    (``(presence, offline_since)``) is locked; those that fail it are left as they are.
    ``actor``: the person whose decision it was (deactivating the agent), else a time rule.
    Returns the conversations moved."""
    if team is not None:
        advisory_xact_lock(team.pk)
    holder_ids = sorted({c.assignee_id for c in conversations if c.status == Status.ASSIGNED})
    holders = {
        pk: (presence, since)
        for pk, presence, since in User.objects.select_for_update()
        .filter(pk__in=holder_ids)
        .order_by("pk")
        .values_list("pk", "presence", "offline_since")
    } if holder_ids else {}
    if still_due is not None:
        conversations = [c for c in conversations if still_due(c, holders.get(c.assignee_id))]
    if not conversations:
        return []
    now = timezone.now()
    status = Status.QUEUED if team is not None else Status.WAITING
    # One statement for the whole batch: SET reads the row as it was, so the holder it is
    # taken from is copied before the assignee is cleared.
    Conversation.objects.filter(pk__in=[c.pk for c in conversations]).update(
        status=status, assignee=None, auto_assigned=False, assigned_at=None,
        reserved_until=None, reply_due_at=None, updated_at=now,
        handed_over_from=F("assignee") if pass_over_holder else None,
        next_step_at=next_step_expression(team),  # the ladder goes on where it was
    )
    if team is not None:
        expect(DeadlineKind.LADDER, min(
            (due for c in conversations
             if (due := step_due(team, c.ladder_step, c.queued_at)) is not None),
            default=None,
        ))
    freed = Counter(c.assignee_id for c in conversations if c.status == Status.ASSIGNED)
    if freed:  # their rows are locked above: one statement lowers every load
        User.objects.filter(pk__in=sorted(freed)).update(
            open_count=F("open_count") - Case(
                *[When(pk=agent_id, then=Value(n)) for agent_id, n in freed.items()],
                default=Value(0), output_field=IntegerField(),
            )
        )

    events, changes = [], []
    for conversation in conversations:
        before = conversation.placement
        after = Placement(status, before.team_id, None, before.preferred_agent_id)
        events.append(
            event_row(
                conversation.pk, kind=kind, before=before, after=after, actor=actor,
                actor_kind=actor_kind_of(actor, ActorKind.TIME_RULE),
                reason=reasons[conversation.pk],
                data=data.get(conversation.pk),
            )
        )
        changes.append((conversation.pk, before, after))
    ConversationEvent.objects.bulk_create(events)
    announce_changes(changes)

    if team is not None and team.distribution_mode == DistributionMode.CAPACITY:
        distribute_locked(
            team, lock_members(team.pk, with_room_only=True), actor=None, by_capacity=True
        )
    elif team is not None and team.distribution_mode == DistributionMode.SEQUENTIAL:
        distribute_locked(
            team, lock_members(team.pk, with_room_only=False), actor=None, by_capacity=False,
            only_ids=[c.pk for c in conversations],
        )
    for agent_id in sorted(freed):
        distribute_when_available(agent_id)  # their room counts in their other teams too
    return conversations
