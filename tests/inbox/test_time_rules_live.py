"""The time rules on the live inbox: the agent a conversation was taken from is told on
their websocket; the deadlines travel in the conversation payloads."""

from datetime import timedelta

import pytest
import time_machine
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.utils import timezone

from apps.accounts.models import Presence
from apps.conversations.models import Conversation
from apps.conversations.services import post_reply, receive_inbound_message
from apps.inbox import realtime
from apps.routing import services
from apps.routing.services.time_rules import DeadlineKind
from apps.teams.models import DistributionMode
from tests.factories import AgentFactory, TeamFactory
from tests.inbox.helpers import (
    connected,
    conversation_where,
    counts_where,
    of_type,
    receive_until,
    token_for,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_agent_who_did_not_reply_is_told_and_the_next_one_gets_it():
    ana = AgentFactory(name="Ana")
    bruno = AgentFactory(name="Bruno", presence=Presence.AWAY)
    outsider = AgentFactory()
    team = TeamFactory(name="Vendas", distribution_mode=DistributionMode.CAPACITY,
                       agents=[ana, bruno])
    team.first_reply_seconds = 60
    team.save()
    with time_machine.travel(timezone.now() - timedelta(seconds=90)):
        conversation, _message, _ = receive_inbound_message(
            external_id="wa:carla", body="Oi", team=team, contact_details={"name": "Carla"}
        )
    assert Conversation.objects.get(pk=conversation.pk).assignee == ana
    tokens = {agent.pk: token_for(agent) for agent in (ana, bruno, outsider)}

    async def scenario():
        a, _ = await connected(token=tokens[ana.pk])
        b, _ = await connected(token=tokens[bruno.pk])  # still away: he chose it
        o, _ = await connected(token=tokens[outsider.pk])
        await database_sync_to_async(services.set_presence)(agent=bruno,
                                                              status=Presence.ONLINE)
        await realtime.aflush()
        await receive_until(b, lambda e: e == {"type": "presence.changed", "status": "online"})

        moved = await database_sync_to_async(services.act_on_due)(kind=DeadlineKind.REPLY)
        assert moved == 1
        await realtime.aflush()

        events = await receive_until(a, counts_where(lambda c: c["mine"] == 0))
        notice = of_type(events, "conversation.handed_over")
        assert len(notice) == 1
        assert {k: v for k, v in notice[0].items() if k != "at"} == {
            "type": "conversation.handed_over", "conversation": conversation.pk,
            "agent": ana.pk, "contact_name": "Carla", "team": team.pk, "team_name": "Vendas",
            "reply_seconds": 60,
        }

        events = await receive_until(b, counts_where(lambda c: c["mine"] == 1))
        assert not of_type(events, "conversation.handed_over")
        updated = of_type(events, "conversation.updated")[-1]["conversation"]
        assert (updated["assignee"], updated["status"]) == (bruno.pk, "assigned")
        assert updated["reply_due_at"] is not None and updated["queue"] is None

        assert await o.receive_nothing(timeout=0.5)  # another team's business

        # Bruno answers: his reply clears the due time, and his inbox hears it.
        await database_sync_to_async(post_reply)(
            conversation_id=conversation.pk, author=bruno, body="Olá!"
        )
        await realtime.aflush()
        await receive_until(b, conversation_where(
            lambda c: c["id"] == conversation.pk and c["reply_due_at"] is None
        ))
        for comm in (a, b, o):
            await comm.disconnect()

    async_to_sync(scenario)()
