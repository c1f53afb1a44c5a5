"""The pure choosing functions: who gets a conversation, and the reason given."""

from datetime import UTC, datetime, timedelta

from apps.conversations.reasons import render
from apps.routing.decisions import (
    Candidate,
    choose_by_capacity,
    choose_by_rotation,
    describe_loads,
    describe_rotation,
    plan_backlog,
    recency_key,
)

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def agent(agent_id, *, load=0, capacity=5, last=None, name=None):
    return Candidate(
        agent_id=agent_id, name=name or f"A{agent_id}", capacity=capacity, load=load,
        last_assigned_at=last,
    )


def test_never_assigned_goes_before_anyone_then_least_recent_then_id():
    recent, older, never_b, never_a = (
        agent(1, last=T0 + timedelta(minutes=5)), agent(2, last=T0), agent(4), agent(3),
    )
    ordered = sorted([recent, older, never_b, never_a], key=recency_key)
    assert [c.agent_id for c in ordered] == [3, 4, 2, 1]


def test_capacity_picks_the_most_free_room():
    choice = choose_by_capacity([agent(1, load=3), agent(2, load=1), agent(3, load=4)])
    assert choice.agent_id == 2
    assert choice.reason["code"] == "by_capacity"
    assert render([choice.reason]) == (
        "By capacity among online members A1 3/5, A2 1/5, A3 4/5: A2 had the most free "
        "capacity (4)."
    )


def test_capacity_ties_go_to_the_least_recently_assigned_and_say_so():
    earlier = T0 - timedelta(days=1)
    choice = choose_by_capacity([agent(1, load=1, last=T0), agent(2, load=1, last=earlier)])
    assert choice.agent_id == 2
    assert choice.reason["code"] == "by_capacity_tied"


def test_capacity_prefers_the_starred_agent_with_room_even_if_others_have_more():
    choice = choose_by_capacity([agent(1, load=0), agent(2, load=4)], preferred_agent_id=2)
    assert (choice.agent_id, choice.reason["code"]) == (2, "preferred_has_room")


def test_capacity_ignores_a_starred_agent_at_their_limit():
    choice = choose_by_capacity([agent(1, load=2), agent(2, load=5)], preferred_agent_id=2)
    assert choice.agent_id == 1


def test_capacity_gives_nothing_when_everyone_is_full():
    assert choose_by_capacity([agent(1, load=5), agent(2, load=2, capacity=2)]) is None
    assert choose_by_capacity([]) is None


def test_rotation_ignores_load_and_takes_the_least_recently_assigned():
    busy_but_next = agent(2, load=9, capacity=9, last=None)
    choice = choose_by_rotation([agent(1, load=0, last=T0), busy_but_next])
    assert (choice.agent_id, choice.reason["code"]) == (2, "by_rotation")
    assert "A2 was next" in render([choice.reason])


def test_rotation_prefers_the_starred_agent_only_below_their_limit():
    full = [agent(1, last=None), agent(2, load=5, last=T0)]
    assert choose_by_rotation(full, preferred_agent_id=2).agent_id == 1
    room = [agent(1, last=None), agent(2, load=4, last=T0)]
    choice = choose_by_rotation(room, preferred_agent_id=2)
    assert (choice.agent_id, choice.reason["code"]) == (2, "preferred_in_rotation")
    assert choose_by_rotation([]) is None


def test_descriptions_list_the_first_six_and_count_the_rest():
    many = [agent(i, load=i % 3) for i in range(1, 9)]
    assert describe_loads(many).endswith("A6 0/5, +2")
    assert describe_rotation(many).startswith("A1, A2")
    assert describe_rotation(many).endswith(", +2")


def test_backlog_by_capacity_fills_room_oldest_first_and_never_exceeds_a_limit():
    candidates = [agent(1, load=3), agent(2, load=0, capacity=2)]
    backlog = [(100 + n, None) for n in range(10)]
    plan = plan_backlog(backlog, candidates, by_capacity=True, now=T0)
    assert [item.conversation_id for item in plan] == [100, 101, 102, 103]  # 2 + 2 free
    per_agent = {1: 0, 2: 0}
    for item in plan:
        per_agent[item.agent_id] += 1
    assert per_agent == {1: 2, 2: 2}
    assert {item.reason["code"] for item in plan} == {"backlog_by_capacity"}


def test_backlog_gives_a_starred_conversation_to_its_agent_when_they_have_room():
    candidates = [agent(1, load=0), agent(2, load=3)]
    plan = plan_backlog([(7, 2), (8, None)], candidates, by_capacity=True, now=T0)
    assert (plan[0].agent_id, plan[0].reason["code"]) == (2, "backlog_preferred")
    assert plan[1].agent_id == 1


def test_backlog_by_rotation_shares_equally_above_limits():
    candidates = [agent(1, load=5), agent(2, load=5), agent(3, load=5)]
    plan = plan_backlog([(n, None) for n in range(9)], candidates, by_capacity=False, now=T0)
    shares = {}
    for item in plan:
        shares[item.agent_id] = shares.get(item.agent_id, 0) + 1
    assert shares == {1: 3, 2: 3, 3: 3}
    assert [item.agent_id for item in plan[:3]] == [1, 2, 3]


def test_backlog_with_nobody_gives_nothing():
    assert plan_backlog([(1, None)], [], by_capacity=True, now=T0) == []
