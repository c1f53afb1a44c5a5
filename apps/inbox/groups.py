"""Channel-layer group names of the live inbox: one per audience of
apps.conversations.visibility (the rule of who may see a conversation), so a socket joins
exactly the groups of what its person may see, and a change is sent exactly to the groups
of those who may see it.

Names are valid for Channels (``^[a-zA-Z0-9._-]+$``, under 100 characters).
"""

from apps.accounts.models import is_person
from apps.conversations import visibility
from apps.teams import selectors

PREFIX = "inbox."


def group_of(audience: str) -> str:
    return PREFIX + audience


def waiting_group() -> str:
    """Every agent's connection: Waiting is visible to all agents."""
    return group_of(visibility.WAITING)


def team_group(team_id: int) -> str:
    """The members of one team."""
    return group_of(visibility.team_audience(team_id))


def agent_group(agent_id: int) -> str:
    """Every connection (tab, process) of one person."""
    return group_of(visibility.agent_audience(agent_id))


def supervisors_group() -> str:
    """Supervisors and administrators: they see every conversation and every team."""
    return group_of(visibility.SUPERVISORS)


def groups_for(user) -> list[str]:
    """The groups a person's connection joins (their own group first). Integrations and
    strangers join none."""
    if not is_person(user):
        return []
    team_ids = [] if user.is_supervisor else selectors.team_ids_of(user)
    audiences = visibility.audiences_of_person(user, team_ids=team_ids)
    own = visibility.agent_audience(user.pk)
    return [group_of(own), *sorted(group_of(a) for a in audiences if a != own)]


def groups_seeing(placement) -> set[str]:
    """The groups of everyone who may see a conversation standing at ``placement``. An
    integration's audience has no group: integrations follow their conversations by
    webhooks (apps.webhooks), never by the inbox's websocket."""
    return {
        group_of(a)
        for a in visibility.audiences_of(placement)
        if not visibility.is_integration_audience(a)
    }
