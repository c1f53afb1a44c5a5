"""routing.md 8.5: a waiting customer's position in the queue and estimated wait."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from apps.accounts.models import Presence
from apps.conversations.models import Conversation, Status
from apps.conversations.waits import (
    DEFAULT_HANDLE_SECONDS,
    TeamPace,
    attach_queue_info,
    estimate_wait,
)
from apps.organizations.models import RuleType
from apps.routing.services import claim_conversation, close_conversation, set_presence
from apps.teams.models import DistributionMode
from tests.factories import (
    AgentFactory,
    ContactFactory,
    RuleFactory,
    SupervisorFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def queue_of(*conversations):
    rows = list(Conversation.objects.select_related("team").filter(
        pk__in=[c.pk for c in conversations]))
    attach_queue_info(rows)
    by_id = {c.pk: c.queue_info for c in rows}
    return [by_id[c.pk] for c in conversations]


def positions(*conversations):
    return [q["position"] if q else None for q in queue_of(*conversations)]


def test_oldest_first_and_each_team_and_waiting_count_alone(arrive):
    sales, support = TeamFactory(), TeamFactory()
    s1, w1, s2, t1, w2, s3 = (arrive(team=sales), arrive(), arrive(team=sales),
                              arrive(team=support), arrive(), arrive(team=sales))
    assert positions(s1, s2, s3, t1, w1, w2) == [1, 2, 3, 1, 1, 2]
    claim_conversation(conversation_id=s1.pk, agent=SupervisorFactory())
    assert positions(s1, s2, s3) == [None, 1, 2]  # assigned: no place in the queue


def test_starred_for_an_online_member_is_in_that_agents_own_line(arrive):
    diego = AgentFactory(capacity=0)
    outsider = AgentFactory()
    team = TeamFactory(agents=[diego])
    starred = ContactFactory()
    RuleFactory(contact=starred, agent=diego, type=RuleType.QUEUE)
    for_outsider = ContactFactory()
    RuleFactory(contact=for_outsider, agent=outsider, type=RuleType.QUEUE)
    first = arrive(team=team)
    star = arrive(contact=starred, team=team)
    not_a_member = arrive(contact=for_outsider, team=team)
    last = arrive(team=team)
    # Diego's starred one is first in his line and does not hold anyone else back; a star
    # for someone outside the team changes nothing.
    assert positions(first, star, not_a_member, last) == [1, 1, 2, 3]
    set_presence(agent=diego, status=Presence.AWAY)
    assert positions(first, star, not_a_member, last) == [1, 2, 3, 4]


def test_estimates_null_in_waiting_and_with_nobody_online(arrive):
    agent = UserFactory()  # offline
    team = TeamFactory(distribution_mode=DistributionMode.CAPACITY, agents=[agent])
    queued, waiting = arrive(team=team), arrive()
    assert queue_of(queued, waiting) == [
        {"position": 1, "estimated_wait_seconds": None},
        {"position": 1, "estimated_wait_seconds": None},
    ]


def test_an_estimate_grows_with_the_position_and_falls_with_the_pace(arrive):
    with time_machine.travel(START, tick=False) as clock:
        agents = [AgentFactory(capacity=2) for _ in range(2)]
        team = TeamFactory(distribution_mode=DistributionMode.MANUAL, agents=agents)
        queued = [arrive(team=team) for _ in range(4)]
        cold = [q["estimated_wait_seconds"] for q in queue_of(*queued)]
        # Nothing handled yet: four slots at the default handle time.
        assert cold == [round(n * DEFAULT_HANDLE_SECONDS / 4) for n in (1, 2, 3, 4)]
        # Twelve conversations handled in 60 s each over the last minutes: a faster team.
        for n in range(12):
            done = arrive(team=team)
            claim_conversation(conversation_id=done.pk, agent=agents[n % 2])
            clock.shift(timedelta(seconds=60))
            close_conversation(conversation_id=done.pk, actor=agents[n % 2])
        warm = [q["estimated_wait_seconds"] for q in queue_of(*queued)]
        assert warm == sorted(warm) and warm[0] < cold[0]
        assert warm[0] == 15  # 4 slots / 60 s handle time: one every 15 s


def test_room_online_in_a_capacity_team_means_no_wait():
    pace = TeamPace(online=2, slots=4, free=2, assigned=0, closed=0, handled_seconds=0)
    assert estimate_wait(2, pace, mode=DistributionMode.CAPACITY) == 0
    assert estimate_wait(3, pace, mode=DistributionMode.CAPACITY) == 75  # 1 ahead, 4/300 s
    assert estimate_wait(2, pace, mode=DistributionMode.MANUAL) == 150  # a claim is needed
    nobody = TeamPace(online=0, slots=0, free=0, assigned=9, closed=9, handled_seconds=900)
    assert estimate_wait(1, nobody, mode=DistributionMode.CAPACITY) is None
    assert estimate_wait(1, None, mode=DistributionMode.CAPACITY) is None


def test_a_whole_page_costs_three_queries_however_many_teams(arrive, django_assert_num_queries):
    def page():
        rows = list(Conversation.objects.select_related("team").order_by("id"))
        with django_assert_num_queries(3):
            attach_queue_info(rows)
        return rows

    team = TeamFactory(agents=[AgentFactory()])
    arrive(team=team), arrive()
    assert len(page()) == 2
    for _ in range(5):
        other = TeamFactory(agents=[AgentFactory()])
        arrive(team=other), arrive(team=other), arrive()
    rows = page()
    assert len(rows) == 17
    assert {c.queue_info["position"] for c in rows if c.status == Status.WAITING} == set(
        range(1, 7)
    )


def test_nothing_waiting_costs_nothing(arrive, django_assert_num_queries):
    agent = AgentFactory()
    conversation = arrive(team=TeamFactory(distribution_mode=DistributionMode.CAPACITY,
                                           agents=[agent]))
    rows = list(Conversation.objects.select_related("team").filter(pk=conversation.pk))
    with django_assert_num_queries(0):
        attach_queue_info(rows)
    assert rows[0].queue_info is None
