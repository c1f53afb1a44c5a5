"""routing.md 8.4: whether a team is open, when it opens and closes next, in its own zone."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from apps.teams.hours import MINUTES_PER_DAY, Schedule, parse_clock, state_of

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
NEW_YORK = ZoneInfo("America/New_York")
NINE_TO_SIX = ((540, 1080),)


def local(zone, *args) -> datetime:
    return datetime(*args, tzinfo=zone)


def weekdays(spans, days=range(5)):
    return {day: spans for day in days}


def test_open_inside_the_hours_closed_outside_and_at_the_closing_minute():
    schedule = Schedule(zone=SAO_PAULO, weekly=weekdays(NINE_TO_SIX))
    assert not schedule.is_open(local(SAO_PAULO, 2026, 3, 2, 8, 59, 59))
    assert schedule.is_open(local(SAO_PAULO, 2026, 3, 2, 9, 0))
    assert schedule.is_open(local(SAO_PAULO, 2026, 3, 2, 17, 59, 59))
    assert not schedule.is_open(local(SAO_PAULO, 2026, 3, 2, 18, 0))  # closes at 18:00
    assert not schedule.is_open(local(SAO_PAULO, 2026, 3, 7, 12, 0))  # Saturday
    # The same moment seen from UTC: 12:00 UTC is 09:00 in São Paulo.
    assert schedule.is_open(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))
    assert not schedule.is_open(datetime(2026, 3, 2, 11, 59, tzinfo=UTC))


def test_the_next_opening_skips_weekends_and_closed_dates():
    schedule = Schedule(zone=SAO_PAULO, weekly=weekdays(NINE_TO_SIX),
                        closed=frozenset({date(2026, 3, 9)}))
    friday_evening = local(SAO_PAULO, 2026, 3, 6, 19, 0)
    state = state_of(schedule, friday_evening)
    assert not state.open
    assert state.opens_at == local(SAO_PAULO, 2026, 3, 10, 9, 0)  # Monday 9 is closed
    early = state_of(schedule, local(SAO_PAULO, 2026, 3, 10, 7, 0))
    assert early.opens_at == local(SAO_PAULO, 2026, 3, 10, 9, 0)  # later the same day
    assert state_of(schedule, local(SAO_PAULO, 2026, 3, 10, 10, 0)).closes_at == local(
        SAO_PAULO, 2026, 3, 10, 18, 0
    )


def test_a_lunch_break_and_a_night_shift_past_midnight():
    schedule = Schedule(zone=SAO_PAULO, weekly={
        0: ((480, 720), (780, 1080)),  # Monday 08-12, 13-18
        4: ((1320, MINUTES_PER_DAY),),  # Friday 22-24
        5: ((0, 360),),  # Saturday 00-06
    })
    lunch = state_of(schedule, local(SAO_PAULO, 2026, 3, 2, 12, 30))
    assert (lunch.open, lunch.opens_at) == (False, local(SAO_PAULO, 2026, 3, 2, 13, 0))
    night = state_of(schedule, local(SAO_PAULO, 2026, 3, 6, 23, 0))
    assert night.open and night.closes_at == local(SAO_PAULO, 2026, 3, 7, 6, 0)
    assert schedule.is_open(local(SAO_PAULO, 2026, 3, 7, 0, 0))


def test_no_hours_is_always_open_except_closed_dates():
    schedule = Schedule(zone=SAO_PAULO, closed=frozenset({date(2026, 12, 25)}))
    christmas_eve = state_of(schedule, local(SAO_PAULO, 2026, 12, 24, 20, 0))
    assert christmas_eve.open and christmas_eve.closes_at == local(SAO_PAULO, 2026, 12, 25, 0, 0)
    christmas = state_of(schedule, local(SAO_PAULO, 2026, 12, 25, 10, 0))
    assert (christmas.open, christmas.opens_at) == (False, local(SAO_PAULO, 2026, 12, 26, 0, 0))
    always = state_of(Schedule(zone=SAO_PAULO), local(SAO_PAULO, 2026, 1, 1, 0, 0))
    assert (always.open, always.opens_at, always.closes_at) == (True, None, None)


def test_hours_follow_daylight_saving_time():
    # New York moves from UTC-5 to UTC-4 on Sunday 8 March 2026.
    schedule = Schedule(zone=NEW_YORK, weekly={d: NINE_TO_SIX for d in range(7)})
    assert schedule.is_open(datetime(2026, 3, 7, 14, 0, tzinfo=UTC))  # 09:00 EST
    assert not schedule.is_open(datetime(2026, 3, 9, 12, 30, tzinfo=UTC))  # 08:30 EDT
    assert schedule.is_open(datetime(2026, 3, 9, 13, 0, tzinfo=UTC))  # 09:00 EDT
    sunday_night = state_of(schedule, datetime(2026, 3, 8, 23, 30, tzinfo=UTC))
    assert sunday_night.opens_at == datetime(2026, 3, 9, 13, 0, tzinfo=UTC)


def test_a_team_closed_for_more_than_a_year_has_no_next_opening():
    every_day = frozenset(date.fromordinal(date(2026, 1, 1).toordinal() + n) for n in range(500))
    schedule = Schedule(zone=SAO_PAULO, weekly=weekdays(NINE_TO_SIX), closed=every_day)
    state = state_of(schedule, local(SAO_PAULO, 2026, 1, 1, 12, 0))
    assert (state.open, state.opens_at) == (False, None)


@pytest.mark.parametrize(("text", "end", "minutes"), [
    ("00:00", False, 0), ("08:30", False, 510), ("23:59", False, 1439), ("24:00", True, 1440),
])
def test_clock_times(text, end, minutes):
    assert parse_clock(text, end_of_day=end) == minutes


@pytest.mark.parametrize("text", ["24:00", "8:30", "08:60", "0830", "xx:yy", "", None, 830,
                                  "２３:００"])
def test_bad_clock_times_say_what_is_wrong(text):
    with pytest.raises(ValueError, match="HH:MM|time of day"):
        parse_clock(text)
