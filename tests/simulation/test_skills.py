"""Skills in the simulator (routing.md section 9): requirements filter the candidates, a
ladder that drops them and overflows to another team after two minutes serves the waiting
conversations at its later steps (counted in ``by_step``), and the last agent first."""

import pytest
from rest_framework.test import APIClient

from apps.simulation.figures import summarise
from apps.simulation.skilled import SkilledSimulator
from apps.simulation.world import AgentSetup, Arrival, Setup, TeamSetup
from apps.skills.models import Skill
from apps.teams.models import DistributionMode
from tests.factories import SupervisorFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor_api():
    client = APIClient()
    client.force_authenticate(SupervisorFactory())
    return client


def test_a_ladder_that_drops_and_overflows_serves_at_its_later_steps(supervisor_api):
    billing = TeamFactory(name="Cobrança", distribution_mode=DistributionMode.CAPACITY)
    suporte = TeamFactory(name="Suporte", distribution_mode=DistributionMode.CAPACITY)
    skill = Skill.objects.create(name="billing")
    roster = {"agents": [
        *[{"name": f"b{n}", "teams": [billing.pk], "capacity": 1,
           "skills": [{"skill": "billing", "level": 3}]} for n in range(2)],
        *[{"name": f"s{n}", "teams": [suporte.pk], "capacity": 2} for n in range(3)],
        {"name": "novice", "teams": [billing.pk], "capacity": 2,
         "skills": [{"skill": "billing", "level": 1}]},
    ]}
    body = {
        "traffic": {"synthetic": {"seconds": 14400, "teams": [{
            "team": billing.pk, "arrivals_per_hour": 40,
            "handle_seconds": {"distribution": "exponential", "mean": 300},
            "requirements": [{"skill": "billing", "min_level": 3}]}]}},
        "roster": roster,
        "scenario": {"teams": {str(billing.pk): {"ladder": [
            {"after_seconds": 60, "action": "lower", "skills": [skill.pk], "by": 2},
            {"after_seconds": 120, "action": "drop", "skills": None},
            {"after_seconds": 120, "action": "overflow", "team": suporte.pk},
        ]}}},
        "seed": 4,
    }
    answer = supervisor_api.post("/api/v1/simulations/", body, format="json")
    assert answer.status_code == 202, answer.json()
    result = supervisor_api.get(f"/api/v1/simulations/{answer.json()['id']}").json()
    assert result["status"] == "done", result
    baseline, scenario = result["baseline"], result["scenario"]
    # Without a ladder only the two billing agents serve: the novice never does.
    novice = {a["name"]: a for a in baseline["agents"]}.get("novice", {"served": 0})
    assert novice["served"] == 0
    assert baseline["overall"]["by_step"] == [baseline["overall"]["served"]]
    # With it, the novice serves after a minute and Suporte after two.
    steps = scenario["overall"]["by_step"]
    assert len(steps) == 4 and steps[1] > 0 and steps[3] > 0
    assert {a["name"]: a for a in scenario["agents"]}["s0"]["served"] > 0
    assert scenario["overall"]["wait_p90"] < baseline["overall"]["wait_p90"]


def test_a_skill_of_the_copy_only_and_a_bad_ladder(supervisor_api):
    team = TeamFactory(distribution_mode=DistributionMode.CAPACITY)
    traffic = {"synthetic": {"seconds": 3600, "teams": [{
        "team": team.pk, "arrivals_per_hour": 10,
        "handle_seconds": {"distribution": "fixed", "value": 60},
        "requirements": ["klingon"]}]}}
    roster = {"agents": [{"name": "a", "teams": [team.pk], "capacity": 2}]}
    body = {"traffic": traffic, "roster": roster, "scenario": {"agents": {"a": {
        "skills": [{"skill": "klingon", "level": 1}]}}}}
    result = supervisor_api.post("/api/v1/simulations/", body, format="json").json()
    # Nobody speaks Klingon today; in the scenario the agent learned it.
    assert result["baseline"]["overall"]["served"] == 0
    assert result["scenario"]["overall"]["served"] == result["scenario"]["overall"][
        "conversations"] > 0
    body["scenario"] = {"agents": {"a": {"skills": [{"skill": 999999, "level": 1}]}}}
    answer = supervisor_api.post("/api/v1/simulations/", body, format="json")
    assert answer.status_code == 400 and "999999" in answer.json()["detail"]
    answer = supervisor_api.post("/api/v1/simulations/", {"traffic": traffic, "scenario": {
        "teams": {str(team.pk): {"ladder": [{"after_seconds": -1, "action": "drop"}]}}}},
        format="json")
    assert answer.status_code == 400 and answer.json()["detail"]


def test_the_last_agent_first():
    team = TeamSetup(1, "Suporte", DistributionMode.SEQUENTIAL, sticky_days=1)
    agents = [AgentSetup(n, f"a{n}", 5, {1}, online=[(0.0, 1000.0)]) for n in (1, 2, 3)]
    # One contact writes four times; rotation alone would spread them over three agents.
    arrivals = [Arrival(float(at), 1, 10.0, contact=77) for at in (0, 100, 200, 300)]
    for sticky, expected in ((1, 1), (None, 3)):
        team.sticky_days = sticky
        sim = SkilledSimulator(Setup({1: team}, agents, 1000.0), arrivals).run()
        assert len({agent for _n, agent in sim.assignments}) == expected
        assert summarise(sim)["overall"]["served"] == 4
