"""Reports: served at each step of the team's ladder (docs/reports.md) — the step a
conversation stood at when an agent first replied, counted under the team's totals."""

from datetime import date, timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.conversations.models import Status
from apps.conversations.services import post_reply
from apps.routing import services as routing
from apps.routing.services import set_team_ladder
from apps.skills.models import AgentSkill, Skill
from apps.skills.services import parse_ladder
from apps.teams.models import DistributionMode
from tests.api.conftest import client_for
from tests.factories import AgentFactory, SupervisorFactory, TeamFactory
from tests.helpers import arrive

pytestmark = pytest.mark.django_db


def test_the_teams_report_counts_served_at_each_ladder_step(django_capture_on_commit_callbacks):
    english = Skill.objects.create(name="english")
    ana, bruno = AgentFactory(name="Ana"), AgentFactory(name="Bruno")
    AgentSkill.objects.create(agent=ana, skill=english, level=5)
    team = TeamFactory(distribution_mode=DistributionMode.CAPACITY, agents=[ana, bruno],
                       timezone="UTC")
    set_team_ladder(team=team, steps=parse_ladder(
        [{"after_seconds": 60, "action": "drop", "skills": [english.pk]}], team_id=team.pk))
    start = timezone.now().replace(hour=10, minute=0, second=0, microsecond=0)
    with time_machine.travel(start, tick=False):
        first = arrive(team=team, requirements={english.pk: 3})  # Ana is eligible: step 0
        routing.set_capacity(agent_id=ana.pk, capacity=1, actor=None)
        second = arrive(team=team, requirements={english.pk: 3})  # Ana is full: it waits
        post_reply(conversation_id=first.pk, author=first.assignee, body="Olá")
    assert second.status == Status.QUEUED
    with time_machine.travel(start + timedelta(seconds=61), tick=False), \
            django_capture_on_commit_callbacks(execute=True):
        routing.act_on_due(kind="ladder")  # english dropped: Bruno takes it at step 1
    second.refresh_from_db()
    assert (second.assignee_id, second.ladder_step) == (bruno.pk, 1)
    with time_machine.travel(start + timedelta(seconds=90), tick=False):
        post_reply(conversation_id=second.pk, author=bruno, body="Oi")
    day = start.date().isoformat()
    response = client_for(SupervisorFactory()).get(
        f"/api/v1/reports/teams?from={day}&to={day}&team={team.pk}")
    assert response.status_code == 200, response.content
    total = response.json()["totals"][0]
    assert total["served"] == 2
    assert total["by_step"] == [1, 1, 0, 0, 0, 0]
    row = response.json()["rows"][0]
    assert row["by_step"] == [1, 1, 0, 0, 0, 0]
    assert date.fromisoformat(row["period"]) == start.date()
