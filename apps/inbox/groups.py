"""Channel-layer group names of the live inbox: one function each, and who joins which.

Names are valid for Channels (``^[a-zA-Z0-9._-]+$``, under 100 characters).
"""

from apps.conversations.models import Status
from apps.routing import selectors
from apps.routing.events import Placement


def waiting_group() -> str:
    """Every agent's connection: Waiting is visible to all agents."""
    return "inbox.waiting"


def team_group(team_id: int) -> str:
    """The members of one team."""
    return f"inbox.team.{int(team_id)}"


def agent_group(agent_id: int) -> str:
    """Every connection (tab, process) of one person."""
    return f"inbox.agent.{int(agent_id)}"


def supervisors_group() -> str:
    """Supervisors and administrators: they see every conversation and every team."""
    return "inbox.supervisors"


def groups_for(user) -> list[str]:
    """The groups a person's connection joins, decided by the routing selectors (the same
    permissions the API and the pages use). Integrations and strangers join none."""
    if getattr(user, "is_integration", False) or not getattr(user, "is_authenticated", False):
        return []
    joined = [agent_group(user.pk)]
    if user.is_supervisor:
        # The supervisors' group carries every conversation, team count and agent row.
        return [*joined, supervisors_group()]
    joined.append(waiting_group())
    joined += [team_group(team_id) for team_id in selectors.teams_visible_to(user).values_list(
        "id", flat=True
    )]
    return joined


def groups_seeing(placement: Placement | None) -> set[str]:
    """Who may see a conversation standing at ``placement`` (supervisors always may).
    Mirrors selectors.visibility_filter: Waiting for all, a team's conversations for its
    members, an agent's own, and those reserved for them."""
    if placement is None:
        return set()
    seeing = {supervisors_group()}
    if placement.status == Status.WAITING:
        seeing.add(waiting_group())
    if placement.team_id:
        seeing.add(team_group(placement.team_id))
    if placement.assignee_id:
        seeing.add(agent_group(placement.assignee_id))
    if placement.status == Status.RESERVED and placement.preferred_agent_id:
        seeing.add(agent_group(placement.preferred_agent_id))
    return seeing
