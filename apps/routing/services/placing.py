"""Routing steps 2-3 for one unassigned conversation: into a team (or Waiting), and to an
agent by the team's mode. Used by arrivals, routing again, transfers and released
reservations."""

from dataclasses import dataclass

from apps.conversations.models import Conversation, Status
from apps.conversations.reasons import Part, part
from apps.routing import selectors
from apps.routing.decisions import (
    Levels,
    choose_agent,
    describe_loads,
    describe_requirements,
    eligible,
)
from apps.routing.services.ladder_clock import arm_ladder, restart_ladder, skill_names
from apps.routing.services.load import (
    shift_loads,
    take_and_touch,
    take_rotation_slot,
    touch_rotation,
)
from apps.routing.services.time_rules import DeadlineKind, expect, reply_due
from apps.teams.models import DistributionMode, Team

ROTATION_ATTEMPTS = 3


@dataclass
class Placed:
    reason: Part | list[Part]
    auto_assigned_to: int | None = None
    by: str = "mode"  # what decided: "mode", "preferred" or "last_agent"

    @property
    def reasons(self) -> list[Part]:
        return self.reason if isinstance(self.reason, list) else [self.reason]


def _take(conversation, agent_id: int, team: Team, now, *, skip_locked: bool) -> bool:
    taken = take_and_touch(agent_id, team.pk, now, skip_locked=skip_locked)
    if taken is None:
        return False
    conversation.assignee = taken  # the answer shows their name
    conversation.assigned_limit = taken.capacity
    return True


def distribute_one(
    conversation: Conversation, team: Team, *, exclude_agent_id: int | None, now,
    requirements: Levels | None = None, extra_team_ids=(), last_agent_id: int | None = None,
) -> tuple[int | None, Part, str]:
    """Pick an agent for one conversation entering ``team`` (the last agent first, then
    the team's mode over the agents eligible for ``requirements``; the members of
    ``extra_team_ids`` are candidates too) and take the capacity or rotation slot.
    Returns (agent id or None, reason, what decided)."""
    mode = team.distribution_mode
    if mode == DistributionMode.MANUAL and last_agent_id is None:
        return None, part("team_manual", team=team.name), "mode"
    names = skill_names(requirements)
    preferred_id = conversation.preferred_agent_id
    chosen = choice = None
    for _attempt in range(ROTATION_ATTEMPTS):
        candidates = selectors.online_candidates(
            team.pk, exclude_agent_id=exclude_agent_id, extra_team_ids=extra_team_ids,
            with_skills=bool(requirements),
        )
        if not candidates:
            return None, part("team_nobody_online", team=team.name), "mode"
        if last_agent_id is not None:
            sticky = choose_agent(
                candidates, mode=DistributionMode.MANUAL, requirements=requirements,
                last_agent_id=last_agent_id,
            )
            last_agent_id = None  # never waiting for them: one try
            if sticky is not None and _take(conversation, sticky.agent_id, team, now,
                                            skip_locked=False):
                return sticky.agent_id, sticky.reason, sticky.by
            if mode == DistributionMode.MANUAL:
                return None, part("team_manual", team=team.name), "mode"
        if not any(eligible(c, requirements) for c in candidates):
            return None, part(
                "team_none_eligible", team=team.name,
                requirements=describe_requirements(requirements, names),
            ), "mode"
        if mode == DistributionMode.CAPACITY:
            # First pass passes over agents another transaction is assigning to right now;
            # the second waits for them, so a busy row never makes us queue wrongly.
            for skip_locked in (True, False):
                remaining = list(candidates)
                while True:
                    choice = choose_agent(
                        remaining, mode=mode, requirements=requirements,
                        preferred_agent_id=preferred_id, skill_names=names,
                    )
                    if choice is None:
                        break
                    if _take(conversation, choice.agent_id, team, now, skip_locked=skip_locked):
                        return choice.agent_id, choice.reason, choice.by
                    remaining = [c for c in remaining if c.agent_id != choice.agent_id]
            able = [c for c in candidates if eligible(c, requirements)]
            return None, part("team_all_full", team=team.name, loads=describe_loads(able)), "mode"
        choice = choose_agent(
            candidates, mode=mode, requirements=requirements, preferred_agent_id=preferred_id,
            skill_names=names,
        )
        chosen = next(c for c in candidates if c.agent_id == choice.agent_id)
        if take_rotation_slot(team.pk, chosen, now):
            shift_loads({chosen.agent_id: 1})
            return chosen.agent_id, choice.reason, choice.by
    # Rotation kept moving under us: take the least recently assigned as it stands now.
    touch_rotation(team.pk, chosen.agent_id, now)
    shift_loads({chosen.agent_id: 1})
    return chosen.agent_id, choice.reason, choice.by


def place_in_team(
    conversation: Conversation, team: Team | None, *, now, exclude_agent_id: int | None = None,
    requirements: Levels | None = None, last_agent_id: int | None = None,
) -> Placed:
    """Routing steps 2-3 on an unassigned conversation (in memory; the caller saves it).
    Whatever deadline it had ends here; an automatic assignment starts the team's
    first-reply clock; queued, the team's ladder starts from its first step (requirements
    a previous team's ladder relaxed are in force again). ``requirements``: those in force
    (read from the database when not given)."""
    conversation.assignee = None
    conversation.auto_assigned = False
    conversation.assigned_limit = None
    conversation.assigned_at = None
    conversation.queued_at = now
    conversation.reserved_until = None
    conversation.reply_due_at = None
    conversation.handed_over_from = None
    if requirements is None:
        requirements = restart_ladder(conversation)
    conversation.ladder_step = 0
    conversation.next_step_at = None
    if team is None:
        conversation.team = None
        conversation.status = Status.WAITING
        return Placed(part("no_team_waiting"))
    conversation.team = team
    agent_id, reason, by = distribute_one(
        conversation, team, exclude_agent_id=exclude_agent_id, now=now,
        requirements=requirements, last_agent_id=last_agent_id,
    )
    if agent_id is None:
        conversation.status = Status.QUEUED
        arm_ladder(conversation, team)
        return Placed(reason)
    conversation.status = Status.ASSIGNED
    conversation.assignee_id = agent_id
    conversation.auto_assigned = True
    conversation.assigned_at = now
    conversation.reply_due_at = reply_due(team, now)
    expect(DeadlineKind.REPLY, conversation.reply_due_at)
    return Placed(reason, auto_assigned_to=agent_id, by=by)
