"""routing.md section 4: preferential attendance, rules inherited down the MPTT tree."""

import pytest

from apps.accounts.models import Presence, User
from apps.conversations.models import Status
from apps.organizations.models import RuleType
from apps.organizations.selectors import preferential_rule_for
from apps.routing.services import close_conversation, set_presence
from apps.teams.models import DistributionMode
from tests.factories import (
    AgentFactory,
    ContactFactory,
    OrganizationFactory,
    RuleFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    acme = OrganizationFactory(name="Acme")
    finance = OrganizationFactory(name="Acme Finance", parent=acme, kind="department")
    payroll = OrganizationFactory(name="Payroll", parent=finance, kind="department")
    other = OrganizationFactory(name="Globex")
    return acme, finance, payroll, other


def test_contact_rule_first_then_nearest_node_up_the_tree(tree, django_assert_num_queries):
    acme, finance, payroll, _other = tree
    on_acme = RuleFactory(organization=acme)
    on_finance = RuleFactory(organization=finance)
    contact = ContactFactory(organization=payroll)
    with django_assert_num_queries(1):
        assert preferential_rule_for(contact) == on_finance
    on_contact = RuleFactory(contact=contact)
    with django_assert_num_queries(1):
        assert preferential_rule_for(contact) == on_contact
    assert preferential_rule_for(ContactFactory(organization=acme)) == on_acme


def test_inactive_rules_and_other_branches_do_not_apply(tree):
    acme, finance, payroll, other = tree
    RuleFactory(organization=finance, active=False)
    RuleFactory(organization=other)
    assert preferential_rule_for(ContactFactory(organization=payroll)) is None
    assert preferential_rule_for(ContactFactory(organization=None)) is None


def test_moving_a_subtree_changes_which_rule_applies(tree):
    acme, finance, payroll, other = tree
    RuleFactory(organization=acme)
    on_other = RuleFactory(organization=other)
    contact = ContactFactory(organization=payroll)
    finance.refresh_from_db()
    finance.move_to(other)
    contact.refresh_from_db()
    assert preferential_rule_for(contact) == on_other


def test_queue_rule_stars_the_conversation_and_routing_goes_on(tree, arrive):
    acme, *_ = tree
    preferred = UserFactory(name="Paula")  # offline: the star stays, routing is normal
    RuleFactory(organization=acme, agent=preferred, type=RuleType.QUEUE)
    team = TeamFactory()
    conversation = arrive(team=team, contact=ContactFactory(organization=acme))
    assert conversation.status == Status.QUEUED
    assert (conversation.preferred_agent, conversation.preferred_type) == (preferred, "queue")
    assert "Queue preferential rule on organization Acme: starred for Paula" in (
        conversation.events.get().reason
    )


def test_capacity_distribution_prefers_the_starred_online_member(tree, arrive):
    acme, *_ = tree
    preferred = AgentFactory(capacity=2)
    roomier = AgentFactory(capacity=9)
    RuleFactory(organization=acme, agent=preferred, type=RuleType.QUEUE)
    team = TeamFactory(distribution_mode=DistributionMode.CAPACITY, agents=[preferred, roomier])
    conversation = arrive(team=team, contact=ContactFactory(organization=acme))
    assert conversation.assignee == preferred
    assert "preferred agent" in conversation.events.get().reason


def test_auto_rule_assigns_at_once_to_an_online_agent_with_room(tree, arrive, invariants_hold):
    acme, finance, payroll, _ = tree
    preferred = AgentFactory(name="Paula")
    RuleFactory(organization=acme, agent=preferred, type=RuleType.AUTO)
    conversation = arrive(team=TeamFactory(), contact=ContactFactory(organization=payroll))
    assert (conversation.status, conversation.assignee) == (Status.ASSIGNED, preferred)
    reason = conversation.events.get().reason
    assert "Automatic preferential rule on organization Acme (inherited by Payroll)" in reason
    assert conversation.events.get().actor_kind == "preferential_rule"
    invariants_hold()


def test_auto_rule_reserves_while_busy_and_assigns_when_capacity_frees(
    tree, arrive, invariants_hold, committed
):
    acme, *_ = tree
    preferred = AgentFactory(capacity=1)
    RuleFactory(organization=acme, agent=preferred, type=RuleType.AUTO)
    team = TeamFactory(distribution_mode=DistributionMode.CAPACITY,
                       agents=[AgentFactory(capacity=5)])
    first = arrive(team=team, contact=ContactFactory(organization=acme))
    reserved = arrive(team=team, contact=ContactFactory(organization=acme))
    assert first.assignee == preferred
    assert (reserved.status, reserved.assignee, reserved.team) == (Status.RESERVED, None, team)
    assert "at their limit (1/1)" in reserved.events.get().reason
    invariants_hold()

    with committed():
        close_conversation(conversation_id=first.pk, actor=preferred)
    reserved.refresh_from_db()
    assert (reserved.status, reserved.assignee) == (Status.ASSIGNED, preferred)
    invariants_hold()


def test_auto_rule_with_the_agent_not_online_routes_normally(tree, arrive):
    acme, *_ = tree
    away = AgentFactory(presence=Presence.AWAY, name="Paula")
    other = AgentFactory()
    RuleFactory(organization=acme, agent=away, type=RuleType.AUTO)
    team = TeamFactory(distribution_mode=DistributionMode.SEQUENTIAL, agents=[other])
    conversation = arrive(team=team, contact=ContactFactory(organization=acme))
    assert conversation.assignee == other
    assert conversation.preferred_agent == away  # the star is still shown
    assert "names Paula, who is away: normal routing" in conversation.events.get().reason


def test_going_offline_releases_reservations_into_normal_routing(tree, arrive, invariants_hold):
    acme, *_ = tree
    preferred = AgentFactory(capacity=0)
    helper = AgentFactory()
    RuleFactory(organization=acme, agent=preferred, type=RuleType.AUTO)
    team = TeamFactory(distribution_mode=DistributionMode.SEQUENTIAL, agents=[helper])
    reserved = arrive(team=team, contact=ContactFactory(organization=acme))
    waiting_reserved = arrive(contact=ContactFactory(organization=acme))
    assert reserved.status == waiting_reserved.status == Status.RESERVED

    set_presence(agent=preferred, status=Presence.OFFLINE)
    reserved.refresh_from_db()
    waiting_reserved.refresh_from_db()
    assert reserved.assignee == helper  # the team's distribution served the client
    assert waiting_reserved.status == Status.WAITING
    assert "reservation was released" in reserved.events.last().reason
    invariants_hold()


def test_coming_online_takes_reserved_conversations_before_the_team_backlog(arrive, committed):
    acme = OrganizationFactory()
    preferred = AgentFactory(capacity=1)
    team = TeamFactory(distribution_mode=DistributionMode.CAPACITY, agents=[preferred])
    RuleFactory(organization=acme, agent=preferred, type=RuleType.AUTO)
    held = arrive(team=team, contact=ContactFactory(organization=acme))
    set_presence(agent=preferred, status=Presence.AWAY)
    queued = arrive(team=team)  # team backlog, older than the reservation below
    User.objects.filter(pk=preferred.pk).update(presence=Presence.ONLINE)
    reserved = arrive(team=team, contact=ContactFactory(organization=acme))
    assert reserved.status == Status.RESERVED
    with committed():
        close_conversation(conversation_id=held.pk, actor=preferred)
    reserved.refresh_from_db()
    queued.refresh_from_db()
    assert reserved.assignee == preferred
    assert queued.status == Status.QUEUED


def test_deactivating_the_preferred_agent_sends_their_reservations_on(tree, arrive):
    from apps.routing.services import deactivate_agent

    acme, *_ = tree
    preferred = AgentFactory(capacity=0)
    RuleFactory(organization=acme, agent=preferred, type=RuleType.AUTO)
    reserved = arrive(contact=ContactFactory(organization=acme))
    assert reserved.status == Status.RESERVED
    deactivate_agent(agent_id=preferred.pk)
    reserved.refresh_from_db()
    preferred.refresh_from_db()
    assert reserved.status == Status.WAITING
    assert (preferred.is_active, preferred.presence) == (False, Presence.OFFLINE)
