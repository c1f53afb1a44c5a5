"""Routing steps 2-3 for one unassigned conversation: into a team (or Waiting), and to an
agent by the team's mode. Used by arrivals, routing again, transfers and released
reservations."""

from dataclasses import dataclass

from apps.conversations.models import Conversation, Status
from apps.conversations.reasons import Part, part
from apps.routing import selectors
from apps.routing.decisions import choose_by_capacity, choose_by_rotation, describe_loads
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
    reason: Part
    auto_assigned_to: int | None = None


def distribute_one(
    conversation: Conversation, team: Team, *, exclude_agent_id: int | None, now
) -> tuple[int | None, Part]:
    """Pick an agent for one conversation entering ``team`` by the team's mode and take the
    capacity or rotation slot. Returns (agent id or None, reason)."""
    mode = team.distribution_mode
    if mode == DistributionMode.MANUAL:
        return None, part("team_manual", team=team.name)
    preferred_id = conversation.preferred_agent_id
    for _attempt in range(ROTATION_ATTEMPTS):
        candidates = selectors.online_candidates(team.pk, exclude_agent_id=exclude_agent_id)
        if not candidates:
            return None, part("team_nobody_online", team=team.name)
        if mode == DistributionMode.CAPACITY:
            # First pass passes over agents another transaction is assigning to right now;
            # the second waits for them, so a busy row never makes us queue wrongly.
            for skip_locked in (True, False):
                remaining = list(candidates)
                while True:
                    choice = choose_by_capacity(remaining, preferred_agent_id=preferred_id)
                    if choice is None:
                        break
                    taken = take_and_touch(choice.agent_id, team.pk, now, skip_locked=skip_locked)
                    if taken is not None:
                        conversation.assignee = taken  # the answer shows their name
                        conversation.assigned_limit = taken.capacity
                        return choice.agent_id, choice.reason
                    remaining = [c for c in remaining if c.agent_id != choice.agent_id]
            return None, part("team_all_full", team=team.name, loads=describe_loads(candidates))
        choice = choose_by_rotation(candidates, preferred_agent_id=preferred_id)
        chosen = next(c for c in candidates if c.agent_id == choice.agent_id)
        if take_rotation_slot(team.pk, chosen, now):
            shift_loads({chosen.agent_id: 1})
            return chosen.agent_id, choice.reason
    # Rotation kept moving under us: take the least recently assigned as it stands now.
    touch_rotation(team.pk, chosen.agent_id, now)
    shift_loads({chosen.agent_id: 1})
    return chosen.agent_id, choice.reason


def place_in_team(
    conversation: Conversation, team: Team | None, *, now, exclude_agent_id: int | None = None
) -> Placed:
    """Routing steps 2-3 on an unassigned conversation (in memory; the caller saves it).
    Whatever deadline it had ends here; an automatic assignment starts the team's
    first-reply clock."""
    conversation.assignee = None
    conversation.auto_assigned = False
    conversation.assigned_limit = None
    conversation.assigned_at = None
    conversation.queued_at = now
    conversation.reserved_until = None
    conversation.reply_due_at = None
    conversation.handed_over_from = None
    if team is None:
        conversation.team = None
        conversation.status = Status.WAITING
        return Placed(part("no_team_waiting"))
    conversation.team = team
    agent_id, reason = distribute_one(
        conversation, team, exclude_agent_id=exclude_agent_id, now=now
    )
    if agent_id is None:
        conversation.status = Status.QUEUED
        return Placed(reason)
    conversation.status = Status.ASSIGNED
    conversation.assignee_id = agent_id
    conversation.auto_assigned = True
    conversation.assigned_at = now
    conversation.reply_due_at = reply_due(team, now)
    expect(DeadlineKind.REPLY, conversation.reply_due_at)
    return Placed(reason, auto_assigned_to=agent_id)
