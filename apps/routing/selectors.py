"""Reads that feed the engine's decisions: the candidates of a team, the sweep's last run."""

from apps.accounts.models import Presence
from apps.routing.decisions import Candidate
from apps.routing.models import PeriodicRun
from apps.skills import selectors as skill_selectors
from apps.teams.models import Membership


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


def last_sweep_at():
    """When the periodic sweep last finished (None: never), one query."""
    return (
        PeriodicRun.objects.filter(name=PeriodicRun.SWEEP)
        .values_list("finished_at", flat=True)
        .first()
    )
