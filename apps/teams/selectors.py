"""Reads of teams: the default team, and which teams a person belongs to or may see."""

from django.db.models import QuerySet

from apps.teams import config_cache
from apps.teams.models import Membership, Team


def default_team() -> Team | None:
    """The routing settings' default team: read once per process until it changes."""
    return config_cache.default_team()


def team_ids_of(user) -> list[int]:
    return list(Membership.objects.filter(agent_id=user.pk).values_list("team_id", flat=True))


def teams_visible_to(user) -> QuerySet[Team]:
    if getattr(user, "is_supervisor", False):
        return Team.objects.all()
    return Team.objects.filter(memberships__agent_id=user.pk)

