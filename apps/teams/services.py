"""Teams: creating and changing them, and their memberships, in one place that says what
follows (open inboxes follow the team's group; a ``capacity`` team's queue is distributed
by a worker after commit)."""

from django.db import transaction
from django.utils.translation import gettext as _

from apps.core.announce import announce
from apps.core.errors import InvalidInput
from apps.routing.tasks import distribute_team
from apps.teams.events import MembershipsChanged
from apps.teams.models import DistributionMode, Membership, Team

TEAM_FIELDS = ("name", "distribution_mode")


def create_team(*, name: str, distribution_mode: str = DistributionMode.MANUAL,
                member_ids: set[int] | None = None) -> Team:
    with transaction.atomic():
        team = Team.objects.create(name=name, distribution_mode=distribution_mode)
        set_team_members(team=team, agent_ids=set(member_ids or ()))
    return team


def update_team(*, team: Team, member_ids: set[int] | None = None, **changes) -> Team:
    """Change a team's fields (``name``, ``distribution_mode``) and, when given, make its
    members exactly ``member_ids``."""
    unknown = set(changes) - set(TEAM_FIELDS)
    if unknown:
        raise InvalidInput(
            _("Teams have no field %(fields)s.") % {"fields": ", ".join(sorted(unknown))}
        )
    with transaction.atomic():
        for field, value in changes.items():
            setattr(team, field, value)
        if changes:
            team.save(update_fields=list(changes))
        if member_ids is not None:
            set_team_members(team=team, agent_ids=set(member_ids))
        elif "distribution_mode" in changes:
            team_members_changed(team=team, agent_ids=set())
    return team


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
    inboxes follow the team's queue from now on (or stop), and once this commits a worker
    gives a ``capacity`` team's queue to anyone with room (routing.md section 7,
    invariant 4)."""
    if agent_ids:
        announce(MembershipsChanged(agent_ids=tuple(sorted(agent_ids))))
    team_id = team.pk
    transaction.on_commit(lambda: distribute_team.delay(team_id))
