"""A supervisor's "Distribuir" (routing.md section 3): by the team's rule, on demand, and
never past anyone's capacity limit in any mode; what does not fit stays queued, and the
answer says how many went to whom and how many stayed. A preview (GET) says the same
without changing anything."""

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.accounts.models import User
from apps.conversations.models import Conversation, Status
from apps.routing.decisions import Candidate, plan_backlog
from apps.routing.services import distribute_on_demand
from apps.teams.models import DistributionMode
from tests.api.conftest import client_for
from tests.factories import AgentFactory, SupervisorFactory, TeamFactory, queued_backlog

MODES = [DistributionMode.MANUAL, DistributionMode.SEQUENTIAL, DistributionMode.CAPACITY]


def online(*agents):
    User.objects.filter(pk__in=[a.pk for a in agents]).update(presence="online")


@pytest.mark.django_db
@pytest.mark.parametrize("mode", MODES)
def test_one_agent_with_a_limit_of_one_gets_one_and_the_rest_stays_queued(mode):
    ana = AgentFactory(name="Ana", capacity=1)
    team = TeamFactory(distribution_mode=mode, agents=[ana])
    queued_backlog(team, 63)
    online(ana)
    done = distribute_on_demand(team_id=team.pk, actor=SupervisorFactory())
    assert (done.assigned, done.stayed, done.given) == (1, 62, ((ana.pk, "Ana", 1),))
    ana.refresh_from_db()
    assert ana.open_count == 1
    assert Conversation.objects.filter(team=team, status=Status.QUEUED).count() == 62


@pytest.mark.django_db
@pytest.mark.parametrize("mode", MODES)
def test_each_agent_is_filled_to_their_limit_and_no_further(mode):
    ana, bruno, carla = (AgentFactory(name=n, capacity=c) for n, c in
                         (("Ana", 2), ("Bruno", 3), ("Carla", 1)))
    team = TeamFactory(distribution_mode=mode, agents=[ana, bruno, carla])
    queued_backlog(team, 10)
    online(ana, bruno, carla)
    User.objects.filter(pk=carla.pk).update(open_count=1)  # full already
    done = distribute_on_demand(team_id=team.pk, actor=SupervisorFactory())
    assert done.assigned == 5 and done.stayed == 5
    assert dict((name, n) for _id, name, n in done.given) == {"Ana": 2, "Bruno": 3}
    for agent in (ana, bruno, carla):
        agent.refresh_from_db()
        assert agent.open_count <= agent.capacity
        assert Conversation.objects.filter(assignee=agent).count() <= agent.capacity


@pytest.mark.django_db
def test_the_preview_says_what_will_happen_and_changes_nothing():
    ana, bruno = AgentFactory(name="Ana", capacity=1), AgentFactory(name="Bruno", capacity=2)
    team = TeamFactory(distribution_mode=DistributionMode.MANUAL, agents=[ana, bruno])
    queued_backlog(team, 7)
    online(ana, bruno)
    boss = client_for(SupervisorFactory())
    url = f"/api/v1/teams/{team.pk}/distribute"
    preview = boss.get(url)
    assert preview.status_code == 200, preview.content
    assert Conversation.objects.filter(team=team, status=Status.QUEUED).count() == 7
    done = boss.post(url)
    assert done.status_code == 200
    assert preview.json() == done.json()
    body = done.json()
    assert body["assigned"] == 3 and body["stayed"] == 4
    assert sorted((a["name"], a["assigned"]) for a in body["agents"]) == [("Ana", 1),
                                                                          ("Bruno", 2)]
    again = boss.post(url).json()
    assert again == {"assigned": 0, "stayed": 4, "agents": []}
    assert client_for(ana).get(url).status_code == 403


def _candidates(loads):
    return [Candidate(agent_id=i + 1, name=f"a{i}", capacity=cap, load=load)
            for i, (cap, load) in enumerate(loads)]


@given(
    loads=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 8)), min_size=0, max_size=6),
    queued=st.integers(0, 40),
    by_capacity=st.booleans(),
)
@settings(max_examples=200, deadline=None)
def test_a_plan_within_limits_never_takes_anyone_past_their_limit(loads, queued, by_capacity):
    candidates = _candidates(loads)
    room = sum(max(cap - load, 0) for cap, load in loads)
    plan = plan_backlog(
        [(pk, None) for pk in range(queued)], candidates, by_capacity=by_capacity,
        now=datetime(2026, 1, 1, tzinfo=UTC), within_limits=True,
    )
    given_to: dict[int, int] = {}
    for item in plan:
        given_to[item.agent_id] = given_to.get(item.agent_id, 0) + 1
    for i, (cap, load) in enumerate(loads):
        assert given_to.get(i + 1, 0) <= max(cap - load, 0)
    assert len(plan) == min(queued, room)  # everything that fits goes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("mode", [DistributionMode.MANUAL, DistributionMode.CAPACITY])
def test_supervisors_distributing_at_once_with_arrivals_never_pass_a_limit(mode):
    """Four supervisors press Distribuir at once while conversations arrive (real
    concurrent PostgreSQL connections): nobody ends above their limit, nothing is lost."""
    from apps.routing.invariants import check_invariants
    from tests.helpers import arrive
    from tests.routing.test_concurrency import run_at_once

    agents = [AgentFactory(capacity=c) for c in (1, 2, 3)]
    team = TeamFactory(distribution_mode=mode, agents=agents)
    queued_backlog(team, 30)
    online(*agents)
    bosses = [SupervisorFactory() for _ in range(4)]
    jobs = [lambda b=b: distribute_on_demand(team_id=team.pk, actor=b) for b in bosses]
    jobs += [lambda n=n: arrive(f"wa:late-{n}", team=team) for n in range(6)]
    results = run_at_once(jobs)
    assert all(kind == "ok" for kind, _ in results), results
    for agent in agents:
        agent.refresh_from_db()
        assert agent.open_count == agent.capacity  # filled, never past it
        assert Conversation.objects.filter(assignee=agent, status=Status.ASSIGNED).count() \
            == agent.capacity
    # 36 arrived in all; the agents' 6 places are taken, the other 30 wait.
    assert Conversation.objects.filter(team=team, status=Status.QUEUED).count() == 30
    assert check_invariants() == []
