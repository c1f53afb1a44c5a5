"""Skills under real concurrency on PostgreSQL: workers distributing at once (arrivals,
team backlog runs, agents coming online, the ladder) never take an agent past their limit
and never give a conversation to an agent who does not meet its requirements in force."""

import pytest
from django.db import connection

from apps.accounts.models import Presence
from apps.conversations.models import Conversation, Status
from apps.routing.invariants import check_invariants
from apps.routing.services import (
    distribute_team_backlog,
    handle_agent_available,
    set_presence,
)
from apps.skills.models import AgentSkill, ConversationRequirement, Skill
from apps.teams.models import DistributionMode
from tests.factories import AgentFactory, TeamFactory
from tests.helpers import arrive
from tests.routing.test_concurrency import run_at_once

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def assert_every_assignment_eligible():
    for conversation in Conversation.objects.filter(status=Status.ASSIGNED):
        for requirement in ConversationRequirement.objects.filter(
            conversation=conversation, in_force=True
        ):
            level = AgentSkill.objects.filter(
                agent_id=conversation.assignee_id, skill_id=requirement.skill_id
            ).values_list("level", flat=True).first() or 0
            assert level >= requirement.min_level, (conversation.pk, conversation.assignee_id)


def test_workers_distributing_at_once_respect_limits_and_skills():
    assert connection.vendor == "postgresql"
    english, billing = Skill.objects.create(name="english"), Skill.objects.create(name="billing")
    agents = [AgentFactory(capacity=3, presence=Presence.OFFLINE) for _ in range(8)]
    for n, agent in enumerate(agents):
        if n % 2 == 0:
            AgentSkill.objects.create(agent=agent, skill=english, level=1 + n % 5)
        if n % 3 == 0:
            AgentSkill.objects.create(agent=agent, skill=billing, level=3)
    team = TeamFactory(distribution_mode=DistributionMode.CAPACITY, agents=agents)
    needs = [{english.pk: 2}, {billing.pk: 2}, {english.pk: 1, billing.pk: 3}, {}]
    for n in range(40):
        arrive(f"wa:{n}", team=team, requirements=needs[n % len(needs)])
    for agent in agents:
        agent.presence = Presence.ONLINE
        agent.save(update_fields=["presence"])

    jobs = [lambda: distribute_team_backlog(team_id=team.pk) for _ in range(4)]
    jobs += [lambda a=a: handle_agent_available(agent_id=a.pk) for a in agents]
    jobs += [lambda n=n: arrive(f"wa:late{n}", team=team, requirements=needs[n % len(needs)])
             for n in range(12)]
    results = run_at_once(jobs, workers=12)
    assert all(outcome == "ok" for outcome, _value in results), results

    assert_every_assignment_eligible()
    for agent in agents:
        agent.refresh_from_db()
        assert agent.open_count <= agent.capacity
    assert check_invariants() == []


def test_agents_coming_online_at_once_share_the_queue_without_exceeding_limits():
    english = Skill.objects.create(name="english")
    agents = [AgentFactory(capacity=2, presence=Presence.OFFLINE) for _ in range(6)]
    for agent in agents[:3]:
        AgentSkill.objects.create(agent=agent, skill=english, level=2)
    team = TeamFactory(distribution_mode=DistributionMode.CAPACITY, agents=agents)
    for n in range(20):
        arrive(f"wa:{n}", team=team, requirements={english.pk: 2} if n % 2 else None)

    results = run_at_once(
        [lambda a=a: set_presence(agent=a, status=Presence.ONLINE, actor=a) for a in agents]
        + [lambda a=a: handle_agent_available(agent_id=a.pk) for a in agents]
    )
    assert all(outcome == "ok" for outcome, _value in results), results
    assert_every_assignment_eligible()
    assert Conversation.objects.filter(status=Status.ASSIGNED).count() >= 10  # room: 12
    assert check_invariants() == []
