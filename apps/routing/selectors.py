"""Reads that feed the engine's decisions: the candidates of a team, the sweep's last run."""

from apps.accounts.models import Presence
from apps.routing.decisions import Candidate
from apps.routing.models import PeriodicRun
from apps.teams.models import Membership


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


def last_sweep_at():
    """When the periodic sweep last finished (None: never), one query."""
    return (
        PeriodicRun.objects.filter(name=PeriodicRun.SWEEP)
        .values_list("finished_at", flat=True)
        .first()
    )

