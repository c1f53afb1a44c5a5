"""The pages: login, the inbox, the supervisor view, in English and Brazilian Portuguese."""

import json
import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.teams.services import set_business_hours
from tests.factories import AgentFactory, SupervisorFactory, TeamFactory

pytestmark = pytest.mark.django_db


def test_anonymous_people_are_sent_to_login(client):
    for url in (reverse("inbox"), reverse("supervisor")):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_login_then_inbox_then_logout(client):
    agent = AgentFactory(username="ana")
    team = TeamFactory(agents=[agent], name="Vendas")
    page = client.get(reverse("login"))
    assert page.status_code == 200 and b'data-testid="login-submit"' in page.content
    response = client.post(reverse("login"), {"username": "ana", "password": "secret-pass-1"})
    assert response.status_code == 302 and response.url == reverse("inbox")
    inbox = client.get(reverse("inbox"))
    assert inbox.status_code == 200
    html = inbox.content.decode()
    for testid in ("count-waiting", f"count-team-{team.pk}", "count-mine", "count-reserved",
                   "conversation-list", "claim", "presence-toggle"):
        assert f'data-testid="{testid}"' in html
    assert 'data-testid="nav-supervisor"' not in html
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("inbox")).status_code == 302


def test_wrong_password_is_a_clear_error(client):
    AgentFactory(username="bia")
    response = client.post(reverse("login"), {"username": "bia", "password": "nope"})
    assert response.status_code == 200 and b'data-testid="login-error"' in response.content


def test_supervisor_page_is_for_supervisors_only(client):
    agent, boss = AgentFactory(), SupervisorFactory()
    team = TeamFactory(agents=[agent])
    client.force_login(agent)
    assert client.get(reverse("supervisor")).status_code == 403
    client.force_login(boss)
    page = client.get(reverse("supervisor"))
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-testid="distribute-{team.pk}"' in html
    assert f'data-testid="agent-load-{agent.pk}"' in html


def test_language_follows_the_browser(client):
    client.force_login(AgentFactory())
    english = client.get(reverse("inbox"), headers={"accept-language": "en"}).content.decode()
    portuguese = client.get(
        reverse("inbox"), headers={"accept-language": "pt-BR,pt;q=0.9"}
    ).content.decode()
    assert "Reserved for me" in english and '<html lang="en">' in english
    assert "Reservados para mim" in portuguese and '<html lang="pt-br">' in portuguese
    assert "Atendido por %(name)s" in portuguese  # the script's texts are translated too


def test_the_inbox_gives_each_teams_open_state_in_constant_queries(
    client, django_assert_num_queries
):
    """The page starts with whether each team is open and when it opens (the list's
    "Closed · opens Mon 08:00"), the same as ``teams/`` says, at a cost that does not grow
    with the number of teams."""
    agent = AgentFactory()
    client.force_login(agent)
    monday_night = datetime(2026, 3, 2, 23, 0, tzinfo=UTC)  # a Monday, 20:00 in São Paulo

    def teams_on_page():
        html = client.get(reverse("inbox")).content.decode()
        found = re.search(r'<script id="teams-data"[^>]*>(.*?)</script>', html, re.S)
        return json.loads(found.group(1))

    def add_team(n):
        team = TeamFactory(name=f"Team {n:02d}", agents=[agent], timezone="America/Sao_Paulo")
        set_business_hours(team=team, hours=[(day, 8 * 60, 18 * 60) for day in range(5)])
        return team

    closed = add_team(0)
    always = TeamFactory(name="Z always open", agents=[agent])
    with time_machine.travel(monday_night, tick=False):
        teams_on_page()  # warm what is cached per process (sessions, content types)
        with CaptureQueriesContext(connection) as few:
            rows = teams_on_page()
        for n in range(1, 6):
            add_team(n)
        with django_assert_num_queries(len(few)):
            teams_on_page()
    by_id = {row["id"]: row for row in rows}
    assert by_id[closed.pk] == {
        "id": closed.pk, "name": "Team 00", "open_now": False,
        "opens_at": "2026-03-03T11:00:00Z", "closes_at": None,  # 08:00 in São Paulo
    }
    assert by_id[always.pk]["open_now"] is True and by_id[always.pk]["opens_at"] is None
