"""The team's answer target in the admin: 60 s unless set, a positive number of seconds."""

import pytest
from django.urls import reverse

from apps.teams.models import Team
from tests.factories import TeamFactory, UserFactory
from tests.foundation.test_admin_time_rules import team_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_a_new_team_aims_at_a_minute():
    assert Team.objects.create(name="Vendas").answer_target_seconds == 60


def test_the_admin_sets_it(admin_client):
    team = TeamFactory()
    url = reverse("admin:teams_team_change", args=[team.pk])
    assert 'name="answer_target_seconds"' in admin_client.get(url).content.decode()
    response = admin_client.post(url, team_form(team, answer_target_seconds="45"))
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.answer_target_seconds == 45


@pytest.mark.parametrize("value", ["0", "-5", "abc", ""])
def test_a_target_that_is_not_a_positive_number_is_refused(admin_client, value):
    team = TeamFactory(answer_target_seconds=90)
    url = reverse("admin:teams_team_change", args=[team.pk])
    response = admin_client.post(url, team_form(team, answer_target_seconds=value))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["answer_target_seconds"]
    team.refresh_from_db()
    assert team.answer_target_seconds == 90
