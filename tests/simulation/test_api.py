"""api.md "Simulations, exactly": POST simulations/ answers 202 and runs on a worker (here
eagerly, so the answer is done); GET simulations/{id} gives the baseline and the scenario
side by side. Supervisors only; every bad input is a 400 that records nothing."""

import pytest
from rest_framework.test import APIClient

from apps.simulation.models import SimulationRun
from apps.teams.models import DistributionMode, Team
from tests.factories import AgentFactory, SupervisorFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor_api():
    client = APIClient()
    client.force_authenticate(SupervisorFactory())
    return client


@pytest.fixture
def team():
    return TeamFactory(name="Suporte", distribution_mode=DistributionMode.CAPACITY)


def synthetic(team, **entry):
    return {"synthetic": {"seconds": 28800, "teams": [{
        "team": team.pk, "arrivals_per_hour": 60,
        "handle_seconds": {"distribution": "exponential", "mean": 300}, **entry}]}}


def roster(team, agents=3, capacity=1, **extra):
    return {"agents": [{"name": f"a{n}", "teams": [team.pk], "capacity": capacity,
                        "online": [[0, 28800]], **extra} for n in range(agents)]}


def run(client, body):
    answer = client.post("/api/v1/simulations/", body, format="json")
    assert answer.status_code == 202, answer.json()
    assert set(answer.json()) >= {"id", "status", "progress"}
    got = client.get(f"/api/v1/simulations/{answer.json()['id']}")
    assert got.status_code == 200
    return got.json()


def test_the_answer_has_the_figures_of_both_configurations(supervisor_api, team):
    body = {"traffic": synthetic(team), "roster": roster(team),
            "scenario": {"agents": {"a0": {"capacity": 2}}}, "seed": 7}
    result = run(supervisor_api, body)
    assert result["status"] == "done" and result["progress"] == 1
    for side in ("baseline", "scenario"):
        figures = result[side]["overall"]
        assert set(figures) >= {
            "conversations", "served", "abandoned", "waited_share", "wait_mean", "wait_p50",
            "wait_p90", "wait_p95", "within_target_pct", "by_step"}
        assert [t["team"] for t in result[side]["teams"]] == [team.pk]
        assert {a["name"] for a in result[side]["agents"]} == {"a0", "a1", "a2"}
        assert {"served", "occupancy"} <= set(result[side]["agents"][0])
    # The same traffic both times (one seed); more room waits less.
    assert result["baseline"]["overall"]["conversations"] == (
        result["scenario"]["overall"]["conversations"])
    assert result["scenario"]["overall"]["wait_mean"] < result["baseline"]["overall"]["wait_mean"]
    # Reproducible: the same request, the same figures.
    assert run(supervisor_api, body)["baseline"] == result["baseline"]


def test_the_request_is_stored_as_sent_and_runs_again(supervisor_api, team):
    body = {"traffic": synthetic(team, requirements=[{"skill": "english", "min_level": 2}]),
            "roster": roster(team, skills=[{"skill": "english", "level": 3}]), "seed": 2}
    result = run(supervisor_api, body)
    assert result["status"] == "done", result
    assert SimulationRun.objects.get().request == body


def test_customers_who_run_out_of_patience_are_abandoned(supervisor_api, team):
    body = {"traffic": synthetic(team, arrivals_per_hour=120,
                                 patience_seconds={"distribution": "fixed", "value": 60}),
            "roster": roster(team, agents=2), "scenario": {}, "seed": 3}
    overall = run(supervisor_api, body)["baseline"]["overall"]
    assert overall["abandoned"] > 0
    assert overall["served"] + overall["abandoned"] + overall["unserved"] == (
        overall["conversations"])
    assert overall["wait_p95"] <= 60  # nobody served waited past their patience


def test_a_manual_team_is_claimed_after_the_pick_up_delay(supervisor_api, team):
    manual = TeamFactory(name="Balcão", distribution_mode=DistributionMode.MANUAL)
    body = {"traffic": synthetic(manual, arrivals_per_hour=10,
                                 handle_seconds={"distribution": "fixed", "value": 10}),
            "roster": roster(manual, agents=2, capacity=3), "pick_up_seconds": 45, "seed": 1,
            "scenario": {"teams": {str(manual.pk): {"distribution_mode": "capacity"}}}}
    result = run(supervisor_api, body)
    assert result["baseline"]["overall"]["wait_p50"] == 45  # nobody busy: the delay alone
    assert result["scenario"]["overall"]["wait_p50"] == 0  # distributed at once


def test_nothing_live_changes(supervisor_api, team):
    member = AgentFactory(capacity=3)
    team.memberships.create(agent=member)
    body = {"traffic": synthetic(team), "seed": 1, "scenario": {
        "teams": {str(team.pk): {"distribution_mode": "manual", "members": []}},
        "agents": {str(member.pk): {"capacity": 9}}}}
    result = run(supervisor_api, body)
    assert [a["name"] for a in result["baseline"]["agents"]] == [member.display_name]
    assert result["scenario"]["overall"]["served"] == 0  # nobody left in the team
    team.refresh_from_db()
    member.refresh_from_db()
    assert team.distribution_mode == DistributionMode.CAPACITY and member.capacity == 3
    assert list(team.members.all()) == [member]


@pytest.mark.parametrize("body", [
    {},
    [],
    {"traffic": {"synthetic": {"seconds": 100, "teams": [{"team": 999999,
                 "arrivals_per_hour": 1, "handle_seconds": {"distribution": "fixed",
                 "value": 1}}]}}},
    {"traffic": {"synthetic": {"seconds": -1, "teams": []}}},
    {"traffic": {"history": {"from": "2026-13-01", "to": "2026-12-01"}}},
    {"traffic": {"history": {"from": "2026-12-08", "to": "2026-12-01"}}},
    {"traffic": {"nonsense": {}}},
    {"seed": "x", "traffic": {"csv": "at,team,handle_seconds\n"}},
    {"traffic": {"csv": "at,handle_seconds\n1,2\n"}},
    {"traffic": {"csv": "at,team,handle_seconds\nsoon,1,2\n"}},
])
def test_bad_requests_are_refused_and_record_nothing(supervisor_api, body):
    answer = supervisor_api.post("/api/v1/simulations/", body, format="json")
    assert answer.status_code == 400
    assert answer.json()["detail"]
    assert not SimulationRun.objects.exists()


@pytest.mark.parametrize("scenario", [
    {"teams": {"999999": {"distribution_mode": "capacity"}}},
    {"teams": {"TEAM": {"distribution_mode": "random"}}},
    {"teams": {"TEAM": {"colour": "blue"}}},
    {"agents": {"a0": {"capacity": -1}}},
    {"agents": {"stranger": {"capacity": 2}}},
    {"agents": {"a0": {"online": [[10, 5]]}}},
    {"other": 1},
])
def test_bad_scenarios_are_refused(supervisor_api, team, scenario):
    scenario = {key: {k.replace("TEAM", str(team.pk)): v for k, v in value.items()}
                if isinstance(value, dict) else value for key, value in scenario.items()}
    body = {"traffic": synthetic(team), "roster": roster(team), "scenario": scenario}
    answer = supervisor_api.post("/api/v1/simulations/", body, format="json")
    assert answer.status_code == 400, answer.json()
    assert not SimulationRun.objects.exists()


def test_only_supervisors_simulate(team):
    client = APIClient()
    assert client.post("/api/v1/simulations/", {}, format="json").status_code == 401
    client.force_authenticate(AgentFactory())
    assert client.post("/api/v1/simulations/", {"traffic": synthetic(team)},
                       format="json").status_code == 403
    run_row = SimulationRun.objects.create(request={})
    assert client.get(f"/api/v1/simulations/{run_row.pk}").status_code == 403


def test_an_unknown_simulation_is_a_404(supervisor_api):
    answer = supervisor_api.get("/api/v1/simulations/123456")
    assert answer.status_code == 404 and answer.json()["detail"]
    assert Team.objects.count() == 0
