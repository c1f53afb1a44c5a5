"""The history of configuration: each change of a team's fields, opening hours and closed
dates, and of the routing settings, is one ``ConfigurationChange`` row written in the
change's transaction; members joining and leaving a team are changes of those people
(``accounts.AgentChange``, kinds ``team_joined``/``team_left``)."""

from datetime import date, datetime

from django.db import models
from django.utils import timezone

from apps.accounts.history import agent_change_row, record_agent_changes
from apps.accounts.models import AgentChangeKind, ChangeCause, User
from apps.teams.models import ConfigurationChange, ConfigurationSubject, Team


def as_json(value):
    """A setting's value as the history stores it: ids for rows, ISO for dates."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | set):
        return [as_json(item) for item in value]
    return value


def record_configuration_changes(
    *, team: Team | None, changes: dict[str, tuple], actor
) -> None:
    """``changes``: field -> (before, after); fields whose value did not change are left
    out. ``team`` None: the routing settings."""
    now = timezone.now()
    rows = [
        ConfigurationChange(
            at=now,
            subject=ConfigurationSubject.TEAM if team else ConfigurationSubject.ROUTING_SETTINGS,
            team=team, team_name=team.name if team else "", field=field,
            before=as_json(before), after=as_json(after),
            actor=actor if isinstance(actor, User) else None,
        )
        for field, (before, after) in changes.items()
        if as_json(before) != as_json(after)
    ]
    if rows:
        ConfigurationChange.objects.bulk_create(rows)


def record_membership_changes(*, team: Team, joined, left, actor) -> None:
    """Agents who joined and left ``team``: one row of each person's history."""
    now = timezone.now()
    value = {"team": team.pk, "name": team.name}
    record_agent_changes(
        [agent_change_row(agent_id=agent_id, kind=AgentChangeKind.TEAM_JOINED, after=value,
                          actor=actor, cause=_cause(actor), at=now)
         for agent_id in sorted(joined)]
        + [agent_change_row(agent_id=agent_id, kind=AgentChangeKind.TEAM_LEFT, before=value,
                            actor=actor, cause=_cause(actor), at=now)
           for agent_id in sorted(left)]
    )


def _cause(actor) -> str:
    return ChangeCause.EDITED if actor is not None else ChangeCause.SYSTEM
