"""API error sentences reach people in the request's language (the inbox sends its
language with every call: the switch's cookie, or the browser's Accept-Language)."""

import pytest

from apps.routing import services as routing
from tests.api.conftest import client_for
from tests.factories import AgentFactory, TeamFactory
from tests.helpers import arrive

V1 = "/api/v1/"
PT = {"HTTP_ACCEPT_LANGUAGE": "pt-BR,pt;q=0.9"}


@pytest.fixture
def race(db):
    ana, bia = AgentFactory(name="Ana"), AgentFactory(name="Bia")
    team = TeamFactory(agents=[ana, bia])
    conversation = arrive("wa:race", team=team)
    routing.claim_conversation(conversation_id=conversation.pk, agent=ana)
    return ana, bia, conversation


def test_a_lost_race_is_told_in_portuguese(race):
    _ana, bia, conversation = race
    lost = client_for(bia).post(f"{V1}conversations/{conversation.pk}/claim", **PT)
    assert lost.status_code == 409
    assert lost.json()["detail"] == f"Ana já assumiu o atendimento {conversation.pk}."
    assert lost.json()["assignee"]["name"] == "Ana"
    english = client_for(bia).post(f"{V1}conversations/{conversation.pk}/claim",
                                   HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["detail"] == f"Ana already took conversation {conversation.pk}."


def test_refusals_and_validation_errors_are_portuguese(race):
    ana, bia, conversation = race
    outsider = client_for(AgentFactory())
    hidden = outsider.get(f"{V1}conversations/{conversation.pk}/", **PT)
    assert hidden.json()["detail"] == "Este atendimento não existe, ou você não pode vê-lo."
    claim = outsider.post(f"{V1}conversations/{conversation.pk}/claim", **PT)
    assert claim.status_code == 404
    assert "não existe, ou você não pode vê-lo" in claim.json()["detail"]
    empty = client_for(ana).post(f"{V1}conversations/{conversation.pk}/messages",
                                 {"body": 5}, format="json", **PT)
    assert empty.status_code == 400
    assert empty.json()["detail"].startswith("Dados inválidos.")
    bad_page = client_for(ana).get(f"{V1}conversations/{conversation.pk}/messages",
                                   {"limit": "500"}, **PT)
    assert bad_page.status_code == 400 and "limit" in bad_page.json()
    assert "200" in bad_page.json()["detail"] and "Dados inválidos" in bad_page.json()["detail"]
    not_found = client_for(ana).get("/api/v1/nothing-here", **PT)
    assert not_found.json() == {"detail": "Não encontrado."}


def test_the_language_switch_cookie_wins_over_the_browser(race):
    _ana, bia, conversation = race
    client = client_for(bia)
    client.cookies["django_language"] = "pt-br"
    lost = client.post(f"{V1}conversations/{conversation.pk}/claim", HTTP_ACCEPT_LANGUAGE="en")
    assert lost.json()["detail"].startswith("Ana já assumiu")
