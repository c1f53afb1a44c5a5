"""The per-process fan-out (apps.inbox.hub): one channel-layer membership per group and
process however many sockets it holds, the same frames for every socket, each socket's own
counts, order kept, and a client that does not read delaying no one else."""

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer

from apps.conversations.services import receive_inbound_message
from apps.inbox import groups, realtime
from apps.inbox.hub import Outbox
from apps.routing import services
from tests.factories import AgentFactory, TeamFactory
from tests.inbox.helpers import connected, counts_where, of_type, receive_until, token_for

SOCKETS = 30


def inbound(external_id, team):
    return receive_inbound_message(external_id=external_id, body="Oi", team=team)[0]


async def members_in_layer(group: str) -> int:
    """How many members the channel layer has for ``group`` (this process's only)."""
    layer = get_channel_layer()
    if isinstance(layer, InMemoryChannelLayer):
        return len(layer.groups.get(group, {}))
    channel = layer._get_layer()._get_group_channel_name(group)
    return len(layer._get_layer().groups.get(channel, ()))


@pytest.mark.django_db(transaction=True)
def test_many_sockets_of_a_team_are_one_member_of_its_group_and_all_hear_each_change():
    agents = [AgentFactory() for _ in range(3)]
    team = TeamFactory(agents=agents)
    tokens = [token_for(agents[n % 3]) for n in range(SOCKETS)]

    async def scenario():
        sockets = [(await connected(token=t))[0] for t in tokens]
        group = groups.team_group(team.pk)
        members = await members_in_layer(group)

        conversation = await database_sync_to_async(inbound)("h1", team)
        await realtime.aflush()
        heard = []
        for comm in sockets:
            events = await receive_until(comm, counts_where(
                lambda c: c["teams"][0]["queued"] == 1
            ))
            heard.append([e["conversation"]["id"] for e in of_type(events,
                                                                 "conversation.updated")])
        for comm in sockets:
            await comm.disconnect()
        return members, conversation.pk, heard, await members_in_layer(group)

    members, conversation_id, heard, after = async_to_sync(scenario)()
    assert members == 1
    assert heard == [[conversation_id]] * SOCKETS
    assert after == 0


@pytest.mark.django_db(transaction=True)
def test_sockets_of_one_team_get_the_teams_count_with_their_own_numbers():
    ana, bia = AgentFactory(capacity=3), AgentFactory(capacity=3)
    team = TeamFactory(agents=[ana, bia])
    mine = inbound("m1", team)
    services.claim_conversation(conversation_id=mine.pk, agent=ana)
    ana_token, bia_token = token_for(ana), token_for(bia)

    async def scenario():
        a1, first = await connected(token=ana_token)
        a2, _ = await connected(token=ana_token)
        b1, _ = await connected(token=bia_token)
        await database_sync_to_async(inbound)("m2", team)
        await realtime.aflush()
        seen = []
        for comm in (a1, a2, b1):
            events = await receive_until(comm, counts_where(
                lambda c: c["teams"][0]["queued"] == 1
            ))
            seen.append(events[-1]["counts"])
            await comm.disconnect()
        return first, seen

    first, (a1, a2, b1) = async_to_sync(scenario)()
    assert first["mine"] == 1
    assert a1 == a2
    assert (a1["mine"], b1["mine"]) == (1, 0)
    assert a1["teams"] == b1["teams"] == [{"id": team.pk, "name": team.name, "queued": 1}]


def test_a_socket_that_waits_delays_no_other_and_keeps_its_order():
    async def scenario():
        gate = asyncio.Event()
        slow_got, fast_got = [], []

        async def slow(item):
            if item == 1:
                await gate.wait()
            slow_got.append(item)

        async def fast(item):
            fast_got.append(item)

        slow_box, fast_box = Outbox(slow), Outbox(fast)
        for item in (1, 2, 3):
            slow_box.offer(item)
            fast_box.offer(item)
        # The fast socket got everything inline, while the slow one still waits for its first.
        before = (list(fast_got), list(slow_got))
        gate.set()
        for _ in range(5):
            await asyncio.sleep(0)
        return before, slow_got

    (fast_before, slow_before), slow_after = asyncio.run(scenario())
    assert fast_before == [1, 2, 3]
    assert slow_before == []
    assert slow_after == [1, 2, 3]
