"""routing.md section 3: ATENDER, supervisors' assign/transfer/distribute, and history."""

import pytest

from apps.accounts.models import User
from apps.conversations.models import Status
from apps.core.errors import InvalidInput
from apps.routing.errors import (
    ConversationAlreadyTaken,
    ConversationClosed,
    ConversationNotFound,
    InvalidTransition,
    NotAllowedToRoute,
    UnknownTarget,
)
from apps.routing.services import (
    assign_conversation,
    claim_conversation,
    close_conversation,
    distribute_team_backlog,
    route_to_team,
    transfer_conversation,
)
from apps.teams.models import DistributionMode
from tests.factories import (
    AgentFactory,
    IntegrationFactory,
    SupervisorFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_any_agent_claims_from_waiting_and_the_history_says_so(arrive, invariants_hold):
    agent = AgentFactory(name="Ana")
    conversation = arrive()
    claimed = claim_conversation(conversation_id=conversation.pk, agent=agent)
    assert (claimed.status, claimed.assignee) == (Status.ASSIGNED, agent)
    event = claimed.events.last()
    assert (event.kind, event.actor, event.from_status, event.to_status) == (
        "claimed", agent, "waiting", "assigned",
    )
    assert event.reason == "Ana took it from Waiting (ATENDER)."
    invariants_hold()


def test_the_loser_of_a_claim_is_told_who_took_it(arrive):
    winner, loser = AgentFactory(name="Ana"), AgentFactory()
    conversation = arrive()
    claim_conversation(conversation_id=conversation.pk, agent=winner)
    with pytest.raises(ConversationAlreadyTaken) as taken:
        claim_conversation(conversation_id=conversation.pk, agent=loser)
    assert taken.value.assignee["id"] == winner.pk
    assert "Ana already took" in taken.value.detail
    assert User.objects.get(pk=loser.pk).open_count == 0


def test_only_members_claim_from_a_team_queue(arrive):
    member, outsider = AgentFactory(), AgentFactory()
    team = TeamFactory(agents=[member])
    conversation = arrive(team=team)
    with pytest.raises(ConversationNotFound):  # another team's queue is not theirs to see
        claim_conversation(conversation_id=conversation.pk, agent=outsider)
    conversation.refresh_from_db()
    assert conversation.status == Status.QUEUED
    assert claim_conversation(conversation_id=conversation.pk, agent=member).assignee == member


def test_claiming_a_closed_conversation_is_refused(arrive):
    supervisor = SupervisorFactory()
    conversation = arrive()
    close_conversation(conversation_id=conversation.pk, actor=supervisor)
    # Said to whoever may see it (an agent who may not is told what test_claim_privacy says).
    with pytest.raises(ConversationClosed):
        claim_conversation(conversation_id=conversation.pk, agent=SupervisorFactory())


def test_supervisor_assigns_anything_to_anyone_even_above_capacity(arrive, invariants_hold):
    supervisor = SupervisorFactory()
    full = AgentFactory(capacity=0)
    first_owner = AgentFactory()
    conversation = arrive()
    claim_conversation(conversation_id=conversation.pk, agent=first_owner)
    assign_conversation(conversation_id=conversation.pk, agent_id=full.pk, actor=supervisor)
    conversation.refresh_from_db()
    assert conversation.assignee == full
    assert User.objects.get(pk=first_owner.pk).open_count == 0
    assert User.objects.get(pk=full.pk).open_count == 1
    assert "it was with" in conversation.events.last().reason
    invariants_hold()


def test_agents_cannot_assign_or_transfer_what_is_not_theirs(arrive):
    agent = AgentFactory()
    conversation = arrive()
    with pytest.raises(NotAllowedToRoute):
        assign_conversation(conversation_id=conversation.pk, agent_id=agent.pk, actor=agent)
    with pytest.raises(NotAllowedToRoute):
        transfer_conversation(conversation_id=conversation.pk, team_id=TeamFactory().pk,
                              actor=agent)
    with pytest.raises(NotAllowedToRoute):
        close_conversation(conversation_id=conversation.pk, actor=agent)


def test_transfer_to_a_team_re_enters_routing_there_without_bouncing_back(
    arrive, invariants_hold
):
    ana, bruno = AgentFactory(), AgentFactory()
    source = TeamFactory(agents=[ana])
    target = TeamFactory(distribution_mode=DistributionMode.CAPACITY, agents=[ana, bruno])
    conversation = arrive(team=source)
    claim_conversation(conversation_id=conversation.pk, agent=ana)
    transfer_conversation(conversation_id=conversation.pk, team_id=target.pk, actor=ana)
    conversation.refresh_from_db()
    assert (conversation.team, conversation.assignee) == (target, bruno)
    assert conversation.events.last().kind == "transferred"
    invariants_hold()


def test_transfer_to_an_agent_and_bad_targets(arrive):
    ana, bruno = AgentFactory(), AgentFactory()
    conversation = arrive()
    claim_conversation(conversation_id=conversation.pk, agent=ana)
    with pytest.raises(InvalidInput):
        transfer_conversation(conversation_id=conversation.pk, actor=ana)
    with pytest.raises(UnknownTarget):
        transfer_conversation(conversation_id=conversation.pk, agent_id=999999, actor=ana)
    with pytest.raises(UnknownTarget):
        transfer_conversation(conversation_id=conversation.pk, agent_id="1", actor=ana)
    transfer_conversation(conversation_id=conversation.pk, agent_id=bruno.pk, actor=ana)
    conversation.refresh_from_db()
    assert conversation.assignee == bruno


def test_bot_routes_again_to_another_team_but_not_an_assigned_one(arrive):
    bot = IntegrationFactory()
    sales, support = TeamFactory(), TeamFactory()
    conversation = arrive(team=sales, actor=bot)  # a bot routes the ones it opened
    route_to_team(conversation_id=conversation.pk, team_id=support.pk, actor=bot)
    conversation.refresh_from_db()
    assert conversation.team == support
    event = conversation.events.last()
    assert (event.kind, event.actor_kind, event.actor_integration) == ("routed", "bot", bot)
    claim_conversation(conversation_id=conversation.pk, agent=SupervisorFactory())
    with pytest.raises(InvalidTransition):
        route_to_team(conversation_id=conversation.pk, team_id=sales.pk, actor=bot)
    with pytest.raises(NotAllowedToRoute):
        route_to_team(conversation_id=conversation.pk, team_id=sales.pk, actor=AgentFactory())


@pytest.mark.parametrize("mode", [DistributionMode.MANUAL, DistributionMode.SEQUENTIAL])
def test_supervisor_distributes_a_manual_or_sequential_backlog_by_rotation(
    mode, arrive, invariants_hold
):
    ana, bruno = UserFactory(), UserFactory()
    team = TeamFactory(distribution_mode=mode, agents=[ana, bruno])
    backlog = [arrive(team=team) for _ in range(5)]
    User.objects.filter(pk__in=[ana.pk, bruno.pk]).update(presence="online")
    assert distribute_team_backlog(team_id=team.pk) == 0  # never automatic for these modes
    assigned = distribute_team_backlog(team_id=team.pk, actor=SupervisorFactory())
    assert assigned == 5
    owners = [c.assignee for c in [type(c).objects.get(pk=c.pk) for c in backlog]]
    assert sorted([owners.count(ana), owners.count(bruno)]) == [2, 3]
    invariants_hold()


def test_only_supervisors_distribute_on_demand():
    with pytest.raises(NotAllowedToRoute):
        distribute_team_backlog(team_id=TeamFactory().pk, actor=AgentFactory())


def test_what_an_agent_may_not_see_does_not_exist_for_them(arrive):
    from apps.conversations.services import post_reply

    insider, outsider = AgentFactory(name="Ana"), AgentFactory()
    team = TeamFactory(name="Secret", agents=[insider])
    held = arrive(team=team)
    claim_conversation(conversation_id=held.pk, agent=insider)
    queued = arrive(team=team)
    attempts = [
        lambda: claim_conversation(conversation_id=held.pk, agent=outsider),
        lambda: claim_conversation(conversation_id=queued.pk, agent=outsider),
        lambda: close_conversation(conversation_id=held.pk, actor=outsider),
        lambda: transfer_conversation(conversation_id=held.pk, agent_id=outsider.pk,
                                      actor=outsider),
        lambda: post_reply(conversation_id=held.pk, author=outsider, body="oi"),
    ]
    for attempt in attempts:
        with pytest.raises(ConversationNotFound) as refused:
            attempt()
        assert "Ana" not in refused.value.detail and "Secret" not in refused.value.detail
    held.refresh_from_db()
    assert held.assignee == insider
