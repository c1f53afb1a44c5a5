"""Applying a backlog plan (``decisions.plan_backlog``) in a few statements, and what a
backlog run needs to know about overflow: the teams a queue's conversations overflowed to
(their online members are candidates too) and who belongs to which team."""

from collections import defaultdict

from django.db.models import Case, F, IntegerField, Value, When

from apps.accounts.models import User
from apps.conversations.events import Placement
from apps.conversations.models import ActorKind, Conversation, ConversationEvent, EventKind, Status
from apps.conversations.reasons import part
from apps.routing.decisions import Candidate
from apps.routing.services.history import (
    Actor,
    actor_kind_of,
    announce_changes,
    event_row,
    name_of,
)
from apps.routing.services.time_rules import DeadlineKind, expect, reply_due
from apps.skills.models import ConversationOverflow
from apps.teams.models import Membership, Team
from apps.webhooks.outbox import record_history


def overflow_targets(queue) -> set[int]:
    """The teams the conversations of ``queue`` (a queryset) overflowed to (one query)."""
    return set(
        ConversationOverflow.objects.filter(conversation__in=queue.values("pk"))
        .values_list("team_id", flat=True)
        .distinct()
    )


def merge_candidates(members: list[Candidate], others: list[Candidate]) -> list[Candidate]:
    return sorted([*members, *others], key=lambda c: c.agent_id)


def team_members_among(
    team_id: int, overflowed: set[int], candidates: list[Candidate]
) -> dict[int, set[int]]:
    """Which candidates belong to ``team_id`` and to each team in ``overflowed``."""
    found: dict[int, set[int]] = defaultdict(set)
    if not overflowed:
        found[team_id] = {c.agent_id for c in candidates}
        return found
    for member_of, agent_id in Membership.objects.filter(
        team_id__in=[team_id, *overflowed], agent_id__in=[c.agent_id for c in candidates]
    ).values_list("team_id", "agent_id"):
        found[member_of].add(agent_id)
    return found


def apply_backlog_plan(
    plan, *, team: Team, actor: Actor, now, preferred: dict, limits: dict[int, int]
) -> None:
    """Apply a plan in a few statements. ``limits``: each agent's limit that the plan stayed
    within (by capacity; none by rotation), recorded on the conversations it gives them."""
    if not plan:
        return
    by_agent: dict[int, list[int]] = defaultdict(list)
    for item in plan:
        by_agent[item.agent_id].append(item.conversation_id)
    reply_due_at = reply_due(team, now)
    # One statement for the whole plan (the rows are locked already): each agent's
    # conversations are one branch.
    Conversation.objects.filter(
        pk__in=[item.conversation_id for item in plan], status=Status.QUEUED
    ).update(
        status=Status.ASSIGNED,
        assignee_id=Case(
            *[When(pk__in=ids, then=Value(agent_id)) for agent_id, ids in by_agent.items()],
            output_field=IntegerField(),
        ),
        assigned_limit=Case(
            *[When(pk__in=by_agent[a], then=Value(limit)) for a, limit in limits.items()
              if a in by_agent],
            default=None, output_field=IntegerField(),
        ),
        auto_assigned=True, assigned_at=now, updated_at=now, reply_due_at=reply_due_at,
        handed_over_from=None, next_step_at=None,
    )
    expect(DeadlineKind.REPLY, reply_due_at)
    agent_ids = sorted(by_agent)
    User.objects.filter(pk__in=agent_ids).update(
        open_count=F("open_count")
        + Case(
            *[When(pk=a, then=Value(len(by_agent[a]))) for a in agent_ids],
            default=Value(0),
            output_field=IntegerField(),
        )
    )
    Membership.objects.filter(team_id=team.pk, agent_id__in=agent_ids).update(last_assigned_at=now)
    on_demand = [part("distributed_on_demand", actor=name_of(actor))] if actor else []
    kind_of_actor = actor_kind_of(actor, ActorKind.DISTRIBUTION)
    events, changes = [], []
    for item in plan:
        star = preferred.get(item.conversation_id)
        before = Placement(Status.QUEUED, team.pk, None, star)
        after = Placement(Status.ASSIGNED, team.pk, item.agent_id, star)
        events.append(
            event_row(
                item.conversation_id, kind=EventKind.ASSIGNED, before=before, after=after,
                actor=actor, actor_kind=kind_of_actor, reason=[item.reason, *on_demand],
            )
        )
        changes.append((item.conversation_id, before, after))
    ConversationEvent.objects.bulk_create(events, batch_size=1000)
    record_history(events)
    announce_changes(changes)


