"""The time rules through the API (api.md "Added for time, visibility and operations"):
configuration with plain validation, the conversation's deadlines and place in the queue,
the inbound answer and ``conversations/{id}/queue``."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from apps.organizations.models import PreferentialRule, RuleType
from apps.teams.models import ClosedDate, DistributionMode, OpeningHours, RoutingSettings, Team
from tests.api.conftest import client_for
from tests.factories import (
    AdminFactory,
    AgentFactory,
    ContactFactory,
    IntegrationFactory,
    RuleFactory,
    TeamFactory,
)

pytestmark = pytest.mark.django_db

V1 = "/api/v1/"
# Monday 2 March 2026, 14:00 in São Paulo (UTC-3).
MONDAY_AFTERNOON = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
WEEKDAYS_9_TO_18 = [{"weekday": d, "opens": "09:00", "closes": "18:00"} for d in range(5)]


@pytest.fixture
def admin():
    return client_for(AdminFactory())


def team_rows(team_id):
    """Everything about a team a refused request must leave as it was."""
    return (
        list(Team.objects.filter(pk=team_id).values()),
        list(OpeningHours.objects.filter(team_id=team_id).values_list("weekday", "opens",
                                                                       "closes")),
        list(ClosedDate.objects.filter(team_id=team_id).values_list("date", flat=True)),
    )


def test_a_team_with_every_time_rule(admin):
    night = TeamFactory(name="Plantão")
    with time_machine.travel(MONDAY_AFTERNOON, tick=False):
        created = admin.post(f"{V1}teams/", {
            "name": "Suporte", "distribution_mode": "capacity", "first_reply_seconds": 180,
            "offline_requeue_seconds": 900, "timezone": "America/Sao_Paulo",
            "business_hours": [*WEEKDAYS_9_TO_18, {"weekday": 5, "opens": "09:00",
                                                   "closes": "13:00"}],
            "closed_dates": ["2026-12-25", "2026-01-01"], "after_hours_team": night.pk,
        }, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert {k: body[k] for k in ("first_reply_seconds", "offline_requeue_seconds", "timezone",
                                 "closed_dates", "after_hours_team", "open_now", "opens_at",
                                 "closes_at")} == {
        "first_reply_seconds": 180, "offline_requeue_seconds": 900,
        "timezone": "America/Sao_Paulo", "closed_dates": ["2026-01-01", "2026-12-25"],
        "after_hours_team": night.pk, "open_now": True, "opens_at": None,
        "closes_at": "2026-03-02T21:00:00Z",  # 18:00 in São Paulo
    }
    assert body["business_hours"][-1] == {"weekday": 5, "opens": "09:00", "closes": "13:00"}
    listed = {t["name"]: t for t in admin.get(f"{V1}teams/").json()}["Suporte"]
    assert listed["business_hours"] == body["business_hours"]
    patched = admin.patch(f"{V1}teams/{body['id']}/", {
        "business_hours": [], "closed_dates": [], "first_reply_seconds": None,
    }, format="json").json()
    assert (patched["business_hours"], patched["closed_dates"]) == ([], [])
    assert patched["first_reply_seconds"] is None and patched["open_now"] is True
    assert patched["timezone"] == "America/Sao_Paulo"  # untouched


def test_a_new_team_is_always_open_in_the_servers_zone(admin):
    body = admin.post(f"{V1}teams/", {"name": "Vendas"}, format="json").json()
    assert (body["timezone"], body["business_hours"], body["open_now"]) == ("UTC", [], True)
    assert body["first_reply_seconds"] is None and body["offline_requeue_seconds"] is None


BAD_TEAMS = [
    ({"timezone": "Mars/Olympus_Mons"}, "timezone", "not a time zone"),
    ({"timezone": ""}, "timezone", "Give a time zone"),
    ({"business_hours": [{"weekday": 0, "opens": "18:00", "closes": "09:00"}]},
     "business_hours", "closes before it opens"),
    ({"business_hours": [{"weekday": 0, "opens": "09:00", "closes": "09:00"}]},
     "business_hours", "closes before it opens"),
    ({"business_hours": [{"weekday": 0, "opens": "25:00", "closes": "26:00"}]},
     "business_hours", "not a time of day"),
    ({"business_hours": [{"weekday": 0, "opens": "24:00", "closes": "24:00"}]},
     "business_hours", "not a time of day"),
    ({"business_hours": [{"weekday": 0, "opens": "9h", "closes": "18:00"}]},
     "business_hours", "HH:MM"),
    ({"business_hours": [{"weekday": 7, "opens": "09:00", "closes": "18:00"}]},
     "business_hours", "weekday"),
    ({"business_hours": [{"weekday": 0, "opens": "09:00", "closes": "13:00"},
                         {"weekday": 0, "opens": "12:00", "closes": "18:00"}]},
     "business_hours", "overlap"),
    ({"business_hours": [{"weekday": "0", "opens": "09:00", "closes": "18:00"}]},
     "business_hours", "integer"),
    ({"closed_dates": ["25/12/2026"]}, "closed_dates", "Date has wrong format"),
    ({"first_reply_seconds": -5}, "first_reply_seconds", "at least 1"),
    ({"first_reply_seconds": 0}, "first_reply_seconds", "at least 1"),
    ({"offline_requeue_seconds": "600"}, "offline_requeue_seconds", "integer"),
    ({"offline_requeue_seconds": 10**9}, "offline_requeue_seconds", "30 days"),
]


@pytest.mark.parametrize(("change", "field", "words"), BAD_TEAMS,
                         ids=[f"{f}-{i}" for i, (_c, f, _w) in enumerate(BAD_TEAMS)])
def test_bad_time_rules_are_refused_in_words_and_change_nothing(admin, change, field, words):
    team = TeamFactory(name="Suporte")
    OpeningHours.objects.create(team=team, weekday=0, opens=480, closes=1080)
    before = team_rows(team.pk)
    response = admin.patch(f"{V1}teams/{team.pk}/", {"name": "Renamed", **change},
                           format="json")
    assert response.status_code == 400
    body = response.json()
    assert field in body and words in body["detail"]
    assert team_rows(team.pk) == before
    assert admin.post(f"{V1}teams/", {"name": "New", **change},
                      format="json").status_code == 400
    assert not Team.objects.filter(name="New").exists()


def test_a_team_is_not_its_own_after_hours_team(admin):
    team = TeamFactory()
    response = admin.patch(f"{V1}teams/{team.pk}/", {"after_hours_team": team.pk},
                           format="json")
    assert response.status_code == 400 and "own after-hours" in response.json()["detail"]


def test_routing_settings_wait_limit(admin):
    team = TeamFactory()
    admin.put(f"{V1}routing-settings", {"default_team": team.pk}, format="json")
    assert admin.put(f"{V1}routing-settings", {"preferred_max_wait_seconds": 60},
                     format="json").json() == {"default_team": team.pk,
                                               "preferred_max_wait_seconds": 60}
    refused = admin.put(f"{V1}routing-settings", {"preferred_max_wait_seconds": -1},
                        format="json")
    assert refused.status_code == 400 and "cannot be negative" in refused.json()["detail"]
    assert RoutingSettings.load().preferred_max_wait_seconds == 60
    assert admin.put(f"{V1}routing-settings", {"preferred_max_wait_seconds": None},
                     format="json").json()["preferred_max_wait_seconds"] is None


def test_a_rules_own_wait_limit(admin):
    contact = ContactFactory()
    agent = AgentFactory()
    created = admin.post(f"{V1}preferential-rules/", {
        "contact": contact.pk, "agent": agent.pk, "type": "auto", "max_wait_seconds": 120,
    }, format="json")
    assert created.status_code == 201 and created.json()["max_wait_seconds"] == 120
    url = f"{V1}preferential-rules/{created.json()['id']}/"
    for bad, words in ((-1, "cannot be negative"), ("120", "integer"), (1.5, "integer")):
        refused = admin.patch(url, {"max_wait_seconds": bad}, format="json")
        assert refused.status_code == 400 and words in refused.json()["detail"], refused.json()
    assert PreferentialRule.objects.get().max_wait_seconds == 120
    assert admin.patch(url, {"max_wait_seconds": None}, format="json").json()[
        "max_wait_seconds"] is None


# --------------------------------------------------------------------------- what a bot is told


@pytest.fixture
def business_team():
    team = TeamFactory(name="Suporte", distribution_mode=DistributionMode.CAPACITY)
    team.timezone = "America/Sao_Paulo"
    team.save()
    for weekday in range(5):
        OpeningHours.objects.create(team=team, weekday=weekday, opens=540, closes=1080)
    ClosedDate.objects.create(team=team, date=datetime(2026, 3, 3).date())
    return team


def inbound(client, external_id, team=None):
    body = {"contact": {"external_id": external_id}, "body": "Oi"}
    if team is not None:
        body["team"] = team.pk
    return client.post(f"{V1}inbound", body, format="json")


def test_the_inbound_answer_says_whether_the_team_is_open(business_team):
    bot = client_for(IntegrationFactory())
    with time_machine.travel(MONDAY_AFTERNOON, tick=False):
        open_answer = inbound(bot, "wa:1", business_team).json()
    assert (open_answer["team_open"], open_answer["team_opens_at"]) == (True, None)
    # Monday 19:00 in São Paulo; Tuesday is a closed date: it opens Wednesday 09:00.
    with time_machine.travel(MONDAY_AFTERNOON + timedelta(hours=5), tick=False):
        closed = inbound(bot, "wa:2", business_team)
        appended = inbound(bot, "wa:2", business_team)
    assert closed.status_code == 201 and appended.status_code == 200
    for answer in (closed.json(), appended.json()):
        assert (answer["team_open"], answer["team_opens_at"]) == (False, "2026-03-04T12:00:00Z")
        assert answer["status"] == "queued" and answer["team"] == business_team.pk  # it queues
        assert answer["queue"] == {"position": 2, "estimated_wait_seconds": None}
    waiting = inbound(bot, "wa:3").json()
    assert (waiting["team_open"], waiting["team_opens_at"]) == (True, None)
    assert waiting["queue"] == {"position": 1, "estimated_wait_seconds": None}


def test_a_closed_team_sends_new_conversations_to_its_after_hours_team(business_team, admin):
    night = TeamFactory(name="Plantão")
    business_team.after_hours_team = night
    business_team.save()
    bot = client_for(IntegrationFactory())
    with time_machine.travel(MONDAY_AFTERNOON + timedelta(hours=5), tick=False):
        answer = inbound(bot, "wa:night", business_team).json()
    assert answer["team"] == night.pk
    assert (answer["team_open"], answer["team_opens_at"]) == (True, None)  # Plantão is open
    events = admin.get(f"{V1}conversations/{answer['id']}/events").json()
    assert events[0]["reason"].startswith(
        "No preferential rule applies. The bot chose team Suporte. Team Suporte is closed "
        "(it opens 2026-03-04 09:00 (America/Sao_Paulo)): its "
        "after-hours team Plantão takes new conversations."
    )
    with time_machine.travel(MONDAY_AFTERNOON, tick=False):
        assert inbound(bot, "wa:day", business_team).json()["team"] == business_team.pk


def test_a_bot_asks_where_its_customer_stands(business_team):
    bot = IntegrationFactory()
    other_bot = IntegrationFactory()
    agent = AgentFactory(capacity=1)
    business_team.memberships.create(agent=agent)
    client = client_for(bot)
    with time_machine.travel(MONDAY_AFTERNOON, tick=False):
        first = inbound(client, "wa:a", business_team).json()  # straight to the agent
        second = inbound(client, "wa:b", business_team).json()
        third = inbound(client, "wa:c", business_team).json()
        answers = [client.get(f"{V1}conversations/{c['id']}/queue") for c in (first, second,
                                                                               third)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assigned, queued_1, queued_2 = (a.json() for a in answers)
    assert assigned == {"status": "assigned", "position": None, "estimated_wait_seconds": None,
                        "team_open": True, "team_opens_at": None, "reserved_until": None}
    assert (queued_1["position"], queued_2["position"]) == (1, 2)
    assert 0 < queued_1["estimated_wait_seconds"] < queued_2["estimated_wait_seconds"]
    assert client_for(other_bot).get(f"{V1}conversations/{second['id']}/queue").status_code == 404
    assert client_for(AgentFactory()).get(
        f"{V1}conversations/{second['id']}/queue").status_code == 404  # not their team
    assert client_for(agent).get(f"{V1}conversations/{second['id']}/queue").status_code == 200


def test_the_conversation_object_carries_its_deadlines_and_place(admin):
    diego = AgentFactory(capacity=0)
    team = TeamFactory(distribution_mode=DistributionMode.CAPACITY)
    team.first_reply_seconds = 60
    team.save()
    ana = AgentFactory(capacity=1)
    team.memberships.create(agent=ana)
    contact = ContactFactory(external_id="wa:carla")
    RuleFactory(contact=contact, agent=diego, type=RuleType.AUTO, max_wait_seconds=90)
    bot = client_for(IntegrationFactory())
    with time_machine.travel(MONDAY_AFTERNOON, tick=False):
        reserved = inbound(bot, "wa:carla", team).json()
        assigned = inbound(bot, "wa:other", team).json()
        queued = inbound(bot, "wa:third", team).json()
    assert (reserved["status"], reserved["reserved_until"]) == ("reserved",
                                                                "2026-03-02T17:01:30Z")
    assert reserved["queue"] is None and reserved["reply_due_at"] is None
    assert (assigned["status"], assigned["reply_due_at"]) == ("assigned", "2026-03-02T17:01:00Z")
    assert queued["queue"] == {"position": 1, "estimated_wait_seconds": 300}
    listed = {c["id"]: c for c in admin.get(f"{V1}conversations/").json()["results"]}
    for conversation in (reserved, assigned, queued):
        shown = listed[conversation["id"]]
        for field in ("reserved_until", "reply_due_at", "queue"):
            assert shown[field] == conversation[field], field
    detail = admin.get(f"{V1}conversations/{queued['id']}/").json()
    assert detail["queue"]["position"] == 1
