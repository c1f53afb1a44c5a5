"""Teams: creating and changing them, and their memberships, in one place that says what
follows (open inboxes follow the team's group; a ``capacity`` team's queue is distributed
by a worker after commit)."""

from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _

from apps.core.announce import announce
from apps.core.errors import InvalidInput
from apps.core.queue import enqueue_on_commit
from apps.routing.services import first_reply_rule_off
from apps.routing.services.time_rules import DeadlineKind
from apps.routing.tasks import act_on_deadlines, distribute_team
from apps.teams import config_cache
from apps.teams.events import MembershipsChanged
from apps.teams.history import record_configuration_changes, record_membership_changes
from apps.teams.hours import is_time_zone
from apps.teams.models import (
    ClosedDate,
    DistributionMode,
    Membership,
    OpeningHours,
    RoutingSettings,
    Team,
)

TEAM_FIELDS = (
    "name", "distribution_mode", "first_reply_seconds", "offline_requeue_seconds", "timezone",
    "after_hours_team", "sticky_days",
)
Hours = list[tuple[int, int, int]]  # (weekday, opens, closes), minutes after midnight


def create_team(*, name: str, distribution_mode: str = DistributionMode.MANUAL,
                member_ids: set[int] | None = None, business_hours: Hours | None = None,
                closed_dates: list[date] | None = None, actor=None, **time_rules) -> Team:
    unknown = set(time_rules) - set(TEAM_FIELDS)
    if unknown:
        raise InvalidInput(
            _("Teams have no field %(fields)s.") % {"fields": ", ".join(sorted(unknown))}
        )
    with transaction.atomic():
        team = Team.objects.create(name=name, distribution_mode=distribution_mode, **time_rules)
        _check_time_rules(team)
        record_configuration_changes(
            team=team, actor=actor,
            changes={"created": (None, {
                field: getattr(team, field) if field != "after_hours_team"
                else team.after_hours_team_id
                for field in TEAM_FIELDS
            })},
        )
        set_team_members(team=team, agent_ids=set(member_ids or ()), actor=actor)
        if business_hours is not None:
            set_business_hours(team=team, hours=business_hours, actor=actor)
        if closed_dates is not None:
            set_closed_dates(team=team, dates=closed_dates, actor=actor)
    return team


def update_team(*, team: Team, member_ids: set[int] | None = None,
                business_hours: Hours | None = None, closed_dates: list[date] | None = None,
                actor=None, **changes) -> Team:
    """Change a team's fields (``TEAM_FIELDS``) and, when given, make its members exactly
    ``member_ids`` and its opening hours and closed dates exactly those given. Time rules
    changed take effect as docs/time-rules.md says (``time_rules_changed``)."""
    unknown = set(changes) - set(TEAM_FIELDS)
    if unknown:
        raise InvalidInput(
            _("Teams have no field %(fields)s.") % {"fields": ", ".join(sorted(unknown))}
        )
    with transaction.atomic():
        before = {field: getattr(team, field) for field in ("first_reply_seconds",
                                                            "offline_requeue_seconds")}
        previous = {field: getattr(team, field) for field in changes}
        for field, value in changes.items():
            setattr(team, field, value)
        _check_time_rules(team)
        if changes:
            team.save(update_fields=list(changes))
            record_configuration_changes(
                team=team, actor=actor,
                changes={field: (previous[field], value) for field, value in changes.items()},
            )
        if member_ids is not None:
            set_team_members(team=team, agent_ids=set(member_ids), actor=actor)
        elif "distribution_mode" in changes:
            team_members_changed(team=team, agent_ids=set())
        if business_hours is not None:
            set_business_hours(team=team, hours=business_hours, actor=actor)
        if closed_dates is not None:
            set_closed_dates(team=team, dates=closed_dates, actor=actor)
        time_rules_changed(team=team, before=before)
    return team


def delete_team(*, team: Team, actor=None) -> None:
    """Deletes ``team``: its members' histories say they left it, the history of
    configuration who deleted it. A team that conversations or rules still reference raises
    ProtectedError (or RestrictedError) and nothing changes."""
    with transaction.atomic():
        left = set(Membership.objects.filter(team=team).values_list("agent_id", flat=True))
        record_configuration_changes(team=team, actor=actor,
                                     changes={"deleted": ({"name": team.name}, None)})
        record_membership_changes(team=team, joined=(), left=left, actor=actor)
        team.delete()
        if left:  # their live inboxes stop following the team's queue
            announce(MembershipsChanged(agent_ids=tuple(sorted(left))))


def _check_time_rules(team: Team) -> None:
    if not is_time_zone(team.timezone):
        raise InvalidInput(
            _("“%(value)s” is not a time zone. Use an IANA name such as America/Sao_Paulo.")
            % {"value": team.timezone}, field="timezone",
        )
    if team.pk and team.after_hours_team_id == team.pk:
        raise InvalidInput(
            _("A team cannot be its own after-hours team."), field="after_hours_team"
        )


def business_hours_of(team: Team) -> list[list[int]]:
    return [list(row) for row in OpeningHours.objects.filter(team=team)
            .order_by("weekday", "opens").values_list("weekday", "opens", "closes")]


def closed_dates_of(team: Team) -> list[str]:
    return [day.isoformat() for day in ClosedDate.objects.filter(team=team)
            .order_by("date").values_list("date", flat=True)]


def set_business_hours(*, team: Team, hours: Hours, actor=None) -> None:
    """Make the team's weekly opening hours exactly ``hours`` (validated by the caller:
    each closes after it opens, none overlaps another of its day)."""
    before = business_hours_of(team)
    record_configuration_changes(team=team, actor=actor, changes={
        "business_hours": (before, [list(row) for row in sorted(set(hours))]),
    })
    OpeningHours.objects.filter(team=team).delete()
    OpeningHours.objects.bulk_create(
        OpeningHours(team=team, weekday=weekday, opens=opens, closes=closes)
        for weekday, opens, closes in sorted(set(hours))
    )
    config_cache.configuration_changed()  # bulk_create sends no signal


def set_closed_dates(*, team: Team, dates: list[date], actor=None) -> None:
    record_configuration_changes(team=team, actor=actor, changes={
        "closed_dates": (closed_dates_of(team), [day.isoformat() for day in sorted(set(dates))]),
    })
    ClosedDate.objects.filter(team=team).delete()
    ClosedDate.objects.bulk_create(ClosedDate(team=team, date=day) for day in sorted(set(dates)))
    config_cache.configuration_changed()


def time_rules_changed(*, team: Team, before: dict) -> None:
    """After the admin or the API changed a team's time rules: switching the first-reply
    rule off cancels pending handovers (a new limit leaves the deadlines already set as
    they are); a changed offline limit applies at once, counted from when each agent went
    offline, so a worker looks at it after commit."""
    if before.get("first_reply_seconds") and not team.first_reply_seconds:
        first_reply_rule_off(team_id=team.pk)
    if team.offline_requeue_seconds and (
        before.get("offline_requeue_seconds") != team.offline_requeue_seconds
    ):
        enqueue_on_commit(act_on_deadlines, DeadlineKind.OFFLINE.value)


def set_team_members(*, team: Team, agent_ids: set[int], actor=None) -> None:
    """Make the team's members exactly ``agent_ids`` (rotation state of those who stay is
    kept), then ``team_members_changed``. Each who joined or left gets a row of history."""
    with transaction.atomic():
        present = set(Membership.objects.filter(team=team).values_list("agent_id", flat=True))
        Membership.objects.filter(team=team, agent_id__in=present - agent_ids).delete()
        Membership.objects.bulk_create(
            Membership(team=team, agent_id=agent_id) for agent_id in sorted(agent_ids - present)
        )
        record_membership_changes(
            team=team, joined=agent_ids - present, left=present - agent_ids, actor=actor
        )
        team_members_changed(team=team, agent_ids=present ^ agent_ids)


def update_routing_settings(*, actor, **changes) -> RoutingSettings:
    """The administrator changes the routing settings (``default_team``,
    ``preferred_max_wait_seconds``); recorded in the history of configuration."""
    with transaction.atomic():
        settings_row = RoutingSettings.load()
        previous = {field: getattr(settings_row, field) for field in changes}
        for field, value in changes.items():
            setattr(settings_row, field, value)
        if changes:
            settings_row.save(update_fields=list(changes))
            record_configuration_changes(
                team=None, actor=actor,
                changes={field: (previous[field], value) for field, value in changes.items()},
            )
    return settings_row


def team_members_changed(*, team: Team, agent_ids: set[int]) -> None:
    """After members joined or left (or the mode changed: pass no ids): those agents' live
    inboxes follow the team's queue from now on (or stop), and once this commits a worker
    gives a ``capacity`` team's queue to anyone with room (routing.md section 7,
    invariant 4)."""
    if agent_ids:
        announce(MembershipsChanged(agent_ids=tuple(sorted(agent_ids))))
    team_id = team.pk
    enqueue_on_commit(distribute_team, team_id)
