"""Deleting a team goes through a service: its members' histories say they left it, the
history of configuration says who deleted it, and a team still in use is refused unchanged."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.models import AgentChange, AgentChangeKind
from apps.teams.models import ConfigurationChange, Membership, Team
from tests.factories import AdminFactory, AgentFactory, ConversationFactory, TeamFactory


def members(team, *agents):
    for agent in agents:
        Membership.objects.create(team=team, agent=agent)


@pytest.mark.django_db
def test_deleting_a_team_through_the_api_records_who_left_and_who_deleted_it():
    admin, ana, bia = AdminFactory(), AgentFactory(), AgentFactory()
    team = TeamFactory(name="Cobrança")
    members(team, ana, bia)
    client = APIClient()
    client.force_authenticate(admin)
    assert client.delete(f"/api/v1/teams/{team.pk}/").status_code == 204
    assert not Team.objects.filter(pk=team.pk).exists()
    left = AgentChange.objects.filter(kind=AgentChangeKind.TEAM_LEFT)
    assert sorted(left.values_list("agent_id", flat=True)) == sorted([ana.pk, bia.pk])
    assert {row.actor_id for row in left} == {admin.pk}
    deleted = ConfigurationChange.objects.get(field="deleted")
    assert (deleted.team_name, deleted.actor_id, deleted.after) == ("Cobrança", admin.pk, None)


@pytest.mark.django_db
def test_deleting_a_team_in_the_admin_records_the_same():
    admin, ana = AdminFactory(), AgentFactory()
    team = TeamFactory(name="Vendas")
    members(team, ana)
    client = Client()
    client.force_login(admin)
    response = client.post(f"/admin/teams/team/{team.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Team.objects.filter(pk=team.pk).exists()
    assert AgentChange.objects.filter(kind=AgentChangeKind.TEAM_LEFT, agent=ana).exists()
    assert ConfigurationChange.objects.filter(field="deleted", team_name="Vendas").exists()


@pytest.mark.django_db
def test_a_team_still_in_use_is_refused_and_nothing_is_recorded():
    admin, ana = AdminFactory(), AgentFactory()
    team = TeamFactory(name="Suporte")
    members(team, ana)
    ConversationFactory(team=team, status="queued")
    client = APIClient()
    client.force_authenticate(admin)
    response = client.delete(f"/api/v1/teams/{team.pk}/")
    assert response.status_code == 409
    assert Membership.objects.filter(team=team, agent=ana).exists()
    assert not AgentChange.objects.filter(kind=AgentChangeKind.TEAM_LEFT).exists()
    assert not ConfigurationChange.objects.filter(field="deleted").exists()
