"""GET stats/teams: who may read it, what each figure says (ages with a frozen clock), and
what it costs (constant queries however many teams)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from apps.accounts.models import Presence
from apps.routing import services as routing
from apps.teams.models import OpeningHours
from tests.api.conftest import client_for
from tests.factories import (
    AdminFactory,
    AgentFactory,
    ContactFactory,
    IntegrationFactory,
    RuleFactory,
    SupervisorFactory,
    TeamFactory,
    UserFactory,
)
from tests.helpers import arrive

pytestmark = pytest.mark.django_db

URL = "/api/v1/stats/teams"
START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday


def get_stats(client):
    response = client.get(URL)
    assert response.status_code == 200, response.content
    return response.json()


def team_row(payload, team):
    return next(row for row in payload["teams"] if row["id"] == team.pk)


@pytest.mark.parametrize(("who", "status"), [
    ("anonymous", 401), ("agent", 403), ("integration", 403), ("supervisor", 200),
    ("admin", 200),
])
def test_only_supervisors_and_admins_read_the_floor(who, status):
    principal = {
        "anonymous": lambda: None, "agent": AgentFactory, "integration": IntegrationFactory,
        "supervisor": SupervisorFactory, "admin": AdminFactory,
    }[who]()
    response = client_for(principal).get(URL)
    assert response.status_code == status
    if status != 200:
        assert response.json()["detail"]
        assert "teams" not in response.json()


def test_writing_to_it_is_refused_with_a_reason():
    client = client_for(SupervisorFactory())
    for method in ("post", "put", "patch", "delete"):
        response = getattr(client, method)(URL, {"teams": []}, format="json")
        assert response.status_code == 405
        assert response.json()["detail"]


def test_queue_waiting_agents_and_the_last_hour():
    with time_machine.travel(START, tick=False) as clock:
        ana = AgentFactory(username="ana", capacity=5)
        bia = AgentFactory(username="bia", presence=Presence.AWAY, capacity=3)
        caio = UserFactory(username="caio", presence=Presence.OFFLINE)
        gone = AgentFactory(username="gone", is_active=False)
        sales = TeamFactory(name="Sales", agents=[ana, bia, caio, gone],
                            answer_target_seconds=60)
        quiet = TeamFactory(name="Quiet", answer_target_seconds=30)
        first = arrive("wa:1", team=sales)
        second = arrive("wa:2", team=sales)
        clock.shift(30)
        routing.claim_conversation(conversation_id=first.pk, agent=ana)  # waited 30 s
        clock.shift(70)
        routing.claim_conversation(conversation_id=second.pk, agent=ana)  # waited 100 s
        arrive("wa:3", team=sales)  # stays queued
        arrive("wa:4")  # Waiting
        clock.shift(60)
        payload = get_stats(client_for(SupervisorFactory()))

    assert payload["at"] == "2026-03-02T12:02:40Z"
    assert payload["waiting"] == 1
    assert payload["oldest_waiting_seconds"] == 60
    assert payload["oldest_waiting_at"] == "2026-03-02T12:01:40Z"
    assert [row["name"] for row in payload["teams"]] == ["Quiet", "Sales"]
    row = team_row(payload, sales)
    assert {key: row[key] for key in (
        "name", "queued", "reserved", "assigned", "oldest_queued_seconds", "agents", "load",
        "capacity", "assigned_last_hour", "median_wait_seconds_last_hour",
        "answered_within_target_pct", "answer_target_seconds", "open_now", "opens_at",
    )} == {
        "name": "Sales", "queued": 1, "reserved": 0, "assigned": 2,
        "oldest_queued_seconds": 60,
        "agents": {"online": 1, "away": 1, "offline": 1},  # the inactive one is not counted
        "load": 2, "capacity": 5,  # all members hold 2; the online one has room for 5
        "assigned_last_hour": 2, "median_wait_seconds_last_hour": 65,
        "answered_within_target_pct": 50.0,  # 30 s within 60 s; 100 s not
        "answer_target_seconds": 60, "open_now": True, "opens_at": None,
    }
    assert team_row(payload, quiet) | {"id": None, "depth_last_hour": None} == {
        "id": None, "name": "Quiet", "queued": 0, "queued_by_step": [], "reserved": 0,
        "assigned": 0, "oldest_queued_seconds": None, "oldest_queued_at": None,
        "next_release_at": None,
        "agents": {"online": 0, "away": 0, "offline": 0}, "load": 0, "load_not_online": 0,
        "capacity": 0, "waiting_past_target": 0, "assigned_last_hour": 0,
        "median_wait_seconds_last_hour": None,
        "answered_within_target_pct": None, "answer_target_seconds": 30, "open_now": True,
        "opens_at": None, "depth_last_hour": None,
    }


def test_the_last_hour_forgets_older_assignments_and_closed_ones_still_count():
    with time_machine.travel(START, tick=False) as clock:
        ana = AgentFactory()
        team = TeamFactory(agents=[ana])
        early = arrive("wa:early", team=team)
        routing.claim_conversation(conversation_id=early.pk, agent=ana)
        clock.shift(timedelta(minutes=30))
        late = arrive("wa:late", team=team)
        clock.shift(20)
        routing.claim_conversation(conversation_id=late.pk, agent=ana)
        routing.close_conversation(conversation_id=late.pk, actor=ana)
        supervisor = client_for(SupervisorFactory())
        row = team_row(get_stats(supervisor), team)
        assert (row["assigned_last_hour"], row["median_wait_seconds_last_hour"],
                row["assigned"]) == (2, 10, 1)
        clock.shift(timedelta(minutes=31))  # the early one is over an hour ago
        row = team_row(get_stats(supervisor), team)
        assert (row["assigned_last_hour"], row["median_wait_seconds_last_hour"],
                row["answered_within_target_pct"]) == (1, 20, 100.0)
        clock.shift(timedelta(hours=1))
        row = team_row(get_stats(supervisor), team)
        assert (row["assigned_last_hour"], row["median_wait_seconds_last_hour"],
                row["answered_within_target_pct"]) == (0, None, None)


def test_a_hand_over_between_agents_is_not_an_answer_from_the_queue():
    with time_machine.travel(START, tick=False) as clock:
        ana, bia = AgentFactory(), AgentFactory()
        supervisor = SupervisorFactory()
        team = TeamFactory(agents=[ana, bia])
        conversation = arrive("wa:1", team=team)
        clock.shift(40)
        routing.claim_conversation(conversation_id=conversation.pk, agent=ana)
        client = client_for(supervisor)
        assert team_row(get_stats(client), team)["median_wait_seconds_last_hour"] == 40
        clock.shift(600)
        routing.transfer_conversation(conversation_id=conversation.pk, actor=ana,
                                      agent_id=bia.pk)
        row = team_row(get_stats(client), team)
        assert (row["assigned"], row["assigned_last_hour"]) == (1, 0)
        clock.shift(60)
        routing.assign_conversation(conversation_id=conversation.pk, agent_id=ana.pk,
                                    actor=supervisor)
        assert team_row(get_stats(client), team)["assigned_last_hour"] == 0
        # Sent back to the team's queue and taken again: that is an answer (5 s).
        routing.transfer_conversation(conversation_id=conversation.pk, actor=supervisor,
                                      team_id=team.pk)
        clock.shift(5)
        routing.claim_conversation(conversation_id=conversation.pk, agent=bia)
        row = team_row(get_stats(client), team)
        assert (row["assigned_last_hour"], row["median_wait_seconds_last_hour"]) == (1, 5)


def test_reserved_conversations_and_when_the_first_is_released():
    with time_machine.travel(START, tick=False):
        busy = AgentFactory(capacity=1)
        team = TeamFactory(agents=[busy])
        routing.claim_conversation(conversation_id=arrive("wa:0", team=team).pk, agent=busy)
        contact = ContactFactory(external_id="wa:fan")
        RuleFactory(contact=contact, agent=busy, type="auto", max_wait_seconds=120)
        reserved = arrive(contact=contact, team=team)
        assert reserved.status == "reserved"
        row = team_row(get_stats(client_for(SupervisorFactory())), team)
    assert (row["reserved"], row["queued"], row["next_release_at"]) == (
        1, 0, "2026-03-02T12:02:00Z")
    assert row["load"] == row["capacity"] == 1


def test_a_closed_team_says_when_it_opens():
    with time_machine.travel(START, tick=False):  # Monday 12:00 UTC
        team = TeamFactory(timezone="UTC")
        OpeningHours.objects.create(team=team, weekday=0, opens=14 * 60, closes=18 * 60)
        row = team_row(get_stats(client_for(SupervisorFactory())), team)
    assert (row["open_now"], row["opens_at"]) == (False, "2026-03-02T14:00:00Z")


def populate(teams: int):
    """``teams`` teams, each with members in every presence, a queue, an assignment in the
    last hour, hours, a closed date and snapshots."""
    from apps.floor.snapshots import record_snapshots

    for n in range(teams):
        online = AgentFactory()
        team = TeamFactory(agents=[online, AgentFactory(presence=Presence.AWAY),
                                   UserFactory()])
        OpeningHours.objects.create(team=team, weekday=0, opens=0, closes=24 * 60)
        team.closed_dates.create(date="2026-12-25")
        taken = arrive(f"wa:{teams}:{n}:a", team=team)
        routing.claim_conversation(conversation_id=taken.pk, agent=online)
        arrive(f"wa:{teams}:{n}:b", team=team)
    arrive(f"wa:{teams}:waiting")
    record_snapshots()


@pytest.mark.parametrize("teams", [1, 5])
def test_queries_do_not_grow_with_teams(teams, django_assert_num_queries):
    populate(teams)
    client = client_for(SupervisorFactory())
    client.get(URL)  # warm: the first request records a heartbeat
    # The token (1); teams, their hours, their closed dates; conversations by team and
    # status; members by team and presence; the last hour's waits; the snapshots.
    with django_assert_num_queries(8):
        payload = get_stats(client)
    assert len(payload["teams"]) == teams
    assert all(row["queued"] == 1 and row["assigned_last_hour"] == 1
               and len(row["depth_last_hour"]) == 1 for row in payload["teams"])
    assert payload["waiting"] == 1


def test_customers_still_waiting_past_the_target_count_against_it():
    """One customer taken within the minute and three still queued after three minutes:
    the floor does not say 100% (issue 18)."""
    with time_machine.travel(START, tick=False) as clock:
        ana = AgentFactory()
        team = TeamFactory(agents=[ana], answer_target_seconds=60)
        other = TeamFactory(answer_target_seconds=600)
        taken = arrive("wa:taken", team=team)
        clock.shift(10)
        routing.claim_conversation(conversation_id=taken.pk, agent=ana)
        for n in range(3):
            arrive(f"wa:late-{n}", team=team)
            arrive(f"wa:patient-{n}", team=other)  # 180 s of its 600 s target
        clock.shift(100)
        arrive("wa:fresh", team=team)  # 30 s: within the target still
        clock.shift(30)
        payload = get_stats(client_for(SupervisorFactory()))
    row = team_row(payload, team)
    assert (row["queued"], row["waiting_past_target"], row["assigned_last_hour"]) == (4, 3, 1)
    assert row["answered_within_target_pct"] == 25.0  # 1 within of 1 taken + 3 past it
    calm = team_row(payload, other)
    assert (calm["waiting_past_target"], calm["answered_within_target_pct"]) == (0, None)


def test_load_counts_conversations_held_by_members_who_went_away_or_offline():
    """Two conversations being answered by agents no longer online: the load is not 0/0."""
    ana, bia = AgentFactory(capacity=5), AgentFactory(capacity=3)
    cai = AgentFactory(capacity=4)
    team = TeamFactory(agents=[ana, bia, cai], distribution_mode="manual")
    for agent in (ana, bia):
        conversation = arrive(f"wa:{agent.username}", team=team)
        routing.claim_conversation(conversation_id=conversation.pk, agent=agent)
    routing.set_presence(agent=ana, status=Presence.AWAY)
    routing.set_presence(agent=bia, status=Presence.OFFLINE)
    row = team_row(get_stats(client_for(SupervisorFactory())), team)
    assert (row["assigned"], row["load"], row["load_not_online"], row["capacity"]) == (
        2, 2, 2, 4)
