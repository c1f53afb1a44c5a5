"""routing.md section 2, `sequential`: rotation among online members, backlog left alone."""

from collections import Counter

import pytest

from apps.accounts.models import Presence
from apps.conversations.models import Status
from apps.routing.services import set_presence
from apps.teams.models import DistributionMode
from tests.factories import AgentFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def sequential_team(*agents):
    return TeamFactory(distribution_mode=DistributionMode.SEQUENTIAL, agents=agents)


def test_online_members_get_equal_shares_in_rotation(arrive, invariants_hold):
    ana, bruno, carla = AgentFactory(), AgentFactory(), AgentFactory()
    team = sequential_team(ana, bruno, carla)
    assignees = [arrive(team=team).assignee for _ in range(9)]
    assert Counter(assignees) == {ana: 3, bruno: 3, carla: 3}
    # Strict rotation: nobody gets a second before everyone got one.
    assert len(set(assignees[:3])) == 3 and assignees[3:6] == assignees[:3]
    invariants_hold()


def test_rotation_ignores_load_and_capacity(arrive):
    busy = AgentFactory(capacity=1)
    idle = AgentFactory(capacity=1)
    team = sequential_team(busy, idle)
    got = [arrive(team=team).assignee for _ in range(4)]
    assert Counter(got) == {busy: 2, idle: 2}


def test_away_and_offline_members_get_nothing(arrive):
    online = AgentFactory()
    away = AgentFactory(presence=Presence.AWAY)
    offline = UserFactory()
    team = sequential_team(online, away, offline)
    assert {arrive(team=team).assignee for _ in range(3)} == {online}


def test_least_recently_assigned_goes_next_and_reason_names_the_rotation(arrive):
    ana, bruno = AgentFactory(name="Ana"), AgentFactory(name="Bruno")
    team = sequential_team(ana, bruno)
    first = arrive(team=team)
    second = arrive(team=team)
    assert {first.assignee, second.assignee} == {ana, bruno}
    reason = second.events.get().reason
    assert "Sequential rotation" in reason and f"{second.assignee.name} was next" in reason


def test_backlog_stays_when_a_member_comes_online_but_new_arrivals_rotate_to_them(
    arrive, invariants_hold
):
    member = UserFactory()  # offline
    team = sequential_team(member)
    backlog = [arrive(team=team) for _ in range(3)]
    assert all(c.status == Status.QUEUED for c in backlog)

    set_presence(agent=member, status=Presence.ONLINE)
    for conversation in backlog:
        conversation.refresh_from_db()
        assert conversation.status == Status.QUEUED  # not distributed automatically

    newcomer = arrive(team=team)
    assert newcomer.assignee == member
    invariants_hold()
