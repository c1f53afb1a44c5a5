"""The per-minute queue snapshots: beat's task records each team's depth once a minute,
keeps a day of them, and the floor's stats show the last hour's."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings

from apps.floor.models import QueueSnapshot
from apps.floor.tasks import snapshot_queues
from apps.routing import services as routing
from tests.api.conftest import client_for
from tests.factories import AgentFactory, SupervisorFactory, TeamFactory
from tests.helpers import arrive

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 12, 0, 10, tzinfo=UTC)


def rows(team):
    return list(QueueSnapshot.objects.filter(team=team).order_by("taken_at")
                .values_list("taken_at", "queued", "reserved"))


def test_beat_schedules_it_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["floor-snapshots"]
    assert entry == {"task": "apps.floor.tasks.snapshot_queues", "schedule": 60.0}


def test_one_row_per_team_and_minute_however_often_it_runs():
    with time_machine.travel(START, tick=False) as clock:
        busy, empty = TeamFactory(), TeamFactory()
        arrive("wa:1", team=busy)
        arrive("wa:2", team=busy)
        arrive("wa:3")  # Waiting belongs to no team
        snapshot_queues.delay()
        clock.shift(30)
        arrive("wa:4", team=busy)
        snapshot_queues.delay()  # same minute (12:00): already recorded
        clock.shift(40)
        snapshot_queues.delay()
    minute = START.replace(second=0)
    assert rows(busy) == [(minute, 2, 0), (minute + timedelta(minutes=1), 3, 0)]
    assert rows(empty) == [(minute, 0, 0), (minute + timedelta(minutes=1), 0, 0)]


def test_a_day_is_kept_and_older_rows_are_dropped():
    team = TeamFactory()
    with time_machine.travel(START, tick=False) as clock:
        snapshot_queues.delay()
        clock.shift(timedelta(hours=23, minutes=59))
        snapshot_queues.delay()
        assert len(rows(team)) == 2
        clock.shift(timedelta(minutes=2))
        result = snapshot_queues.apply().get()
    assert result == {"teams": 1, "pruned": 1}
    assert [r[0] for r in rows(team)] == [
        START.replace(second=0) + timedelta(hours=23, minutes=59),
        START.replace(second=0) + timedelta(hours=24, minutes=1),
    ]


def test_the_stats_carry_the_last_hour_of_depth():
    with time_machine.travel(START, tick=False) as clock:
        ana = AgentFactory()
        team = TeamFactory(agents=[ana])
        first = arrive("wa:1", team=team)
        for minute in range(70):
            if minute == 65:
                routing.claim_conversation(conversation_id=first.pk, agent=ana)
            if minute == 66:
                arrive(f"wa:m{minute}", team=team)
                arrive(f"wa:n{minute}", team=team)
            snapshot_queues.delay()
            clock.shift(60)
        response = client_for(SupervisorFactory()).get("/api/v1/stats/teams")
    series = response.json()["teams"][0]["depth_last_hour"]
    # 13:10:10 now: the minutes after 12:10 up to 13:09, oldest first.
    assert len(series) == 59
    assert series[0] == ["2026-03-02T12:11:00Z", 1, 0]
    assert [point[1] for point in series[-6:]] == [1, 0, 2, 2, 2, 2]
    assert series[-1][0] == "2026-03-02T13:09:00Z"
