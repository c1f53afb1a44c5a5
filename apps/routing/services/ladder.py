"""The ladder (routing.md section 9.4): a team's steps that widen who can serve a
conversation as it waits in the queue, each taken by a worker once its time has come.

``take_due_steps`` is what a woken worker and the periodic sweep run (through
``deadlines.act_on_due(kind="ladder")``): it takes the due queued conversations of one team
at a time (``SKIP LOCKED``, so concurrent runs share the work), passes every step whose
time has come (each recorded in the history with its reason, a step that changes nothing
too), sets the next deadline, and at once tries to distribute them: the team's mode over
the agents eligible at the new step (the members of teams it overflowed to included). A
row another run acted on is no longer due (its ``next_step_at`` moved), so no step is
taken twice.
"""

from django.db import transaction

from apps.conversations.models import ActorKind, Conversation, ConversationEvent, EventKind, Status
from apps.conversations.payloads import iso
from apps.conversations.reasons import Part, part
from apps.core.db import advisory_xact_lock
from apps.routing.decisions import describe_requirements
from apps.routing.services.backlog import distribute_locked, lock_members
from apps.routing.services.deadlines import _each_team_in_batches
from apps.routing.services.history import announce_changes, event_row
from apps.routing.services.ladder_clock import rearm_queued, step_due
from apps.routing.services.time_rules import DeadlineKind, expect
from apps.skills.models import (
    ConversationOverflow,
    ConversationRequirement,
    Skill,
    StepAction,
)
from apps.skills.services import Step, ladder_of, ladder_payload, store_ladder
from apps.teams.history import record_configuration_changes
from apps.teams.models import DistributionMode, Team
from apps.webhooks.outbox import record_history


def take_due_steps(*, now) -> int:
    """Pass the due ladder steps of every queued conversation; returns how many moved on."""
    due = Conversation.objects.filter(
        status=Status.QUEUED, next_step_at__isnull=False, next_step_at__lte=now
    )
    return _each_team_in_batches(due, now, lambda team, rows: _step(team, rows, now=now))


def _step(team: Team, rows: list[Conversation], *, now) -> list[Conversation]:
    """Inside the batch's transaction, which holds ``rows`` (queued in ``team``)."""
    steps = ladder_of(team.pk)
    ids = [c.pk for c in rows]
    requirements: dict[int, list[ConversationRequirement]] = {pk: [] for pk in ids}
    for requirement in ConversationRequirement.objects.filter(conversation_id__in=ids):
        requirements[requirement.conversation_id].append(requirement)
    names = dict(Skill.objects.filter(
        pk__in={r.skill_id for rs in requirements.values() for r in rs}
    ).values_list("pk", "name"))
    overflow_names = dict(Team.objects.filter(
        pk__in={s.team_id for s in steps if s.team_id}
    ).values_list("pk", "name"))
    events, changes, changed_requirements, overflows = [], [], [], []
    moved = []
    for c in rows:
        if c.next_step_at is None or c.next_step_at > now:
            continue  # another run moved it on
        placement = c.placement
        while c.ladder_step < len(steps):
            due = step_due(team, c.ladder_step, c.queued_at)
            if due is None or due > now:
                break
            step = steps[c.ladder_step]
            reason, touched, overflow = _apply(
                step, c.ladder_step + 1, requirements[c.pk], names=names, team=team,
                overflow_name=overflow_names.get(step.team_id, ""),
            )
            changed_requirements += touched
            if overflow is not None:
                overflows.append(ConversationOverflow(conversation_id=c.pk, team_id=overflow))
            c.ladder_step += 1
            events.append(event_row(
                c.pk, kind=EventKind.OVERFLOWED if overflow is not None else EventKind.STEP,
                before=placement, after=placement, actor=None, actor_kind=ActorKind.LADDER,
                reason=[reason],
                data={"step": c.ladder_step, "action": step.action, "deadline": iso(due),
                      "acted_at": iso(now)},
            ))
        c.next_step_at = step_due(team, c.ladder_step, c.queued_at)
        changes.append((c.pk, placement, placement))
        moved.append(c)
    if not moved:
        return []
    ConversationRequirement.objects.bulk_update(changed_requirements, ["in_force", "min_level"])
    ConversationOverflow.objects.bulk_create(overflows, ignore_conflicts=True)
    Conversation.objects.bulk_update(moved, ["ladder_step", "next_step_at"])
    ConversationEvent.objects.bulk_create(events)
    record_history(events)
    announce_changes(changes)
    expect(DeadlineKind.LADDER, min(
        (c.next_step_at for c in moved if c.next_step_at is not None), default=None
    ))
    _distribute(team, [c.pk for c in moved])
    return moved


def _apply(step: Step, number: int, requirements: list[ConversationRequirement], *,
           names: dict[int, str], team: Team, overflow_name: str
           ) -> tuple[Part, list[ConversationRequirement], int | None]:
    """One step on one conversation's requirements (changed in memory). Returns the
    reason, the requirements changed, and the team it overflows to (or None)."""
    in_force = [r for r in requirements if r.in_force]
    before = describe_requirements({r.skill_id: r.min_level for r in in_force}, names)
    unchanged = part("step_unchanged", after=step.after_seconds, step=number,
                     action=step.action)
    if step.action == StepAction.OVERFLOW:
        if step.team_id is None or step.team_id == team.pk:
            return unchanged, [], None
        return part("step_overflow", after=step.after_seconds, team=team.name,
                    overflow=overflow_name), [], step.team_id
    targets = [r for r in in_force if step.all_skills or not step.skills
               or r.skill_id in step.skills]
    if step.action == StepAction.DROP:
        if not targets:
            return unchanged, [], None
        for r in targets:
            r.in_force = False
        dropped = ", ".join(sorted(names.get(r.skill_id, str(r.skill_id)) for r in targets))
        return part("step_drop", after=step.after_seconds, requirements=before,
                    dropped=dropped), targets, None
    lowered = [r for r in targets if r.min_level > 1]
    if not lowered:
        return unchanged, [], None
    for r in lowered:
        r.min_level = max(1, r.min_level - (step.by or 1))
    now_levels = describe_requirements(
        {r.skill_id: r.min_level for r in requirements if r.in_force}, names
    )
    return part("step_lower", after=step.after_seconds, requirements=before, by=step.by,
                now=now_levels), lowered, None


def _distribute(team: Team, ids: list[int]) -> None:
    """A distribution attempt at once for the conversations that moved on."""
    if team.distribution_mode == DistributionMode.MANUAL:
        return
    by_capacity = team.distribution_mode == DistributionMode.CAPACITY
    advisory_xact_lock(team.pk)
    distribute_locked(
        team, lock_members(team.pk, with_room_only=by_capacity), actor=None,
        by_capacity=by_capacity, only_ids=ids,
    )


def set_team_ladder(*, team: Team, steps: list[Step], actor=None) -> None:
    """Make the team's ladder exactly ``steps`` (validated: ``skills.services.parse_ladder``),
    recorded in the history of configuration; the deadlines of its queued conversations
    follow (a step already passed stays passed)."""
    with transaction.atomic():
        before = ladder_payload(ladder_of(team.pk))
        store_ladder(team_id=team.pk, steps=steps)
        record_configuration_changes(
            team=team, actor=actor, changes={"ladder": (before, ladder_payload(steps))}
        )
        ladder_changed(team=team)


def ladder_changed(*, team: Team) -> int:
    """After the team's ladder changed: the queued conversations' next deadlines follow."""
    return rearm_queued(team)
