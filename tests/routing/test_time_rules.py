"""routing.md section 8.1-8.3 with time travel: the preferred agent's wait limit, the
first-reply handover and the offline requeue, at the edges of their deadlines."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from apps.accounts.models import Presence, User
from apps.conversations.models import ActorKind, Conversation, EventKind, Status
from apps.conversations.services import post_reply
from apps.organizations.models import RuleType
from apps.routing.services import (
    act_on_due,
    assign_conversation,
    claim_conversation,
    close_conversation,
    set_presence,
)
from apps.routing.services.time_rules import DeadlineKind
from apps.routing.tasks import sweep
from apps.teams.models import DistributionMode, RoutingSettings
from apps.teams.services import update_team
from tests.factories import (
    AgentFactory,
    ContactFactory,
    RuleFactory,
    SupervisorFactory,
    TeamFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def later(clock, seconds):
    clock.shift(timedelta(seconds=seconds))


def fresh(conversation) -> Conversation:
    return Conversation.objects.select_related("team", "assignee").get(pk=conversation.pk)


def busy(agent, arrive):
    """Fill the agent's capacity with conversations they took."""
    for _ in range(agent.capacity):
        claim_conversation(conversation_id=arrive().pk, agent=agent)


# --------------------------------------------------------------------------- 8.1 reservations


@pytest.fixture
def reserved_world(clock, arrive):
    diego = AgentFactory(name="Diego Rocha", capacity=1)
    ana = AgentFactory(name="Ana", capacity=3)
    busy(diego, arrive)
    support = TeamFactory(name="Suporte", distribution_mode=DistributionMode.CAPACITY,
                          agents=[ana, diego])
    contact = ContactFactory(name="Carla")
    rule = RuleFactory(contact=contact, agent=diego, type=RuleType.AUTO)
    return diego, ana, support, contact, rule


def test_a_reservation_ends_after_the_settings_limit_and_keeps_the_star(
    clock, arrive, reserved_world, invariants_hold
):
    diego, ana, support, contact, _rule = reserved_world
    conversation = arrive(contact=contact, team=support)
    assert conversation.status == Status.RESERVED
    assert conversation.reserved_until == START + timedelta(seconds=300)  # the default
    assert "at most 5 minutes" in conversation.events.get().reason

    later(clock, 299)
    assert act_on_due(kind=DeadlineKind.RESERVATION) == 0
    assert fresh(conversation).status == Status.RESERVED

    later(clock, 1)  # exactly due
    assert act_on_due(kind=DeadlineKind.RESERVATION) == 1
    conversation = fresh(conversation)
    assert (conversation.status, conversation.assignee, conversation.preferred_agent) == (
        Status.ASSIGNED, ana, diego,
    )
    assert conversation.reserved_until is None
    released, assigned = conversation.events.order_by("id")[1:]
    assert released.kind == EventKind.RELEASED and released.actor_kind == ActorKind.TIME_RULE
    assert released.reason == (
        "Diego Rocha did not become free within 5 minutes: released into Suporte, still "
        "starred for them."
    )
    assert (released.from_status, released.to_status) == (Status.RESERVED, Status.QUEUED)
    assert assigned.to_assignee == ana
    assert act_on_due(kind=DeadlineKind.RESERVATION) == 0  # never twice
    assert conversation.events.count() == 3
    invariants_hold()


def test_the_rule_limit_comes_first_and_null_everywhere_means_no_limit(
    clock, arrive, reserved_world
):
    diego, _ana, support, contact, rule = reserved_world
    rule.max_wait_seconds = 60
    rule.save()
    assert arrive(contact=contact, team=support).reserved_until == START + timedelta(seconds=60)

    RoutingSettings.objects.update_or_create(id=1, defaults={"preferred_max_wait_seconds": None})
    rule.max_wait_seconds = None
    rule.save()
    other = ContactFactory()
    RuleFactory(contact=other, agent=diego, type=RuleType.AUTO)
    unlimited = arrive(contact=other, team=support)
    assert unlimited.status == Status.RESERVED and unlimited.reserved_until is None
    later(clock, 30 * 86400)
    act_on_due(kind=DeadlineKind.RESERVATION)
    assert fresh(unlimited).status == Status.RESERVED


def test_a_zero_limit_does_not_reserve_at_all(clock, arrive, reserved_world):
    diego, ana, support, contact, rule = reserved_world
    rule.max_wait_seconds = 0
    rule.save()
    conversation = arrive(contact=contact, team=support)
    assert (conversation.status, conversation.assignee, conversation.preferred_agent) == (
        Status.ASSIGNED, ana, diego,
    )
    assert "do not wait for a busy agent" in conversation.events.get().reason


def test_a_changed_rule_leaves_the_pending_deadline_as_it_was(clock, arrive, reserved_world):
    _diego, _ana, support, contact, rule = reserved_world
    conversation = arrive(contact=contact, team=support)
    rule.max_wait_seconds = 30
    rule.save()
    later(clock, 60)
    assert act_on_due(kind=DeadlineKind.RESERVATION) == 0  # still the 300 s it was given
    later(clock, 240)
    assert act_on_due(kind=DeadlineKind.RESERVATION) == 1
    assert fresh(conversation).status == Status.ASSIGNED


def test_a_deadline_that_passed_while_nothing_ran_is_acted_on_by_the_sweep(
    clock, arrive, reserved_world, invariants_hold
):
    _diego, ana, support, contact, _rule = reserved_world
    conversation = arrive(contact=contact, team=support)
    later(clock, 3600)  # every process was down for an hour
    assert check_invariants_reports(conversation)
    User.objects.update(last_heartbeat=START + timedelta(seconds=3600))  # inboxes are back
    result = sweep()
    assert result["deadlines"]["reservation"] == 1
    assert fresh(conversation).assignee == ana
    released = conversation.events.get(kind=EventKind.RELEASED)
    assert released.data["deadline"] == "2026-03-02T12:05:00Z"
    assert released.data["acted_at"] == "2026-03-02T13:00:00Z"
    invariants_hold()


def check_invariants_reports(conversation) -> bool:
    from apps.routing.invariants import check_invariants

    return any(f"conversation {conversation.pk}'s reservation" in p for p in check_invariants())


def test_a_reservation_without_a_team_is_released_into_waiting(clock, arrive, reserved_world):
    _diego, _ana, _support, contact, _rule = reserved_world
    conversation = arrive(contact=contact)
    later(clock, 300)
    act_on_due(kind=DeadlineKind.RESERVATION)
    conversation = fresh(conversation)
    assert (conversation.status, conversation.team) == (Status.WAITING, None)
    assert "released into Waiting" in conversation.events.order_by("id").last().reason


def test_claimed_or_freed_before_the_end_nothing_happens_later(clock, arrive, reserved_world):
    diego, _ana, support, contact, _rule = reserved_world
    conversation = arrive(contact=contact, team=support)
    later(clock, 100)
    close_conversation(conversation_id=diego.assigned_conversations.get().pk, actor=diego)
    conversation = fresh(conversation)
    assert (conversation.status, conversation.assignee) == (Status.ASSIGNED, diego)
    assert conversation.reserved_until is None
    later(clock, 300)
    assert act_on_due(kind=DeadlineKind.RESERVATION) == 0


# --------------------------------------------------------------------------- 8.2 first reply


@pytest.fixture
def reply_team(clock):
    ana = AgentFactory(name="Ana", capacity=2)
    bruno = AgentFactory(name="Bruno", capacity=2)
    team = TeamFactory(name="Vendas", distribution_mode=DistributionMode.CAPACITY,
                       agents=[ana, bruno])
    team.first_reply_seconds = 120
    team.save()
    return team, ana, bruno


def test_no_reply_in_time_hands_over_to_another_agent(
    clock, arrive, reply_team, invariants_hold
):
    team, ana, bruno = reply_team
    conversation = arrive(team=team)
    first = conversation.assignee
    other = bruno if first == ana else ana
    assert conversation.reply_due_at == START + timedelta(seconds=120)
    later(clock, 119)
    assert act_on_due(kind=DeadlineKind.REPLY) == 0
    later(clock, 1)
    assert act_on_due(kind=DeadlineKind.REPLY) == 1
    conversation = fresh(conversation)
    assert conversation.assignee == other
    assert conversation.reply_due_at == START + timedelta(seconds=240)  # a new clock
    assert User.objects.get(pk=first.pk).open_count == 0  # their load dropped
    handed = conversation.events.get(kind=EventKind.HANDED_OVER)
    assert handed.reason == (
        f"{first.name} did not reply within 2 minutes: taken back into Vendas, and it will "
        f"not go back to them automatically."
    )
    assert (handed.from_assignee, handed.to_status) == (first, Status.QUEUED)
    invariants_hold()


def test_a_reply_one_second_before_keeps_the_conversation(clock, arrive, reply_team):
    team, _ana, _bruno = reply_team
    conversation = arrive(team=team)
    later(clock, 119)
    post_reply(conversation_id=conversation.pk, author=conversation.assignee, body="Olá!")
    assert fresh(conversation).reply_due_at is None
    later(clock, 1000)
    assert act_on_due(kind=DeadlineKind.REPLY) == 0
    assert fresh(conversation).assignee == conversation.assignee


def test_a_supervisors_message_is_not_the_assignees_reply(clock, arrive, reply_team):
    team, _ana, _bruno = reply_team
    conversation = arrive(team=team)
    post_reply(conversation_id=conversation.pk, author=SupervisorFactory(), body="Nota")
    later(clock, 120)
    assert act_on_due(kind=DeadlineKind.REPLY) == 1


def test_claimed_and_hand_assigned_conversations_are_never_taken_back(
    clock, arrive, reply_team
):
    team, ana, bruno = reply_team
    team.distribution_mode = DistributionMode.MANUAL
    team.save()
    claimed = arrive(team=team)
    claim_conversation(conversation_id=claimed.pk, agent=ana)
    assigned = arrive(team=team)
    assign_conversation(conversation_id=assigned.pk, agent_id=bruno.pk,
                        actor=SupervisorFactory())
    assert fresh(claimed).reply_due_at is None and fresh(assigned).reply_due_at is None
    later(clock, 10_000)
    assert act_on_due(kind=DeadlineKind.REPLY) == 0


def test_never_back_to_the_same_agent_even_when_only_they_have_room(
    clock, arrive, reply_team, invariants_hold
):
    team, ana, bruno = reply_team
    set_presence(agent=bruno, status=Presence.AWAY)
    conversation = arrive(team=team)
    assert conversation.assignee == ana
    later(clock, 120)
    act_on_due(kind=DeadlineKind.REPLY)
    conversation = fresh(conversation)
    assert (conversation.status, conversation.handed_over_from) == (Status.QUEUED, ana)
    assert User.objects.get(pk=ana.pk).open_count == 0
    invariants_hold()  # waiting while only Ana has room is allowed for this one
    newer = arrive(team=team)
    assert newer.assignee == ana  # she still gets other conversations
    set_presence(agent=bruno, status=Presence.ONLINE)
    conversation = fresh(conversation)
    assert (conversation.assignee, conversation.handed_over_from) == (bruno, None)
    invariants_hold()


def test_switching_the_rule_off_cancels_pending_handovers(clock, arrive, reply_team):
    team, _ana, _bruno = reply_team
    conversation = arrive(team=team)
    update_team(team=team, first_reply_seconds=60)  # a new limit: the deadline set stands
    assert fresh(conversation).reply_due_at == START + timedelta(seconds=120)
    update_team(team=team, first_reply_seconds=None)
    assert fresh(conversation).reply_due_at is None
    later(clock, 1000)
    assert act_on_due(kind=DeadlineKind.REPLY) == 0


def test_a_sequential_team_hands_over_by_rotation(clock, arrive, reply_team):
    team, ana, bruno = reply_team
    team.distribution_mode = DistributionMode.SEQUENTIAL
    team.save()
    conversation = arrive(team=team)
    first = conversation.assignee
    later(clock, 120)
    act_on_due(kind=DeadlineKind.REPLY)
    assert fresh(conversation).assignee == (bruno if first == ana else ana)


# --------------------------------------------------------------------------- 8.3 offline


@pytest.fixture
def offline_world(clock, arrive):
    ana = AgentFactory(name="Ana", capacity=5)
    bruno = AgentFactory(name="Bruno", capacity=5)
    requeues = TeamFactory(name="Suporte", distribution_mode=DistributionMode.MANUAL,
                           agents=[ana, bruno])
    requeues.offline_requeue_seconds = 600
    requeues.save()
    keeps = TeamFactory(name="Vendas", agents=[ana])
    mine = [arrive(team=requeues), arrive(team=requeues), arrive(team=keeps)]
    for conversation in mine:
        claim_conversation(conversation_id=conversation.pk, agent=ana)
    requeues.distribution_mode = DistributionMode.CAPACITY
    requeues.save()
    return ana, bruno, requeues, keeps, mine


def test_an_agent_offline_too_long_loses_that_teams_conversations(
    clock, offline_world, invariants_hold
):
    ana, bruno, requeues, keeps, mine = offline_world
    set_presence(agent=ana, status=Presence.OFFLINE)
    later(clock, 599)
    assert act_on_due(kind=DeadlineKind.OFFLINE) == 0
    later(clock, 1)
    assert act_on_due(kind=DeadlineKind.OFFLINE) == 2
    assert [fresh(c).assignee for c in mine] == [bruno, bruno, ana]  # Vendas keeps it
    requeued = mine[0].events.get(kind=EventKind.REQUEUED)
    assert requeued.reason == (
        "Ana has been offline for 10 minutes: back into Suporte for someone online."
    )
    assert User.objects.get(pk=ana.pk).open_count == 1
    assert act_on_due(kind=DeadlineKind.OFFLINE) == 0
    invariants_hold()


def test_away_keeps_them_and_coming_back_in_time_keeps_them(clock, offline_world):
    ana, _bruno, _requeues, _keeps, mine = offline_world
    set_presence(agent=ana, status=Presence.AWAY)
    later(clock, 3600)
    assert act_on_due(kind=DeadlineKind.OFFLINE) == 0
    set_presence(agent=ana, status=Presence.OFFLINE)
    later(clock, 500)
    set_presence(agent=ana, status=Presence.ONLINE)
    later(clock, 500)
    set_presence(agent=ana, status=Presence.OFFLINE)
    later(clock, 599)  # the clock started again at the last time she went offline
    assert act_on_due(kind=DeadlineKind.OFFLINE) == 0
    assert all(fresh(c).assignee == ana for c in mine)


def test_a_changed_offline_limit_applies_at_once(clock, offline_world):
    ana, bruno, requeues, _keeps, mine = offline_world
    set_presence(agent=ana, status=Presence.OFFLINE)
    later(clock, 120)
    update_team(team=requeues, offline_requeue_seconds=60)  # a worker acts after commit
    assert fresh(mine[0]).assignee == bruno
    assert act_on_due(kind=DeadlineKind.OFFLINE) == 0
