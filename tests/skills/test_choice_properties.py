"""The decision functions with skills, for any agents, skills, loads and requirements
(hypothesis): the chosen agent is eligible and has room, and no better-ranked eligible
agent was passed over; a backlog plan gives each conversation to an eligible agent and never
takes anyone past their limit."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from apps.routing.decisions import (
    Candidate,
    capacity_key,
    choose_agent,
    eligible,
    plan_backlog,
    recency_key,
    total_level,
)

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SKILLS = st.integers(min_value=1, max_value=4)
LEVELS = st.dictionaries(SKILLS, st.integers(min_value=1, max_value=5), max_size=4)


@st.composite
def candidates(draw, max_size=8):
    count = draw(st.integers(min_value=0, max_value=max_size))
    found = []
    for agent_id in range(1, count + 1):
        capacity = draw(st.integers(min_value=0, max_value=4))
        found.append(Candidate(
            agent_id=agent_id, name=f"a{agent_id}", capacity=capacity,
            load=draw(st.integers(min_value=0, max_value=5)),
            last_assigned_at=draw(st.one_of(
                st.none(), st.integers(min_value=0, max_value=600).map(
                    lambda s: T0 - timedelta(seconds=s)),
            )),
            skills=draw(LEVELS),
        ))
    return found


@settings(max_examples=400, deadline=None)
@given(candidates(), LEVELS, st.sampled_from(["capacity", "sequential"]),
       st.one_of(st.none(), st.integers(min_value=1, max_value=8)),
       st.one_of(st.none(), st.integers(min_value=1, max_value=8)))
def test_the_chosen_agent_is_eligible_with_room_and_best_ranked(
    pool, requirements, mode, preferred, last
):
    choice = choose_agent(pool, mode=mode, requirements=requirements,
                          preferred_agent_id=preferred, last_agent_id=last)
    able = [c for c in pool if eligible(c, requirements)]
    with_room = [c for c in able if c.free > 0]
    if choice is None:
        assert not (with_room if mode == "capacity" else able)
        return
    chosen = next(c for c in pool if c.agent_id == choice.agent_id)
    assert eligible(chosen, requirements)
    if mode == "capacity" or choice.by in ("preferred", "last_agent"):
        assert chosen.free > 0
    if choice.by == "last_agent":
        assert chosen.agent_id == last
    elif choice.by == "preferred":
        assert chosen.agent_id == preferred
        assert not any(c.agent_id == last for c in with_room)
    else:
        assert not any(c.agent_id in (last, preferred) for c in with_room)
        key = capacity_key if mode == "capacity" else recency_key
        field = with_room if mode == "capacity" else able
        best = min(field, key=lambda c: key(c, requirements))
        assert key(chosen, requirements) == key(best, requirements)


def test_a_tie_goes_to_the_higher_total_level():
    pool = [
        Candidate(1, "Ana", capacity=3, load=1, skills={1: 2, 2: 1}),
        Candidate(2, "Bruno", capacity=3, load=1, skills={1: 4, 2: 3}),
        Candidate(3, "Caio", capacity=3, load=0, skills={}),  # more room, not eligible
    ]
    choice = choose_agent(pool, mode="capacity", requirements={1: 2, 2: 1})
    assert choice.agent_id == 2
    assert total_level(pool[1], {1: 2, 2: 1}) == 7
    assert choice.reason["code"] == "among_eligible"
    assert choice.reason["params"]["eligible"] == 2
    rotation = choose_agent(pool, mode="sequential", requirements={1: 2})
    assert rotation.agent_id == 2  # never assigned both: the higher level goes first


BACKLOG = st.lists(
    st.tuples(LEVELS, st.one_of(st.none(), st.integers(min_value=1, max_value=8)),
              st.one_of(st.none(), st.integers(min_value=1, max_value=8))),
    max_size=15,
)


@settings(max_examples=300, deadline=None)
@given(candidates(), BACKLOG, st.booleans())
def test_a_backlog_plan_gives_only_to_eligible_agents_within_limits(pool, backlog, by_capacity):
    loads = {c.agent_id: c.load for c in pool}
    limits = {c.agent_id: c.capacity for c in pool}
    skills = {c.agent_id: c.skills for c in pool}
    requirements = {n: needs for n, (needs, _star, _passed) in enumerate(backlog, start=1)}
    passed_over = {n: p for n, (_needs, _star, p) in enumerate(backlog, start=1) if p}
    plan = plan_backlog(
        [(n, star) for n, (_needs, star, _p) in enumerate(backlog, start=1)], pool,
        by_capacity=by_capacity, now=T0, passed_over=passed_over, requirements=requirements,
    )
    given_to: dict[int, int] = {}
    for item in plan:
        assert all(skills[item.agent_id].get(s, 0) >= lvl
                   for s, lvl in requirements[item.conversation_id].items())
        assert passed_over.get(item.conversation_id) != item.agent_id
        given_to[item.agent_id] = given_to.get(item.agent_id, 0) + 1
    assert len({item.conversation_id for item in plan}) == len(plan)
    if by_capacity:
        for agent_id, n in given_to.items():
            assert n <= max(limits[agent_id] - loads[agent_id], 0)
        # Nothing left waiting that an eligible agent with room could have taken.
        planned = {item.conversation_id for item in plan}
        left = {c.agent_id: max(limits[c.agent_id] - loads[c.agent_id], 0)
                - given_to.get(c.agent_id, 0) for c in pool}
        for n, (needs, _star, p) in enumerate(backlog, start=1):
            if n in planned:
                continue
            assert not any(
                left[c.agent_id] > 0 and c.agent_id != p
                and all(skills[c.agent_id].get(s, 0) >= lvl for s, lvl in needs.items())
                for c in pool
            )
