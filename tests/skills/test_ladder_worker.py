"""The ladder on a real Celery worker (Redis broker, PostgreSQL): the wake-up armed when a
conversation is queued takes the step at its time, and the conversation is distributed at
once."""

import pytest

from apps.conversations.models import Conversation, ConversationEvent, EventKind, Status
from apps.routing.invariants import check_invariants
from apps.routing.services import set_team_ladder
from apps.skills.models import Skill
from apps.skills.services import parse_ladder
from apps.teams.models import DistributionMode
from tests.factories import AgentFactory, TeamFactory
from tests.helpers import arrive, wait_until
from tests.routing.test_deadline_worker import start_worker
from tests.routing.test_worker import broker, stop  # noqa: F401 - fixture

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.mark.worker
@pytest.mark.usefixtures("broker")
def test_a_workers_wake_up_takes_the_step_and_distributes():
    english = Skill.objects.create(name="english")
    bruno = AgentFactory(name="Bruno")
    team = TeamFactory(distribution_mode=DistributionMode.CAPACITY, agents=[bruno])
    set_team_ladder(team=team, steps=parse_ladder(
        [{"after_seconds": 2, "action": "drop", "skills": [english.pk]}], team_id=team.pk))
    worker = start_worker()
    try:
        conversation = arrive(team=team, requirements={english.pk: 2})
        assert conversation.status == Status.QUEUED
        # No beat runs: only the wake-up armed on commit can take the step.
        wait_until(
            lambda: Conversation.objects.get(pk=conversation.pk).status == Status.ASSIGNED,
            within=30, what="the step taken and the conversation assigned",
        )
    finally:
        stop(worker)
    step = ConversationEvent.objects.get(conversation=conversation, kind=EventKind.STEP)
    assert step.at >= conversation.next_step_at  # never before its time
    assert Conversation.objects.get(pk=conversation.pk).assignee_id == bruno.pk
    assert check_invariants() == []
