"""Trust (routing.md 10.6): a capacity team with one conversation per agent, Poisson
arrivals and exponential handle times reproduces Erlang C (M/M/N), for several loads.
Tolerances (docs/simulation.md): probability of waiting within 0.03, mean wait within 15%
of the formula, over 60,000 simulated conversations per case."""

import math

import pytest

from apps.simulation import traffic
from apps.simulation.engine import Simulator
from apps.simulation.figures import summarise
from apps.simulation.world import AgentSetup, Setup, TeamSetup
from apps.teams.models import DistributionMode

CONVERSATIONS = 60_000
HANDLE = 180.0


def erlang_c(load: float, agents: int) -> tuple[float, float]:
    """(probability of waiting, mean wait in handle times) of M/M/N with offered ``load``
    in Erlangs: C = (A^N/N! * N/(N-A)) / (sum_{k<N} A^k/k! + A^N/N! * N/(N-A)); mean wait
    = C / (N - A) handle times."""
    top = load**agents / math.factorial(agents) * agents / (agents - load)
    bottom = sum(load**k / math.factorial(k) for k in range(agents)) + top
    waiting = top / bottom
    return waiting, waiting / (agents - load)


def test_the_formula_matches_the_published_example():
    # references.md: 10 Erlangs, 14 agents: P(wait) 0.174, mean wait about 7.8 s at 180 s.
    waiting, mean = erlang_c(10, 14)
    assert waiting == pytest.approx(0.174, abs=0.001)
    assert mean * HANDLE == pytest.approx(7.8, abs=0.1)


@pytest.mark.parametrize(("load", "agents"), [(10, 14), (8, 10), (4, 5), (20, 23)])
def test_a_capacity_team_reproduces_erlang_c(load, agents):
    per_hour = load * 3600 / HANDLE
    seconds = CONVERSATIONS / per_hour * 3600
    _seconds, arrivals = traffic.synthetic(
        {"seconds": seconds, "teams": [{
            "team": 1, "arrivals_per_hour": per_hour,
            "handle_seconds": {"distribution": "exponential", "mean": HANDLE},
        }]},
        seed=load * 100 + agents,
    )
    roster = [AgentSetup(n, f"a{n}", 1, {1}, online=[(0.0, seconds * 2)])
              for n in range(1, agents + 1)]
    setup = Setup({1: TeamSetup(1, "Erlang", DistributionMode.CAPACITY)}, roster, seconds)
    result = summarise(Simulator(setup, arrivals).run())["overall"]

    waiting, mean = erlang_c(load, agents)
    assert result["served"] == len(arrivals)
    assert result["waited_share"] == pytest.approx(waiting, abs=0.03)
    assert result["wait_mean"] == pytest.approx(mean * HANDLE, rel=0.15)
