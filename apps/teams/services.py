"""Team membership changes: one place that applies them and says what follows."""

from django.db import transaction

from apps.core.announce import announce
from apps.routing import services as routing
from apps.routing.events import MembershipsChanged
from apps.teams.models import Membership, Team


def set_team_members(*, team: Team, agent_ids: set[int]) -> None:
    """Make the team's members exactly ``agent_ids`` (rotation state of those who stay is
    kept), then ``team_members_changed``."""
    with transaction.atomic():
        present = set(Membership.objects.filter(team=team).values_list("agent_id", flat=True))
        Membership.objects.filter(team=team, agent_id__in=present - agent_ids).delete()
        Membership.objects.bulk_create(
            Membership(team=team, agent_id=agent_id) for agent_id in sorted(agent_ids - present)
        )
        team_members_changed(team=team, agent_ids=present ^ agent_ids)


def team_members_changed(*, team: Team, agent_ids: set[int]) -> None:
    """After members joined or left (or the mode changed: pass no ids): those agents' live
    inboxes follow the team's queue from now on (or stop), and a ``capacity`` team's queue
    goes to anyone with room (routing.md section 7, invariant 4)."""
    if agent_ids:
        announce(MembershipsChanged(agent_ids=tuple(sorted(agent_ids))))
    routing.distribute_team_backlog(team_id=team.pk)
