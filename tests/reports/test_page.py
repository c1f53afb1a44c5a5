"""The Reports page: who may open it and what it offers them (the browser test drives it)."""

import pytest

from tests.factories import AgentFactory, SupervisorFactory, TeamFactory

pytestmark = pytest.mark.django_db


def test_a_supervisor_chooses_teams_and_an_agent_reads_their_own(client):
    team = TeamFactory(name="Vendas")
    client.force_login(SupervisorFactory())
    page = client.get("/reports/").content.decode()
    assert f'data-testid="report-team-{team.pk}"' in page
    assert 'data-testid="report-table"' in page and 'data-testid="nav-reports"' in page
    client.force_login(AgentFactory())
    page = client.get("/reports/").content.decode()
    assert 'data-testid="report-table"' not in page and "report-team-" not in page
    assert 'data-testid="report-agents"' in page


def test_signing_in_comes_first(client):
    response = client.get("/reports/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
