"""Business hours: whether a team is open at a moment, and when it opens or closes next.

Pure functions over a team's opening hours (weekly intervals, minutes after midnight in the
team's time zone, ``closes`` up to 24:00) and closed dates, with the standard library's
``zoneinfo`` (the ``tzdata`` package supplies the zones where the system has none). A team
with no opening hours is open at every hour of every day that is not a closed date.

Wall-clock times are turned into moments with ``fold=0``: an opening time that falls in a
daylight-saving gap opens at the first moment after the gap.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from django.utils.translation import gettext as _

MINUTES_PER_DAY = 24 * 60
LOOKAHEAD_DAYS = 400  # a team closed longer than this has no "next opening" worth telling


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def is_time_zone(name) -> bool:
    """An IANA time zone name this machine knows ("America/Sao_Paulo", "UTC")."""
    return isinstance(name, str) and name in _zone_names()


def clock(minutes: int) -> str:
    """Minutes after midnight as "HH:MM" (1440 is "24:00")."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_clock(text, *, end_of_day: bool = False) -> int:
    """ "HH:MM" as minutes after midnight; "24:00" only where a day's end is meant.
    Raises ValueError with a sentence a person can act on."""
    if not isinstance(text, str) or len(text) != 5 or text[2] != ":":
        raise ValueError(_("Write the time as HH:MM, for example 08:00 or 18:30."))
    hours, minutes = text[:2], text[3:]
    if not (hours.isascii() and hours.isdigit() and minutes.isascii() and minutes.isdigit()):
        raise ValueError(_("Write the time as HH:MM, for example 08:00 or 18:30."))
    value = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or value > MINUTES_PER_DAY or (
        value == MINUTES_PER_DAY and not end_of_day
    ):
        raise ValueError(
            _("That is not a time of day: use 00:00 to 23:59 (24:00 only as a closing time).")
        )
    return value


@dataclass(frozen=True)
class Schedule:
    zone: ZoneInfo
    weekly: dict[int, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    closed: frozenset[date] = frozenset()

    @property
    def always_open(self) -> bool:
        return not self.weekly and not self.closed

    def intervals_on(self, day: date) -> tuple[tuple[int, int], ...]:
        """The day's opening intervals (minutes), in order."""
        if day in self.closed:
            return ()
        if not self.weekly:
            return ((0, MINUTES_PER_DAY),)
        return self.weekly.get(day.weekday(), ())

    def moment(self, day: date, minutes: int) -> datetime:
        if minutes >= MINUTES_PER_DAY:
            day, minutes = day + timedelta(days=1), minutes - MINUTES_PER_DAY
        return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=self.zone)

    def _local(self, at: datetime) -> tuple[date, float]:
        local = at.astimezone(self.zone)
        return local.date(), local.hour * 60 + local.minute + local.second / 60

    def is_open(self, at: datetime) -> bool:
        day, minute = self._local(at)
        return any(opens <= minute < closes for opens, closes in self.intervals_on(day))

    def next_opening(self, at: datetime) -> datetime | None:
        """The first moment after ``at`` when a closed team opens (None: open now, or no
        opening within LOOKAHEAD_DAYS)."""
        if self.is_open(at):
            return None
        day, minute = self._local(at)
        for offset in range(LOOKAHEAD_DAYS):
            current = day + timedelta(days=offset)
            for opens, _closes in self.intervals_on(current):
                if offset > 0 or opens > minute:
                    return self.moment(current, opens)
        return None

    def next_closing(self, at: datetime) -> datetime | None:
        """When an open team closes next, following intervals that run on past midnight
        (None: closed now, or open without a break within LOOKAHEAD_DAYS)."""
        day, minute = self._local(at)
        end = next(
            (closes for opens, closes in self.intervals_on(day) if opens <= minute < closes),
            None,
        )
        if end is None:
            return None
        for _day in range(LOOKAHEAD_DAYS):
            if end < MINUTES_PER_DAY:
                return self.moment(day, end)
            following = self.intervals_on(day + timedelta(days=1))
            if not following or following[0][0] != 0:
                return self.moment(day, end)
            day, end = day + timedelta(days=1), following[0][1]
        return None


@dataclass(frozen=True)
class TeamState:
    open: bool
    opens_at: datetime | None  # when closed: the next opening
    closes_at: datetime | None  # when open: the next closing (None: no closing ahead)


def schedule_of(team) -> Schedule:
    """The team's schedule from its ``opening_hours`` and ``closed_dates`` (prefetch them
    for lists: they are read with ``.all()``)."""
    weekly: dict[int, list[tuple[int, int]]] = {}
    for row in team.opening_hours.all():
        weekly.setdefault(row.weekday, []).append((row.opens, row.closes))
    zone = ZoneInfo(team.timezone) if is_time_zone(team.timezone) else ZoneInfo("UTC")
    return Schedule(
        zone=zone,
        weekly={day: tuple(sorted(spans)) for day, spans in weekly.items()},
        closed=frozenset(row.date for row in team.closed_dates.all()),
    )


def team_state(team, at: datetime) -> TeamState:
    return state_of(schedule_of(team), at)


def state_of(schedule: Schedule, at: datetime) -> TeamState:
    if schedule.always_open:
        return TeamState(open=True, opens_at=None, closes_at=None)
    if schedule.is_open(at):
        return TeamState(open=True, opens_at=None, closes_at=schedule.next_closing(at))
    return TeamState(open=False, opens_at=schedule.next_opening(at), closes_at=None)


def overlapping(intervals: list[tuple[int, int, int]]) -> tuple[int, int, int] | None:
    """The first (weekday, opens, closes) that overlaps an earlier one of the same day."""
    by_day: dict[int, list[tuple[int, int]]] = {}
    for weekday, opens, closes in intervals:
        by_day.setdefault(weekday, []).append((opens, closes))
    for weekday, spans in sorted(by_day.items()):
        spans.sort()
        for (_o1, c1), (o2, c2) in zip(spans, spans[1:], strict=False):
            if o2 < c1:
                return weekday, o2, c2
    return None
