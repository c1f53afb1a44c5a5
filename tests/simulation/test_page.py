"""The simulation page: supervisors only; it lists the teams and agents the scenario may
change (the browser test runs it)."""

import pytest

from tests.factories import AgentFactory, SupervisorFactory, TeamFactory

pytestmark = pytest.mark.django_db


def test_a_supervisor_gets_the_page_with_teams_and_agents(client):
    agent = AgentFactory(name="Ana")
    team = TeamFactory(name="Suporte", agents=[agent])
    client.force_login(SupervisorFactory())
    answer = client.get("/simulation/")
    assert answer.status_code == 200
    text = answer.content.decode()
    assert f'data-testid="simulation-rate-{team.pk}"' in text
    assert f'data-testid="simulation-capacity-{agent.pk}"' in text


def test_an_agent_is_refused_and_a_stranger_signs_in_first(client):
    assert client.get("/simulation/").status_code == 302
    client.force_login(AgentFactory())
    assert client.get("/simulation/").status_code == 403
