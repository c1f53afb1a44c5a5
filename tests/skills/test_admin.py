"""The admin's skill pages go through the services: an agent's level saved or deleted is a
row of their history; a ladder step saved moves the queued conversations' deadlines."""

from datetime import timedelta

import pytest
from django.urls import reverse

from apps.accounts.models import AgentChange, AgentChangeKind
from apps.skills.models import AgentSkill, LadderStep
from apps.teams.models import DistributionMode
from tests.factories import AdminFactory, AgentFactory, TeamFactory
from tests.helpers import arrive

pytestmark = pytest.mark.django_db


def test_an_agents_level_through_the_admin_is_recorded(client, skill):
    admin = AdminFactory()
    client.force_login(admin)
    agent, english = AgentFactory(), skill("english")
    answer = client.post(reverse("admin:skills_agentskill_add"),
                         {"agent": agent.pk, "skill": english.pk, "level": 4})
    assert answer.status_code == 302
    row = AgentSkill.objects.get(agent=agent)
    assert row.level == 4
    change = AgentChange.objects.get(agent=agent, kind=AgentChangeKind.SKILLS)
    assert (change.before, change.after, change.actor) == (
        [], [{"skill": english.pk, "level": 4}], admin)
    client.post(reverse("admin:skills_agentskill_delete", args=[row.pk]), {"post": "yes"})
    assert not AgentSkill.objects.filter(agent=agent).exists()
    assert AgentChange.objects.filter(agent=agent, kind=AgentChangeKind.SKILLS).count() == 2


def test_a_ladder_step_through_the_admin_moves_deadlines(client, skill):
    client.force_login(AdminFactory())
    team = TeamFactory(distribution_mode=DistributionMode.MANUAL)
    conversation = arrive(team=team)
    answer = client.post(reverse("admin:skills_ladderstep_add"), {
        "team": team.pk, "position": 0, "after_seconds": 30, "action": "drop",
        "all_skills": "on", "by": "", "overflow_team": "",
        "skill_links-TOTAL_FORMS": "0", "skill_links-INITIAL_FORMS": "0",
        "skill_links-MIN_NUM_FORMS": "0", "skill_links-MAX_NUM_FORMS": "1000",
    })
    assert answer.status_code == 302, answer.content.decode()[:2000]
    assert LadderStep.objects.filter(team=team).count() == 1
    conversation.refresh_from_db()
    assert conversation.next_step_at == conversation.queued_at + timedelta(seconds=30)
    refused = client.post(reverse("admin:skills_ladderstep_add"), {
        "team": team.pk, "position": 1, "after_seconds": 10, "action": "overflow",
        "overflow_team": team.pk,
        "skill_links-TOTAL_FORMS": "0", "skill_links-INITIAL_FORMS": "0",
        "skill_links-MIN_NUM_FORMS": "0", "skill_links-MAX_NUM_FORMS": "1000",
    })
    assert refused.status_code == 200 and LadderStep.objects.filter(team=team).count() == 1
