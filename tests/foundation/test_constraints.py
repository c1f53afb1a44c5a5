"""The database itself refuses rows that break the routing model (architecture.md rule 8)."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.conversations.models import Conversation, Status
from apps.organizations.models import PreferentialRule, RuleType
from apps.teams.models import RoutingSettings
from tests.factories import (
    AgentFactory,
    ContactFactory,
    OrganizationFactory,
    RuleFactory,
    TeamFactory,
)

pytestmark = pytest.mark.django_db


def refused(**fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        Conversation.objects.create(queued_at=timezone.now(), **fields)


def test_assigned_needs_an_assignee():
    refused(contact=ContactFactory(), status=Status.ASSIGNED, team=TeamFactory())


def test_unassigned_states_have_no_assignee():
    refused(contact=ContactFactory(), status=Status.QUEUED, team=TeamFactory(),
            assignee=AgentFactory())


def test_queued_needs_a_team():
    refused(contact=ContactFactory(), status=Status.QUEUED)


def test_waiting_has_no_team():
    refused(contact=ContactFactory(), status=Status.WAITING, team=TeamFactory())


def test_reserved_needs_a_preferred_agent():
    refused(contact=ContactFactory(), status=Status.RESERVED, team=TeamFactory())


def test_closed_needs_closed_at_and_open_has_none():
    refused(contact=ContactFactory(), status=Status.CLOSED)
    refused(contact=ContactFactory(), status=Status.WAITING, closed_at=timezone.now())


def test_preference_is_agent_and_type_together():
    refused(contact=ContactFactory(), status=Status.WAITING, preferred_agent=AgentFactory())


def test_one_open_conversation_per_contact():
    contact = ContactFactory()
    Conversation.objects.create(contact=contact, status=Status.WAITING)
    refused(contact=contact, status=Status.QUEUED, team=TeamFactory())
    # Closed ones do not count: history may hold many.
    Conversation.objects.create(
        contact=contact, status=Status.CLOSED, closed_at=timezone.now()
    )
    assert Conversation.objects.filter(contact=contact).count() == 2


def test_unknown_status_is_refused():
    refused(contact=ContactFactory(), status="lost")


def test_rule_needs_exactly_one_target():
    agent = AgentFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        PreferentialRule.objects.create(
            organization=OrganizationFactory(), contact=ContactFactory(), agent=agent,
            type=RuleType.QUEUE,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        PreferentialRule.objects.create(agent=agent, type=RuleType.QUEUE)
    assert not PreferentialRule.objects.exists()


def test_one_active_rule_per_organization_but_inactive_ones_may_pile_up():
    organization = OrganizationFactory()
    RuleFactory(organization=organization)
    with pytest.raises(IntegrityError), transaction.atomic():
        RuleFactory(organization=organization, type=RuleType.AUTO)
    RuleFactory(organization=organization, active=False)
    RuleFactory(organization=organization, active=False)
    assert PreferentialRule.objects.filter(organization=organization).count() == 3


def test_one_active_rule_per_contact():
    contact = ContactFactory()
    RuleFactory(contact=contact)
    with pytest.raises(IntegrityError), transaction.atomic():
        RuleFactory(contact=contact)
    RuleFactory(contact=contact, active=False)
    assert PreferentialRule.objects.filter(contact=contact, active=True).count() == 1


def test_rule_type_must_be_known():
    with pytest.raises(IntegrityError), transaction.atomic():
        RuleFactory(organization=OrganizationFactory(), type="maybe")


def test_capacity_cannot_be_negative():
    agent = AgentFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        type(agent).objects.filter(pk=agent.pk).update(capacity=-1)
    agent.refresh_from_db()
    assert agent.capacity == 5


def test_open_count_cannot_be_negative():
    agent = AgentFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        type(agent).objects.filter(pk=agent.pk).update(open_count=-1)


def test_role_and_presence_must_be_known():
    agent = AgentFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        type(agent).objects.filter(pk=agent.pk).update(role="owner")
    with pytest.raises(IntegrityError), transaction.atomic():
        type(agent).objects.filter(pk=agent.pk).update(presence="busy")


def test_routing_settings_is_a_single_row():
    RoutingSettings.load()
    with pytest.raises(IntegrityError), transaction.atomic():
        RoutingSettings.objects.create(id=2)
    assert list(RoutingSettings.objects.values_list("id", flat=True)) == [1]


def test_team_mode_must_be_known():
    team = TeamFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        type(team).objects.filter(pk=team.pk).update(distribution_mode="random")
