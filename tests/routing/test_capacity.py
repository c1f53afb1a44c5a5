"""routing.md section 2, `capacity`: most free capacity, limits, backlog oldest first."""

import pytest

from apps.accounts.models import Presence, User
from apps.conversations.models import Status
from apps.routing.services import (
    claim_conversation,
    close_conversation,
    set_capacity,
    set_presence,
    transfer_conversation,
)
from apps.teams.models import DistributionMode
from tests.factories import AdminFactory, AgentFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def capacity_team(*agents, name=None):
    kwargs = {"name": name} if name else {}
    return TeamFactory(distribution_mode=DistributionMode.CAPACITY, agents=agents, **kwargs)


def test_goes_to_the_member_with_most_free_capacity(arrive):
    roomy = AgentFactory(capacity=5)
    tight = AgentFactory(capacity=2)
    team = capacity_team(roomy, tight)
    assert arrive(team=team).assignee == roomy  # 5 free vs 2 free


def test_ties_go_to_the_least_recently_assigned(arrive):
    a, b = AgentFactory(capacity=3), AgentFactory(capacity=3)
    team = capacity_team(a, b)
    first, second, third = arrive(team=team), arrive(team=team), arrive(team=team)
    assert "tie broken by least recently assigned" in first.events.get().reason
    assert second.assignee != first.assignee  # more free capacity (3 against 2)
    assert third.assignee == first.assignee  # 2 against 2: the least recently assigned
    assert "tie broken by least recently assigned" in third.events.get().reason


def test_never_above_the_limit_and_the_rest_waits_in_the_queue(arrive, invariants_hold):
    a, b = AgentFactory(capacity=2), AgentFactory(capacity=1)
    team = capacity_team(a, b)
    conversations = [arrive(team=team) for _ in range(5)]
    statuses = [c.status for c in conversations]
    assert statuses.count(Status.ASSIGNED) == 3 and statuses.count(Status.QUEUED) == 2
    assert User.objects.get(pk=a.pk).open_count == 2
    assert User.objects.get(pk=b.pk).open_count == 1
    assert "at their limit" in conversations[-1].events.get().reason
    invariants_hold()


def test_capacity_counts_open_conversations_across_all_teams(arrive):
    agent = AgentFactory(capacity=2)
    other = AgentFactory(capacity=2)
    first, second = capacity_team(agent), capacity_team(agent, other)
    arrive(team=first)
    arrive(team=first)  # agent is now full through team "first"
    assert arrive(team=second).assignee == other


def test_closing_frees_capacity_and_assigns_the_oldest_queued(arrive, invariants_hold, committed):
    agent = AgentFactory(capacity=1)
    team = capacity_team(agent)
    held = arrive(team=team)
    oldest, newest = arrive(team=team), arrive(team=team)
    with committed():
        close_conversation(conversation_id=held.pk, actor=agent)
    oldest.refresh_from_db()
    newest.refresh_from_db()
    assert (oldest.status, oldest.assignee) == (Status.ASSIGNED, agent)
    assert newest.status == Status.QUEUED
    assert "Backlog distribution" in oldest.events.last().reason
    invariants_hold()


def test_transferring_away_frees_capacity_too(arrive, invariants_hold, committed):
    agent = AgentFactory(capacity=1)
    team = capacity_team(agent)
    other_team = TeamFactory()
    held = arrive(team=team)
    queued = arrive(team=team)
    with committed():
        transfer_conversation(conversation_id=held.pk, team_id=other_team.pk, actor=agent)
    queued.refresh_from_db()
    assert queued.assignee == agent
    invariants_hold()


def test_backlog_is_distributed_oldest_first_when_a_member_comes_online(
    arrive, invariants_hold, committed
):
    a, b = UserFactory(capacity=2), UserFactory(capacity=1)
    team = capacity_team(a, b)
    backlog = [arrive(team=team) for _ in range(5)]
    with committed():
        set_presence(agent=a, status=Presence.ONLINE)
    for c in backlog:
        c.refresh_from_db()
    assert [c.assignee for c in backlog] == [a, a, None, None, None]
    with committed():
        set_presence(agent=b, status=Presence.ONLINE)
    backlog[2].refresh_from_db()
    assert backlog[2].assignee == b
    invariants_hold()


def test_raising_a_limit_distributes_the_backlog(arrive, invariants_hold, committed):
    agent = AgentFactory(capacity=1)
    team = capacity_team(agent)
    arrive(team=team)
    waiting = arrive(team=team)
    with committed():
        set_capacity(agent_id=agent.pk, capacity=2, actor=AdminFactory())
    waiting.refresh_from_db()
    assert waiting.assignee == agent
    invariants_hold()


def test_a_manual_claim_may_go_above_the_limit_but_distribution_then_gives_nothing(arrive):
    agent = AgentFactory(capacity=1)
    team = capacity_team(agent)
    arrive(team=team)
    queued = arrive(team=team)
    claim_conversation(conversation_id=queued.pk, agent=agent)
    assert User.objects.get(pk=agent.pk).open_count == 2
    assert arrive(team=team).status == Status.QUEUED


def test_going_away_keeps_open_conversations(arrive):
    agent = AgentFactory()
    team = capacity_team(agent)
    held = arrive(team=team)
    set_presence(agent=agent, status=Presence.AWAY)
    held.refresh_from_db()
    assert held.assignee == agent
    assert arrive(team=team).status == Status.QUEUED
