"""Properties (hypothesis) of the automatic rule's decision and of the simulator over any
small day: every conversation ends in exactly one place, waits are never negative, nobody
who waited was served after giving up, automatic distribution and claims never take an
agent past their limit (only sequential rotation ignores load, as live), and a capacity
team never has a queue while an online member has room."""

from hypothesis import given, settings
from hypothesis import strategies as st

from apps.routing.decisions import Candidate, RuleOutcome, decide_auto_rule
from apps.simulation.engine import Simulator
from apps.simulation.figures import summarise
from apps.simulation.state import GONE
from apps.simulation.world import AgentSetup, Arrival, Setup, TeamSetup
from apps.teams.models import DistributionMode


@given(capacity=st.integers(0, 5), load=st.integers(0, 8), online=st.booleans(),
       wait=st.none() | st.integers(0, 600))
def test_an_automatic_rule_assigns_only_with_room_and_reserves_only_if_it_may_wait(
    capacity, load, online, wait
):
    decision = decide_auto_rule(Candidate(1, "Ana", capacity, load), online=online,
                                wait_limit=wait)
    if not online:
        assert decision == RuleOutcome.NOT_ONLINE
    elif load < capacity:
        assert decision == RuleOutcome.ASSIGN
    else:
        assert decision == (RuleOutcome.BUSY_NO_WAIT if wait == 0 else RuleOutcome.RESERVE)


class Watched(Simulator):
    """The simulator, noting the highest load over capacity any agent reached and whether,
    after any event, a capacity team had a queue while one of its online members had room
    (routing.md section 7, invariant 4)."""

    over = 0
    idle_while_queued = False

    def _set_load(self, agent, t, load):
        super()._set_load(agent, t, load)
        self.over = max(self.over, load - agent.capacity)

    def handlers(self):
        def checked(handler):
            def run(t, obj, extra):
                handler(t, obj, extra)
                for team in self.teams.values():
                    if team.mode == DistributionMode.CAPACITY and team.queued and any(
                        c.free > 0 for c in team.online.values()
                    ):
                        self.idle_while_queued = True
            return run

        return {kind: checked(handler) for kind, handler in super().handlers().items()}


modes = st.sampled_from([DistributionMode.CAPACITY, DistributionMode.MANUAL])
spans = st.lists(st.tuples(st.integers(0, 900), st.integers(1, 600)), max_size=3)
day = st.fixed_dictionaries({
    "modes": st.lists(modes, min_size=1, max_size=2),
    "agents": st.lists(st.tuples(st.integers(1, 3), st.sets(st.integers(0, 1), min_size=1),
                                 spans), min_size=1, max_size=4),
    "arrivals": st.lists(st.tuples(st.integers(0, 1000), st.integers(0, 1),
                                   st.integers(1, 400), st.none() | st.integers(0, 300)),
                         max_size=30),
})


@settings(max_examples=60, deadline=None)
@given(day)
def test_any_small_day_keeps_the_invariants(day):
    teams = {n + 1: TeamSetup(n + 1, f"T{n}", mode, pick_up_seconds=20)
             for n, mode in enumerate(day["modes"])}
    agents = [
        AgentSetup(n + 1, f"a{n}", capacity, {t + 1 for t in member if t + 1 in teams},
                   online=[(float(s), float(s + length)) for s, length in online])
        for n, (capacity, member, online) in enumerate(day["agents"])
    ]
    for agent in agents:  # overlapping spans are one stretch, as the roster reads them
        merged = []
        for start, end in sorted(agent.online):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        agent.online = merged
    arrivals = sorted(
        (Arrival(float(at), min(team + 1, len(teams)), float(handle),
                 None if patience is None else float(patience))
         for at, team, handle, patience in day["arrivals"]),
        key=lambda a: a.at,
    )
    sim = Watched(Setup(teams, agents, 1200.0), arrivals).run()
    overall = summarise(sim)["overall"]
    assert overall["served"] + overall["abandoned"] + overall["unserved"] == len(arrivals)
    assert sim.over <= 0
    assert not sim.idle_while_queued
    for conv in sim.convs:
        assert conv.wait is None or conv.wait >= 0
        if conv.a.patience is not None and conv.wait is not None:
            assert conv.wait <= conv.a.patience
        assert (conv.status == GONE) <= (conv.wait is None)
