"""routing.md section 1: where a new conversation goes."""

import pytest

from apps.conversations.models import ConversationEvent, EventKind, Status
from apps.teams.models import DistributionMode, RoutingSettings
from tests.factories import AgentFactory, TeamFactory

pytestmark = pytest.mark.django_db


def test_without_team_or_default_team_it_waits(arrive, invariants_hold):
    conversation = arrive()
    assert (conversation.status, conversation.team, conversation.assignee) == (
        Status.WAITING, None, None,
    )
    event = ConversationEvent.objects.get(conversation=conversation)
    assert event.kind == EventKind.WAITING
    assert "no default team" in event.reason
    invariants_hold()


def test_without_a_named_team_it_goes_to_the_default_team(arrive):
    team = TeamFactory(name="Suporte")
    RoutingSettings.objects.update_or_create(id=1, defaults={"default_team": team})
    conversation = arrive()
    assert (conversation.status, conversation.team) == (Status.QUEUED, team)
    assert "default team Suporte" in conversation.events.get().reason


def test_the_team_named_by_the_bot_wins_over_the_default(arrive):
    default, sales = TeamFactory(), TeamFactory(name="Vendas")
    RoutingSettings.objects.update_or_create(id=1, defaults={"default_team": default})
    conversation = arrive(team=sales)
    assert conversation.team == sales
    assert "The bot chose team Vendas" in conversation.events.get().reason


def test_manual_team_keeps_it_in_the_queue_even_with_online_members(arrive, invariants_hold):
    team = TeamFactory(distribution_mode=DistributionMode.MANUAL, agents=[AgentFactory()])
    conversation = arrive(team=team)
    assert (conversation.status, conversation.assignee) == (Status.QUEUED, None)
    assert "manual claim" in conversation.events.get().reason
    invariants_hold()


def test_a_second_message_appends_to_the_open_conversation(arrive):
    first = arrive()
    second = arrive(contact=first.contact, body="mais uma coisa")
    assert second.pk == first.pk
    assert list(first.messages.values_list("body", flat=True)) == [
        "Olá, preciso de ajuda", "mais uma coisa",
    ]
    assert second.last_message.body == "mais uma coisa"


def test_a_message_after_close_opens_a_new_conversation(arrive):
    from apps.routing.services import close_conversation
    from tests.factories import SupervisorFactory

    first = arrive()
    close_conversation(conversation_id=first.pk, actor=SupervisorFactory())
    again = arrive(contact=first.contact)
    assert again.pk != first.pk
    assert again.status == Status.WAITING
