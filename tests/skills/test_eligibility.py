"""Only an agent eligible at the conversation's current step gets it automatically
(routing.md 9.3): at arrival, in backlog runs, when an agent comes online or frees capacity
(the oldest conversation THEY can serve), in a supervisor's distribute, and in a time rule's
handover; a person's claim and a supervisor's assignment ignore requirements."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.models import Presence
from apps.conversations.models import ActorKind, Conversation, Status
from apps.routing import services as routing
from apps.routing.invariants import check_invariants
from apps.teams.models import DistributionMode
from tests.factories import AgentFactory, SupervisorFactory, TeamFactory
from tests.helpers import arrive

pytestmark = pytest.mark.django_db


def fresh(conversation):
    conversation.refresh_from_db()
    return conversation


def test_arrival_goes_to_the_eligible_agent_even_with_less_room(skill, give):
    english = skill("english")
    busy_speaker = give(AgentFactory(name="Ana", capacity=5, open_count=0), english=3)
    idle = AgentFactory(name="Bruno", capacity=9)
    team = TeamFactory(distribution_mode=DistributionMode.CAPACITY, agents=[busy_speaker, idle])
    conversation = arrive(team=team, requirements={english.pk: 2})
    assert (conversation.status, conversation.assignee_id) == (Status.ASSIGNED, busy_speaker.pk)
    reason = conversation.events.get().reason
    assert "It requires english 2." in reason and "1 of 2 online qualify" in reason


def test_nobody_eligible_leaves_it_queued_with_the_reason(skill, give):
    english = skill("english")
    weak = give(AgentFactory(name="Ana"), english=1)
    team = TeamFactory(name="Vendas", distribution_mode=DistributionMode.CAPACITY,
                       agents=[weak, AgentFactory()])
    conversation = arrive(team=team, requirements={english.pk: 3})
    assert conversation.status == Status.QUEUED
    assert "No online member of team Vendas with room has english 3" in (
        conversation.events.get().reason)
    assert check_invariants() == []


def test_an_agent_who_comes_online_gets_the_oldest_they_can_serve(skill, give, committed):
    english, billing = skill("english"), skill("billing")
    carla = give(AgentFactory(name="Carla", presence=Presence.OFFLINE, capacity=2), billing=2)
    team = TeamFactory(distribution_mode=DistributionMode.CAPACITY, agents=[carla])
    older = [arrive(team=team, requirements={english.pk: 1}) for _ in range(3)]
    mine = [arrive(team=team, requirements={billing.pk: 2}) for _ in range(4)]
    plain = arrive(team=team)
    with committed():
        routing.set_presence(agent=carla, status=Presence.ONLINE, actor=carla)
    assert [fresh(c).assignee_id for c in mine] == [carla.pk, carla.pk, None, None]
    assert all(fresh(c).status == Status.QUEUED for c in [*older, plain])
    assert "oldest conversation they can serve" in fresh(mine[0]).events.last().reason
    assert check_invariants() == []

    def freed_one(conversation) -> int:
        routing.close_conversation(conversation_id=conversation.pk, actor=carla)
        with CaptureQueriesContext(connection) as queries:
            assert routing.handle_agent_available(agent_id=carla.pk) == 1
        return len(queries)

    # Finding them is one query however long the queue of others is.
    short = freed_one(mine[0])
    for _ in range(30):
        arrive(team=team, requirements={english.pk: 1})
    assert freed_one(mine[1]) == short
    assert [fresh(c).assignee_id for c in mine[2:]] == [carla.pk, carla.pk]


def test_a_supervisors_distribute_gives_only_to_eligible_members(skill, give):
    english = skill("english")
    ana = give(AgentFactory(name="Ana"), english=2)
    bruno = AgentFactory(name="Bruno")
    team = TeamFactory(distribution_mode=DistributionMode.SEQUENTIAL, agents=[ana, bruno])
    for agent in (ana, bruno):
        routing.set_presence(agent=agent, status=Presence.AWAY, actor=agent)
    needs = [arrive(team=team, requirements={english.pk: 2}) for _ in range(2)]
    plain = [arrive(team=team) for _ in range(2)]
    for agent in (ana, bruno):
        routing.set_presence(agent=agent, status=Presence.ONLINE, actor=agent)
    assigned = routing.distribute_team_backlog(team_id=team.pk, actor=SupervisorFactory())
    assert assigned == 4
    assert {fresh(c).assignee_id for c in needs} == {ana.pk}
    assert bruno.pk in {fresh(c).assignee_id for c in plain}  # rotation among all for these


def test_a_handover_respects_the_requirements(skill, give, committed):
    english = skill("english")
    ana = give(AgentFactory(name="Ana"), english=2)
    bruno = give(AgentFactory(name="Bruno", capacity=1), english=2)
    caio = AgentFactory(name="Caio", capacity=9)
    team = TeamFactory(distribution_mode=DistributionMode.CAPACITY, agents=[ana, bruno, caio],
                       first_reply_seconds=60)
    conversation = arrive(team=team, requirements={english.pk: 2})
    first = conversation.assignee_id
    assert first in (ana.pk, bruno.pk)
    with time_machine.travel(timezone.now() + timedelta(seconds=61)), committed():
        routing.act_on_due(kind="reply")
    conversation = fresh(conversation)
    assert conversation.assignee_id == ({ana.pk, bruno.pk} - {first}).pop()


def test_a_claim_and_an_assignment_ignore_requirements(skill, give):
    english = skill("english")
    nobody = AgentFactory(name="Ana")
    team = TeamFactory(distribution_mode=DistributionMode.MANUAL, agents=[nobody])
    conversation = arrive(team=team, requirements={english.pk: 5})
    routing.claim_conversation(conversation_id=conversation.pk, agent=nobody)
    assert fresh(conversation).assignee_id == nobody.pk
    other = arrive(team=team, requirements={english.pk: 5})
    routing.assign_conversation(conversation_id=other.pk, agent_id=nobody.pk,
                                actor=SupervisorFactory())
    assert fresh(other).assignee_id == nobody.pk


def test_the_last_agent_first_and_never_waiting_for_them(skill, give, committed):
    ana, bruno = AgentFactory(name="Ana"), AgentFactory(name="Bruno")
    team = TeamFactory(distribution_mode=DistributionMode.SEQUENTIAL, agents=[ana, bruno],
                       sticky_days=7)
    first = arrive("wa:carla", team=team)
    served_by = first.assignee
    routing.close_conversation(conversation_id=first.pk, actor=served_by)
    # Rotation alone would give the next one to the other agent.
    again = arrive("wa:carla", team=team)
    assert again.assignee_id == served_by.pk
    event = again.events.get()
    assert event.actor_kind == ActorKind.STICKY
    assert f"Returning contact: last served by {served_by.display_name}" in event.reason
    routing.close_conversation(conversation_id=again.pk, actor=served_by)
    # Away: it routes as usual at once.
    routing.set_presence(agent=served_by, status=Presence.AWAY, actor=served_by)
    third = arrive("wa:carla", team=team)
    assert third.status == Status.ASSIGNED and third.assignee_id != served_by.pk
    routing.close_conversation(conversation_id=third.pk, actor=third.assignee)
    # Too long ago: the rule does not apply.
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        fourth = arrive("wa:carla", team=team)
    assert fourth.events.get().actor_kind == ActorKind.DISTRIBUTION


def test_the_estimate_counts_only_the_eligible_and_says_so(skill, give):
    english = skill("english")
    ana = give(AgentFactory(name="Ana", capacity=1), english=2)
    team = TeamFactory(distribution_mode=DistributionMode.CAPACITY,
                       agents=[ana, AgentFactory(capacity=1), AgentFactory(capacity=1)])
    arrive(team=team, requirements={english.pk: 2})  # Ana is now full
    needs = arrive(team=team, requirements={english.pk: 2})
    assert needs.status == Status.QUEUED
    from apps.conversations.payloads import conversation_payload

    queue = conversation_payload(needs)["queue"]
    assert queue["position"] == 1 and queue["eligible_online"] == 1
    assert queue["estimated_wait_seconds"] > 0
    routing.set_presence(agent=ana, status=Presence.AWAY, actor=ana)
    queue = conversation_payload(Conversation.objects.get(pk=needs.pk))["queue"]
    assert (queue["eligible_online"], queue["estimated_wait_seconds"]) == (0, None)
