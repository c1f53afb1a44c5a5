"""Invariant 2 is about the limit as it was when automatic distribution assigned: an
administrator lowering a limit afterwards is no violation."""

import pytest

from apps.routing import services
from apps.routing.invariants import check_invariants
from apps.teams.models import DistributionMode
from tests.factories import AgentFactory, TeamFactory, queued_backlog

pytestmark = pytest.mark.django_db


def test_lowering_a_limit_below_the_current_load_is_not_a_violation(arrive, invariants_hold):
    admin = AgentFactory(role="admin")
    agent = AgentFactory(capacity=4)
    team = TeamFactory(distribution_mode=DistributionMode.CAPACITY, agents=[agent])
    for _ in range(3):
        arrive(team=team)
    agent.refresh_from_db()
    assert agent.open_count == 3
    services.set_capacity(agent_id=agent.pk, capacity=1, actor=admin)
    invariants_hold()


def test_a_real_excess_is_still_reported(arrive):
    agent = AgentFactory(capacity=2)
    team = TeamFactory(distribution_mode=DistributionMode.CAPACITY, agents=[agent])
    for _ in range(2):
        arrive(team=team)
    # A bug that assigns automatically past the limit, simulated on the rows themselves.
    extra = queued_backlog(team, 1)[0]
    from django.db.models import F

    from apps.accounts.models import User
    from apps.conversations.models import Conversation
    first = Conversation.objects.filter(assignee=agent).first()
    Conversation.objects.filter(pk=extra.pk).update(
        status="assigned", assignee=agent, auto_assigned=True, assigned_at=first.assigned_at,
        assigned_limit=2,
    )
    User.objects.filter(pk=agent.pk).update(open_count=F("open_count") + 1)
    assert any("limit" in problem for problem in check_invariants())
