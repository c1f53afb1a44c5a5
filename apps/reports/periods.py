"""A report's question: which days, grouped how, for which teams; and the periods (days or
local hours) a team's rows cover. Local hours follow the team's clock: a day when clocks go
forward has 23 hours, one when they go back has 25 (two rows with the same clock time,
told apart by ``starts_at``)."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.errors import InvalidInput
from apps.teams.models import Team

DAY, HOUR = "day", "hour"
MAX_DAYS = {DAY: 366, HOUR: 31}  # a year by day, a month by hour
FORMATS = ("json", "csv")
EARLIEST, LATEST = date(1970, 1, 1), date(2999, 12, 31)


@dataclass(frozen=True)
class Question:
    start_date: date
    end_date: date
    group: str
    teams: list[Team]
    team_filter: bool  # teams were named (else every team)

    def window(self) -> tuple[datetime, datetime]:
        """The instants that hold the period in every asked team's zone."""
        zones = {team.timezone for team in self.teams} or {settings.TIME_ZONE}
        starts = [local_midnight(self.start_date, zone) for zone in zones]
        ends = [local_midnight(self.end_date + timedelta(days=1), zone) for zone in zones]
        return min(starts), max(ends)


def local_midnight(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(ZoneInfo("UTC"))


def periods(question: Question, zone: str) -> list[tuple[object, str, datetime, datetime]]:
    """(key, label, start, end) of each period in ``zone``: the key is what the figures'
    queries group by (a date, or the instant a local hour began)."""
    out = []
    day = question.start_date
    while day <= question.end_date:
        start, end = local_midnight(day, zone), local_midnight(day + timedelta(days=1), zone)
        if question.group == DAY:
            out.append((day, day.isoformat(), start, end))
        else:
            moment = start
            while moment < end:
                local = moment.astimezone(ZoneInfo(zone))
                hour_start = moment - timedelta(minutes=local.minute, seconds=local.second)
                following = hour_start + timedelta(hours=1)
                out.append((hour_start, local.strftime("%Y-%m-%dT%H:00"), max(hour_start, start),
                            min(following, end)))
                moment = following
        day += timedelta(days=1)
    return out


def _date(params, name: str, default: date) -> date:
    if name not in params:
        return default
    raw = params.get(name)
    try:
        day = date.fromisoformat(str(raw))
    except ValueError:
        raise InvalidInput(
            _("“%(value)s” is not a date: use YYYY-MM-DD.") % {"value": str(raw)[:40]},
            field=name,
        ) from None
    if not EARLIEST <= day <= LATEST:
        raise InvalidInput(
            _("Dates go from %(first)s to %(last)s.")
            % {"first": EARLIEST.isoformat(), "last": LATEST.isoformat()}, field=name,
        )
    return day


def read_question(params) -> Question:
    """The query string of ``reports/*`` checked: a 400 with ``detail`` for anything
    wrong."""
    today = timezone.localdate()
    end_date = _date(params, "to", today)
    start_date = _date(params, "from", end_date - timedelta(days=6))
    if start_date > end_date:
        raise InvalidInput(_("“from” must not be after “to”."), field="from")
    group = params.get("group", DAY)
    if group not in MAX_DAYS:
        raise InvalidInput(_("“group” must be day or hour."), field="group")
    days = (end_date - start_date).days + 1
    if days > MAX_DAYS[group]:
        if group == HOUR:
            message = _("A report by hour covers at most %(days)s days; this one asks for "
                        "%(asked)s. Shorten the period or group by day.")
        else:
            message = _("A report covers at most %(days)s days; this one asks for %(asked)s. "
                        "Shorten the period.")
        raise InvalidInput(message % {"days": MAX_DAYS[group], "asked": days}, field="to")
    fmt = params.get("format", "json")
    if fmt not in FORMATS:
        raise InvalidInput(_("“format” must be json or csv."), field="format")
    raw_ids = params.getlist("team") if hasattr(params, "getlist") else params.get("team", [])
    ids = []
    for raw in raw_ids:
        for piece in str(raw).split(","):
            if not piece.strip().isdigit():
                raise InvalidInput(
                    _("“%(value)s” is not a team id.") % {"value": piece[:40]}, field="team"
                )
            ids.append(int(piece))
    teams = list(Team.objects.order_by("name", "id")) if not ids else list(
        Team.objects.filter(pk__in=ids).order_by("name", "id")
    )
    missing = sorted(set(ids) - {team.pk for team in teams})
    if missing:
        raise InvalidInput(
            _("There is no team %(ids)s.") % {"ids": ", ".join(map(str, missing))}, field="team"
        )
    return Question(start_date, end_date, group, teams, bool(ids))
