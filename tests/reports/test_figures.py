"""Each figure of docs/reports.md pinned on a hand-made day, through the API, in a team whose
clock has daylight saving (America/New_York: 2026-03-08 has 23 hours, 2026-11-01 has 25)."""

import csv
import io
from datetime import UTC, datetime

import pytest
import time_machine

from apps.accounts.models import Presence
from apps.conversations.services import post_reply
from apps.routing import services as routing
from apps.routing.services.ratings import rate_conversation
from apps.routing.services.time_rules import DeadlineKind
from apps.teams.models import DistributionMode
from tests.api.conftest import client_for
from tests.factories import SupervisorFactory, TeamFactory, UserFactory
from tests.helpers import arrive

pytestmark = pytest.mark.django_db
NY = "America/New_York"


def local(day: str, clock: str) -> datetime:
    """A New York wall-clock time on 2026-03-05 (EST, UTC-5) as UTC."""
    return datetime.fromisoformat(f"{day}T{clock}-05:00").astimezone(UTC)


def at(traveller, moment):
    traveller.move_to(moment)


@pytest.fixture
def day():
    """The hand-made day (2026-03-05, New York): see each step's comment."""
    with time_machine.travel(local("2026-03-05", "07:00"), tick=False) as clock:
        ana = UserFactory(username="ana", name="Ana")
        bia = UserFactory(username="bia", name="Bia")
        carla = UserFactory(username="carla", name="Carla")
        boss = SupervisorFactory(username="boss")
        support = TeamFactory(name="Suporte", timezone=NY, answer_target_seconds=60,
                              agents=[ana, bia])
        sales = TeamFactory(name="Vendas", timezone=NY, agents=[carla],
                            distribution_mode=DistributionMode.CAPACITY,
                            first_reply_seconds=60, offline_requeue_seconds=60)
        at(clock, local("2026-03-05", "08:00"))
        routing.set_presence(agent=ana, status=Presence.ONLINE, actor=ana)
        routing.set_presence(agent=bia, status=Presence.ONLINE, actor=bia)
        # c1: waits 30 s, first response 50 s (within 60), closed after 10 min.
        at(clock, local("2026-03-05", "09:00"))
        c1 = arrive("c1", team=support)
        clock.shift(30)
        routing.claim_conversation(conversation_id=c1.pk, agent=ana)
        clock.shift(20)
        post_reply(conversation_id=c1.pk, author=ana, body="Olá!")
        at(clock, local("2026-03-05", "09:10"))
        routing.close_conversation(conversation_id=c1.pk, actor=ana)
        # c2: waits 120 s, first response 200 s (over 60), closed after an hour, rated 4.
        at(clock, local("2026-03-05", "09:05"))
        c2 = arrive("c2", team=support)
        clock.shift(120)
        routing.claim_conversation(conversation_id=c2.pk, agent=bia)
        clock.shift(80)
        post_reply(conversation_id=c2.pk, author=bia, body="Bom dia")
        at(clock, local("2026-03-05", "10:05"))
        routing.close_conversation(conversation_id=c2.pk, actor=bia)
        rate_conversation(conversation_id=c2.pk, score=4, comment="ok", actor=None)
        # Ana steps away 10:00-10:30.
        at(clock, local("2026-03-05", "10:00"))
        routing.set_presence(agent=ana, status=Presence.AWAY, actor=ana)
        # c3: nobody answers; the supervisor closes it after 300 s: abandoned.
        c3 = arrive("c3", team=support)
        clock.shift(300)
        routing.close_conversation(conversation_id=c3.pk, actor=boss)
        at(clock, local("2026-03-05", "10:30"))
        routing.set_presence(agent=ana, status=Presence.ONLINE, actor=ana)
        # c4: Ana takes it (10 s) and hands it to Bia (a transfer, no longer a wait), who
        # answers 100 s after arrival.
        c4 = arrive("c4", team=support)
        clock.shift(10)
        routing.claim_conversation(conversation_id=c4.pk, agent=ana)
        clock.shift(50)
        routing.transfer_conversation(conversation_id=c4.pk, actor=ana, agent_id=bia.pk)
        clock.shift(40)
        post_reply(conversation_id=c4.pk, author=bia, body="Oi")
        # c5: stays queued.
        at(clock, local("2026-03-05", "11:00"))
        arrive("c5", team=support)
        # Vendas: c6 goes to Carla automatically, she does not reply: handed over (60 s),
        # then claimed back by her; she goes offline and it is requeued (60 s).
        routing.set_presence(agent=carla, status=Presence.ONLINE, actor=carla)
        c6 = arrive("c6", team=sales)
        clock.shift(61)
        assert routing.act_on_due(kind=DeadlineKind.REPLY) == 1
        routing.claim_conversation(conversation_id=c6.pk, agent=carla)
        routing.set_presence(agent=carla, status=Presence.OFFLINE, actor=carla)
        clock.shift(61)
        assert routing.act_on_due(kind=DeadlineKind.OFFLINE) == 1
        at(clock, local("2026-03-05", "12:00"))
        routing.set_presence(agent=ana, status=Presence.OFFLINE, actor=ana)
        routing.set_presence(agent=bia, status=Presence.OFFLINE, actor=bia)
        at(clock, local("2026-03-06", "12:00"))
        yield {"support": support, "sales": sales, "ana": ana, "bia": bia, "boss": boss,
               "carla": carla, "c2": c2}


def get(path, who, **params):
    response = client_for(who).get(f"/api/v1/reports/{path}", params)
    assert response.status_code == 200, response.content
    return response.json()


def test_every_team_figure_of_the_day(day):
    report = get("teams", day["boss"], **{"from": "2026-03-05", "to": "2026-03-05",
                                         "team": day["support"].pk})
    assert report["from"] == report["to"] == "2026-03-05" and report["group"] == "day"
    (row,) = report["rows"]
    assert {key: row[key] for key in (
        "team", "team_name", "period", "conversations", "served", "abandoned", "wait_p50",
        "wait_p90", "first_response_p50", "first_response_p90", "resolution_p50",
        "within_target_pct", "transfers", "handovers", "requeues", "overflowed",
        "rating_avg", "ratings", "waits", "wait_within_target_pct", "closed",
    )} == {
        "team": day["support"].pk, "team_name": "Suporte", "period": "2026-03-05",
        "conversations": 5,  # c1-c5
        "served": 3,  # c1, c2, c4
        "abandoned": 1,  # c3
        "wait_p50": 75, "wait_p90": 111,  # c1 30 s, c2 120 s (c4's was handed on)
        "first_response_p50": 100, "first_response_p90": 180,  # 50, 100, 200
        "resolution_p50": 600,  # 600 (c1), 3600 (c2), 300 (c3)
        "within_target_pct": 33.3,  # 1 of 3 answered within 60 s
        "transfers": 1, "handovers": 0, "requeues": 0, "overflowed": 0,
        "rating_avg": 4.0, "ratings": 1,
        "waits": 2, "wait_within_target_pct": 50.0, "closed": 3,
    }
    assert report["totals"][0]["conversations"] == 5
    assert "period" not in report["totals"][0]


def test_moves_by_reason(day):
    report = get("teams", day["boss"], **{"from": "2026-03-05", "to": "2026-03-05",
                                         "team": day["sales"].pk})
    (row,) = report["rows"]
    assert (row["conversations"], row["handovers"], row["requeues"], row["transfers"],
            row["served"], row["abandoned"]) == (1, 1, 1, 0, 0, 0)


def test_agents_times_from_the_history_of_people(day):
    report = get("agents", day["boss"], **{"from": "2026-03-05", "to": "2026-03-05",
                                          "team": day["support"].pk})
    rows = {row["agent_name"]: row for row in report["rows"]}
    assert set(rows) == {"Ana", "Bia"}
    assert rows["Ana"] == {
        "agent": day["ana"].pk, "agent_name": "Ana", "period": "2026-03-05",
        "served": 1, "first_response_p50": 50,
        "online_seconds": 3 * 3600 + 1800, "away_seconds": 1800,
        "busy_seconds": 570 + 50,  # c1 09:00:30-09:10:00, c4 10:30:10-10:31:00
        "occupancy": round(620 / 12600, 3),
        "rating_avg": None, "ratings": 0,
    }
    bia = rows["Bia"]
    assert (bia["served"], bia["first_response_p50"], bia["online_seconds"],
            bia["away_seconds"], bia["rating_avg"], bia["ratings"]) == (2, 150, 4 * 3600, 0,
                                                                        4.0, 1)
    # c2 09:07-10:05 and c4 from 10:31 to now (a day later, clipped to the day's end).
    assert bia["busy_seconds"] == 58 * 60 + int(
        (local("2026-03-06", "00:00") - local("2026-03-05", "10:31")).total_seconds())


def test_an_agent_sees_only_their_own_row_and_not_the_teams_report(day):
    mine = get("agents", day["ana"], **{"from": "2026-03-05", "to": "2026-03-06"})
    assert {row["agent"] for row in mine["rows"]} == {day["ana"].pk}
    assert len(mine["rows"]) == 2
    response = client_for(day["ana"]).get("/api/v1/reports/teams")
    assert response.status_code == 403 and response.json()["detail"]
    assert get("ratings", day["ana"], **{"from": "2026-03-05", "to": "2026-03-05"})["rows"] == []
    bias = get("ratings", day["bia"], **{"from": "2026-03-05", "to": "2026-03-05"})
    assert len(bias["rows"]) == 1


def test_ratings_of_the_period(day):
    listed = get("ratings", day["boss"], **{"from": "2026-03-05", "to": "2026-03-05"})
    assert listed["rows"] == [{
        "conversation": day["c2"].pk, "team": day["support"].pk, "agent": day["bia"].pk,
        "score": 4, "comment": "ok", "at": "2026-03-05T15:05:00Z",
    }]


def test_csv_by_parameter_or_accept_header(day):
    params = {"from": "2026-03-05", "to": "2026-03-06", "team": day["support"].pk}
    client = client_for(day["boss"])
    by_param = client.get("/api/v1/reports/teams", {**params, "format": "csv"})
    by_header = client.get("/api/v1/reports/teams", params, HTTP_ACCEPT="text/csv")
    for response in (by_param, by_header):
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.content.decode())))
        assert [(r["period"], r["conversations"], r["wait_p50"]) for r in rows] == [
            ("2026-03-05", "5", "75"), ("2026-03-06", "0", "")]
    agents = client.get("/api/v1/reports/agents", {**params, "format": "csv"})
    header = agents.content.decode().splitlines()[0]
    assert header == ("agent,agent_name,period,served,first_response_p50,online_seconds,"
                      "away_seconds,busy_seconds,occupancy,rating_avg,ratings")
    ratings = client.get("/api/v1/reports/ratings", {**params, "format": "csv"})
    assert ratings.content.decode().splitlines()[0] == "conversation,team,agent,score,comment,at"


def test_an_empty_period_has_rows_of_zeros_and_nulls(day):
    report = get("teams", day["boss"], **{"from": "2026-03-01", "to": "2026-03-02",
                                         "team": [day["support"].pk, day["sales"].pk]})
    assert [(r["team_name"], r["period"]) for r in report["rows"]] == [
        ("Suporte", "2026-03-01"), ("Suporte", "2026-03-02"),
        ("Vendas", "2026-03-01"), ("Vendas", "2026-03-02")]
    row = report["rows"][0]
    assert (row["conversations"], row["served"], row["wait_p50"], row["within_target_pct"],
            row["rating_avg"], row["ratings"]) == (0, 0, None, None, None, 0)


def test_hours_follow_the_clock_across_daylight_saving():
    with time_machine.travel(datetime(2026, 3, 7, 12, tzinfo=UTC), tick=False) as clock:
        team = TeamFactory(name="Noite", timezone=NY)
        boss = SupervisorFactory()
        clock.move_to(datetime(2026, 3, 8, 4, 30, tzinfo=UTC))  # 23:30 on the 7th, EST
        arrive("late", team=team)
        clock.move_to(datetime(2026, 3, 8, 6, 30, tzinfo=UTC))  # 01:30 EST
        arrive("before", team=team)
        clock.move_to(datetime(2026, 3, 8, 7, 30, tzinfo=UTC))  # 03:30 EDT
        arrive("after", team=team)
        clock.move_to(datetime(2026, 11, 1, 5, 30, tzinfo=UTC))  # 01:30 EDT
        arrive("first-one", team=team)
        clock.move_to(datetime(2026, 11, 1, 6, 30, tzinfo=UTC))  # 01:30 EST, an hour on
        arrive("second-one", team=team)
        clock.move_to(datetime(2026, 11, 2, 12, tzinfo=UTC))
        spring = get("teams", boss, **{"from": "2026-03-08", "to": "2026-03-08",
                                       "group": "hour", "team": team.pk})
        autumn = get("teams", boss, **{"from": "2026-11-01", "to": "2026-11-01",
                                       "group": "hour", "team": team.pk})
        days = get("teams", boss, **{"from": "2026-03-07", "to": "2026-03-08",
                                     "team": team.pk})
    assert len(spring["rows"]) == 23
    labels = [row["period"] for row in spring["rows"]]
    assert "2026-03-08T02:00" not in labels
    assert {row["period"]: row["conversations"] for row in spring["rows"]
            if row["conversations"]} == {"2026-03-08T01:00": 1, "2026-03-08T03:00": 1}
    assert spring["totals"][0]["conversations"] == 2
    assert len(autumn["rows"]) == 25
    ones = [(row["starts_at"], row["conversations"]) for row in autumn["rows"]
            if row["period"] == "2026-11-01T01:00"]
    assert ones == [("2026-11-01T05:00:00Z", 1), ("2026-11-01T06:00:00Z", 1)]
    assert [(row["period"], row["conversations"]) for row in days["rows"]] == [
        ("2026-03-07", 1), ("2026-03-08", 2)]


@pytest.mark.parametrize(("params", "field"), [
    ({"from": "2026-03-09", "to": "2026-03-01"}, "from"),
    ({"from": "2026-02-30"}, "from"),
    ({"to": "yesterday"}, "to"),
    ({"team": "999999"}, "team"),
    ({"team": "abc"}, "team"),
    ({"group": "week"}, "group"),
    ({"from": "2026-01-01", "to": "2026-03-01", "group": "hour"}, "to"),
    ({"from": "2020-01-01", "to": "2026-03-01"}, "to"),
    ({"format": "xml"}, "format"),
    ({"from": "0001-01-01", "to": "0001-01-02"}, "to"),
    ({"from": "9999-12-30", "to": "9999-12-31"}, "to"),
    ({"team": ""}, "team"),
    ({"to": ""}, "to"),
    ({"group": ""}, "group"),
    ({"format": ""}, "format"),
])
def test_bad_questions_are_a_400_with_a_reason(params, field):
    client = client_for(SupervisorFactory())
    for path in ("teams", "agents", "ratings"):
        response = client.get(f"/api/v1/reports/{path}", params)
        assert response.status_code == 400, (path, response.content)
        body = response.json()
        assert body["detail"] and body["field"] == field, body


def test_who_may_read_reports():
    assert client_for(None).get("/api/v1/reports/teams").status_code == 401
    from tests.factories import IntegrationFactory

    assert client_for(IntegrationFactory()).get("/api/v1/reports/agents").status_code == 403


def test_the_report_costs_the_same_queries_for_a_day_or_a_month(django_assert_num_queries):
    from django.db import connection

    boss = SupervisorFactory()
    client = client_for(boss)
    teams = [TeamFactory(timezone=NY) for _ in range(3)] + [TeamFactory(timezone="UTC")]
    # The token and the teams, then each of the six families of figures: one grouping-sets
    # statement on PostgreSQL, the periods and the totals apart elsewhere.
    # PostgreSQL: a savepoint, its work_mem, the six, the release.
    queries = 2 + (3 + 6 if connection.vendor == "postgresql" else 12)
    with time_machine.travel(datetime(2026, 3, 5, 15, tzinfo=UTC), tick=False):
        for n, team in enumerate(teams):
            arrive(f"q{n}", team=team)
        with django_assert_num_queries(queries):
            month = client.get("/api/v1/reports/teams", {"from": "2026-02-01", "to": "2026-03-05"})
        with django_assert_num_queries(queries):
            hours = client.get("/api/v1/reports/teams", {"from": "2026-03-01", "to": "2026-03-05",
                                                         "group": "hour"})
    assert [total["conversations"] for total in month.json()["totals"]] == [1, 1, 1, 1]
    assert sum(row["conversations"] for row in hours.json()["rows"]) == 4
