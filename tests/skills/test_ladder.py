"""The ladder (routing.md 9.4) with time-machine: each step taken once its time has come,
recorded with its reason, followed at once by a distribution attempt; a step that changes
nothing is recorded as passed; overflow makes another team's members candidates (and shows
the conversation in their list of overflow work); changing team restarts the ladder."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.conversations.models import ActorKind, EventKind, Status
from apps.routing import services as routing
from apps.routing.invariants import check_invariants
from apps.routing.services import set_team_ladder
from apps.skills.services import parse_ladder
from apps.teams.models import DistributionMode
from tests.api.conftest import client_for
from tests.factories import AgentFactory, SupervisorFactory, TeamFactory
from tests.helpers import arrive

pytestmark = pytest.mark.django_db


def fresh(conversation):
    conversation.refresh_from_db()
    return conversation


def later(seconds):
    return time_machine.travel(timezone.now() + timedelta(seconds=seconds), tick=False)


def with_ladder(team, steps):
    set_team_ladder(team=team, steps=parse_ladder(steps, team_id=team.pk))
    return team


def test_drop_after_its_time_then_distributed_at_once(skill, give, committed):
    english = skill("english")
    bruno = AgentFactory(name="Bruno")
    team = with_ladder(
        TeamFactory(distribution_mode=DistributionMode.CAPACITY, agents=[bruno]),
        [{"after_seconds": 60, "action": "drop", "skills": [english.pk]}],
    )
    conversation = arrive(team=team, requirements={english.pk: 3})
    assert conversation.status == Status.QUEUED
    assert conversation.next_step_at == conversation.queued_at + timedelta(seconds=60)
    with later(59), committed():
        assert routing.act_on_due(kind="ladder") == 0
    assert fresh(conversation).ladder_step == 0
    with later(61), committed():
        assert routing.act_on_due(kind="ladder") == 1
    conversation = fresh(conversation)
    assert (conversation.status, conversation.assignee_id) == (Status.ASSIGNED, bruno.pk)
    assert (conversation.ladder_step, conversation.next_step_at) == (1, None)
    step = conversation.events.get(kind=EventKind.STEP)
    assert step.actor_kind == ActorKind.LADDER
    assert step.reason == ("After 1 minute nobody had taken it with english 3 required: "
                           "english no longer required.")
    assert list(conversation.requirements.values_list("in_force", flat=True)) == [False]
    assert check_invariants() == []


def test_the_reason_in_the_readers_language(skill, committed, settings):
    from django.utils import translation

    english = skill("english")
    team = with_ladder(TeamFactory(distribution_mode=DistributionMode.MANUAL),
                       [{"after_seconds": 90, "action": "lower", "by": 2}])
    conversation = arrive(team=team, requirements={english.pk: 3})
    with later(91), committed():
        routing.act_on_due(kind="ladder")
    step = conversation.events.get(kind=EventKind.STEP)
    with translation.override("pt-br"):
        assert "english" in step.reason and "After" not in step.reason
    assert fresh(conversation).requirements.get().min_level == 1


def test_a_step_that_changes_nothing_is_recorded_as_passed(skill, committed):
    english, billing = skill("english"), skill("billing")
    team = with_ladder(TeamFactory(distribution_mode=DistributionMode.MANUAL), [
        {"after_seconds": 30, "action": "drop", "skills": [billing.pk]},
        {"after_seconds": 60, "action": "drop", "skills": None},
    ])
    conversation = arrive(team=team, requirements={english.pk: 1})
    with later(61), committed():
        assert routing.act_on_due(kind="ladder") == 1  # both steps at once, each recorded
    steps = list(conversation.events.filter(kind=EventKind.STEP).order_by("id"))
    assert [s.data["step"] for s in steps] == [1, 2]
    assert "changed nothing" in steps[0].reason
    assert "english no longer required" in steps[1].reason
    assert fresh(conversation).ladder_step == 2


def test_overflow_makes_another_teams_members_candidates(skill, give, committed):
    english = skill("english")
    speaker = give(AgentFactory(name="Sara"), english=2)
    sales = TeamFactory(name="Vendas", distribution_mode=DistributionMode.CAPACITY,
                        agents=[AgentFactory(name="Ana")])
    support = TeamFactory(name="Suporte", agents=[speaker])
    with_ladder(sales, [{"after_seconds": 120, "action": "overflow", "team": support.pk}])
    conversation = arrive(team=sales, requirements={english.pk: 2})
    waiting = arrive(team=sales, requirements={english.pk: 2})
    assert client_for(speaker).get("/api/v1/conversations/overflow").json()["results"] == []
    routing.set_presence(agent=speaker, status="away", actor=speaker)
    speaker.refresh_from_db()
    speaker.capacity = 1
    speaker.save(update_fields=["capacity"])
    with later(121), committed():
        assert routing.act_on_due(kind="ladder") == 2
    event = conversation.events.get(kind=EventKind.OVERFLOWED)
    assert "the online members of Suporte may take it too" in event.reason
    listed = client_for(speaker).get("/api/v1/conversations/overflow").json()["results"]
    assert [row["id"] for row in listed] == [conversation.pk, waiting.pk]
    assert listed[0]["ladder_step"] == 1
    # Coming online, Sara gets the oldest she can serve, though not a member of Vendas
    # (the clock stays after the step: the history is in order of time).
    with later(122):
        with committed():
            routing.set_presence(agent=speaker, status="online", actor=speaker)
        assert fresh(conversation).assignee_id == speaker.pk
        assert check_invariants() == []
        # An overflow candidate may claim from the list.
        routing.claim_conversation(conversation_id=waiting.pk, agent=speaker)
    assert fresh(waiting).assignee_id == speaker.pk


def test_changing_team_restarts_the_ladder(skill, committed):
    english = skill("english")
    first = with_ladder(TeamFactory(distribution_mode=DistributionMode.MANUAL), [
        {"after_seconds": 10, "action": "drop", "skills": None}])
    second = with_ladder(TeamFactory(distribution_mode=DistributionMode.MANUAL), [
        {"after_seconds": 300, "action": "lower", "by": 1}])
    conversation = arrive(team=first, requirements={english.pk: 2})
    with later(11), committed():
        routing.act_on_due(kind="ladder")
    assert fresh(conversation).requirements.get().in_force is False
    with later(20), committed():
        routing.route_to_team(conversation_id=conversation.pk, team_id=second.pk,
                              actor=SupervisorFactory())
        conversation = fresh(conversation)
        assert conversation.ladder_step == 0
        assert conversation.next_step_at == conversation.queued_at + timedelta(seconds=300)
        requirement = conversation.requirements.get()
        assert (requirement.in_force, requirement.min_level) == (True, 2)


def test_a_changed_ladder_moves_the_deadlines_of_queued_conversations(skill):
    team = TeamFactory(distribution_mode=DistributionMode.MANUAL)
    conversation = arrive(team=team)
    assert conversation.next_step_at is None
    with_ladder(team, [{"after_seconds": 45, "action": "drop", "skills": None}])
    assert fresh(conversation).next_step_at == conversation.queued_at + timedelta(seconds=45)
    with_ladder(team, [])
    assert fresh(conversation).next_step_at is None


def test_the_floor_counts_queued_conversations_per_ladder_step(skill, committed):
    from apps.floor.stats import floor_stats

    english = skill("english")
    team = with_ladder(TeamFactory(name="Vendas", distribution_mode=DistributionMode.MANUAL),
                       [{"after_seconds": 60, "action": "lower", "by": 1}])
    first = arrive(team=team, requirements={english.pk: 2})
    with later(30):
        arrive(team=team, requirements={english.pk: 2})
    with later(61), committed():
        routing.act_on_due(kind="ladder")
        row = next(t for t in floor_stats()["teams"] if t["id"] == team.pk)
    assert fresh(first).ladder_step == 1
    assert row["queued_by_step"] == [1, 1]
