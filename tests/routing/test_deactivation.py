"""Deactivating an agent gives their open conversations back at once (routing.md section 2):
each goes back into its team's queue (or to Waiting) and is distributed like any other, with
the reason, in the reader's language, in its history; nobody is left waiting on someone who
can never answer."""

import pytest
from django.utils import translation

from apps.accounts.models import User
from apps.conversations.models import Conversation, EventKind, Status
from apps.routing import services as routing
from apps.routing.invariants import check_invariants
from tests.api.conftest import client_for
from tests.factories import AdminFactory, AgentFactory, TeamFactory
from tests.helpers import arrive

pytestmark = pytest.mark.django_db


def test_their_open_conversations_go_back_and_are_distributed_at_once():
    ana = AgentFactory(name="Ana", capacity=10)
    bia = AgentFactory(name="Bia", capacity=1)
    suporte = TeamFactory(name="Suporte", distribution_mode="capacity", agents=[ana, bia])
    vendas = TeamFactory(name="Vendas", distribution_mode="manual", agents=[ana])
    held = [arrive(team=suporte) for _ in range(2)] + [arrive(team=vendas), arrive()]
    for conversation in held:
        routing.claim_conversation(conversation_id=conversation.pk, agent=ana)
    User.objects.filter(pk=bia.pk).update(presence="online")
    admin = AdminFactory(name="Root")

    assert client_for(admin).delete(f"/api/v1/agents/{ana.pk}/").status_code == 204

    rows = {c.pk: c for c in Conversation.objects.filter(pk__in=[c.pk for c in held])}
    first, second, sold, waiting = (rows[c.pk] for c in held)
    # Suporte (capacity): the oldest went to Bia (her one place); the other waits queued.
    assert (first.status, first.assignee_id) == (Status.ASSIGNED, bia.pk)
    assert (second.status, second.assignee_id, second.team_id) == (Status.QUEUED, None,
                                                                     suporte.pk)
    assert (sold.status, sold.team_id) == (Status.QUEUED, vendas.pk)  # manual: for a claim
    assert (waiting.status, waiting.team_id) == (Status.WAITING, None)
    ana.refresh_from_db()
    assert (ana.is_active, ana.open_count) == (False, 0)
    assert not Conversation.objects.filter(assignee=ana).exclude(status=Status.CLOSED).exists()
    assert check_invariants() == []

    event = second.events.get(kind=EventKind.GIVEN_BACK)
    assert (event.actor, event.actor_kind, event.from_assignee_id) == (admin, "admin", ana.pk)
    assert event.reason == "Ana was deactivated and can no longer answer: back into Suporte."
    with translation.override("pt-br"):
        assert event.reason == ("Ana teve a conta desativada e não pode mais responder: "
                                "de volta para Suporte.")
        assert waiting.events.get(kind=EventKind.GIVEN_BACK).reason == (
            "Ana teve a conta desativada e não pode mais responder: de volta para "
            "Aguardando.")
        assert str(EventKind.GIVEN_BACK.label) == "Devolvido: agente desativado"


def test_an_agent_without_open_conversations_is_just_deactivated():
    ana = AgentFactory()
    assert routing.deactivate_agent(agent_id=ana.pk).is_active is False
    assert check_invariants() == []
