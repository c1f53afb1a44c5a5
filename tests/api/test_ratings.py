"""A customer's rating, relayed by the integration a conversation belongs to: once, after it
is closed; shown on the conversation and written into its history."""

import pytest

from apps.conversations.models import Conversation, EventKind
from apps.routing import services as routing
from tests.api.conftest import client_for
from tests.factories import AgentFactory, IntegrationFactory, SupervisorFactory, TeamFactory
from tests.helpers import arrive

pytestmark = pytest.mark.django_db


@pytest.fixture
def integration():
    return IntegrationFactory()


@pytest.fixture
def agent():
    return AgentFactory(name="Ana Lima")


@pytest.fixture
def closed(integration, agent):
    team = TeamFactory(agents=[agent])
    conversation = arrive(team=team, actor=integration)
    routing.claim_conversation(conversation_id=conversation.pk, agent=agent)
    routing.close_conversation(conversation_id=conversation.pk, actor=agent)
    return conversation


def rate(principal, conversation, body):
    return client_for(principal).post(
        f"/api/v1/conversations/{conversation.pk}/rating", body, format="json"
    )


def test_its_integration_rates_a_closed_conversation_once(integration, closed):
    answer = rate(integration, closed, {"score": 4, "comment": "  Rápido e educado  "})
    assert answer.status_code == 201, answer.json()
    assert answer.json()["rating"]["score"] == 4
    assert answer.json()["rating"]["comment"] == "Rápido e educado"
    assert answer.json()["rating"]["at"]

    again = rate(integration, closed, {"score": 1})
    assert again.status_code == 409
    assert "detail" in again.json()
    closed.refresh_from_db()
    assert (closed.rating_score, closed.rating_comment) == (4, "Rápido e educado")


def test_the_rating_is_in_the_history_and_on_the_conversation(integration, closed, agent):
    rate(integration, closed, {"score": 5})
    supervisor = SupervisorFactory()
    events = client_for(supervisor).get(f"/api/v1/conversations/{closed.pk}/events").json()
    rated = [e for e in events if e["kind"] == EventKind.RATED]
    assert len(rated) == 1
    assert rated[0]["actor"]["kind"] == "customer"
    assert "5" in rated[0]["reason"]
    shown = client_for(supervisor).get(f"/api/v1/conversations/{closed.pk}/").json()
    assert shown["rating"]["score"] == 5


def test_the_history_reads_in_portuguese(integration, closed):
    rate(integration, closed, {"score": 3})
    supervisor = SupervisorFactory()
    events = client_for(supervisor).get(
        f"/api/v1/conversations/{closed.pk}/events", HTTP_ACCEPT_LANGUAGE="pt-br"
    ).json()
    rated = next(e for e in events if e["kind"] == EventKind.RATED)
    assert rated["reason"] == "O cliente deu nota 3 de 5."


def test_an_open_conversation_cannot_be_rated_yet(integration):
    conversation = arrive(actor=integration)
    answer = rate(integration, conversation, {"score": 5})
    assert answer.status_code == 409
    conversation.refresh_from_db()
    assert conversation.rated_at is None


def test_another_integrations_conversation_is_not_found(closed):
    answer = rate(IntegrationFactory(), closed, {"score": 5})
    assert answer.status_code == 404
    assert Conversation.objects.get(pk=closed.pk).rated_at is None


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_people_do_not_rate_for_the_customer(role, closed, agent):
    principal = agent if role == "agent" else SupervisorFactory()
    assert rate(principal, closed, {"score": 5}).status_code == 403
    assert client_for(None).post(
        f"/api/v1/conversations/{closed.pk}/rating", {"score": 5}, format="json"
    ).status_code == 401
    assert Conversation.objects.get(pk=closed.pk).rated_at is None


@pytest.mark.parametrize(
    "body",
    [{}, {"score": 0}, {"score": 6}, {"score": "five"}, {"score": 4.5}, {"score": True},
     {"score": 3, "comment": "x" * 2001}, {"score": 3, "comment": ["a"]}, [], "5"],
)
def test_a_bad_rating_is_a_400_and_changes_nothing(integration, closed, body):
    answer = rate(integration, closed, body)
    assert answer.status_code == 400, answer.content
    assert "detail" in answer.json()
    assert Conversation.objects.get(pk=closed.pk).rated_at is None


def test_an_unrated_conversation_shows_no_rating(integration, closed):
    shown = client_for(SupervisorFactory()).get(f"/api/v1/conversations/{closed.pk}/").json()
    assert shown["rating"] is None
