"""The inbox websocket through a real ASGI stack (WebsocketCommunicator) on the configured
channel layer: Redis when REDIS_URL is set (CI), in-memory otherwise."""

import threading

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection

from apps.accounts.models import Presence, User
from apps.inbox import presence, realtime
from apps.routing import services
from config.asgi import application
from tests.factories import (
    AgentFactory,
    IntegrationFactory,
    SupervisorFactory,
    TeamFactory,
    UserFactory,
)
from tests.helpers import arrive
from tests.inbox.helpers import (
    ORIGIN,
    communicator,
    connected,
    conversation_where,
    counts_where,
    of_type,
    receive_until,
    session_cookie,
    token_for,
)

pytestmark = pytest.mark.django_db(transaction=True)



async def settled(comm):
    """Messages are handled in order: once a ping is answered, what came before is done."""
    await comm.send_json_to({"type": "ping"})
    assert await comm.receive_json_from(timeout=5) == {"type": "pong"}


async def refused(**kwargs) -> bool:
    comm = communicator(**kwargs)
    ok, _ = await comm.connect(timeout=5)
    await comm.disconnect()
    return not ok


def test_strangers_are_refused_before_accept():
    agent = AgentFactory()
    inactive = AgentFactory(is_active=False)
    inactive_token = token_for(inactive)
    integration = IntegrationFactory()
    good_token = token_for(agent)
    cookie = session_cookie(agent)

    async def scenario():
        assert await refused()  # anonymous
        assert await refused(token="not-a-token")
        assert await refused(token="x" * 500)
        assert await refused(token=integration.raw_token)
        assert await refused(token=inactive_token)
        assert await refused(token=good_token, origin=b"http://evil.example")
        assert await refused(cookie=cookie, origin=None)
        # A bad token never falls back to the session.
        assert await refused(token="bad", cookie=cookie)

    async_to_sync(scenario)()


def test_session_or_token_connects_and_gets_counts_first():
    agent = AgentFactory()
    team = TeamFactory(agents=[agent], name="Sales")
    arrive("w1")
    arrive("t1", team=team)
    arrive("t2", team=team)

    async def scenario():
        for kwargs in ({"token": token_for_agent}, {"cookie": cookie}):
            comm, counts = await connected(**kwargs)
            assert counts == {
                "waiting": 1,
                "teams": [{"id": team.pk, "name": "Sales", "queued": 2}],
                "mine": 0,
                "reserved_for_me": 0,
            }
            await comm.disconnect()

    token_for_agent = token_for(agent)
    cookie = session_cookie(agent)
    async_to_sync(scenario)()


def test_change_in_sync_code_pushes_counts_and_conversation_to_who_may_see():
    alice, bob, carol = AgentFactory(), AgentFactory(), AgentFactory()
    boss = SupervisorFactory()
    sales = TeamFactory(agents=[alice, carol])
    support = TeamFactory(agents=[bob])
    tokens = {u.pk: token_for(u) for u in (alice, bob, carol, boss)}

    async def scenario():
        a, _ = await connected(token=tokens[alice.pk])
        b, _ = await connected(token=tokens[bob.pk])
        s, sup_counts = await connected(token=tokens[boss.pk])
        assert {t["id"] for t in sup_counts["teams"]} == {sales.pk, support.pk}

        conversation = await database_sync_to_async(arrive)("c1", team=sales)
        await realtime.aflush()

        # One batch: the conversation, its message, then the counts.
        events = await receive_until(a, counts_where(lambda c: c["teams"][0]["queued"] == 1))
        updated = of_type(events, "conversation.updated")
        assert [e["conversation"]["id"] for e in updated] == [conversation.pk]
        assert updated[0]["conversation"]["status"] == "queued"
        created = of_type(events, "message.created")
        assert [e["conversation"] for e in created] == [conversation.pk]
        assert events[-1]["counts"]["teams"] == [
            {"id": sales.pk, "name": sales.name, "queued": 1}
        ]

        events = await receive_until(s, counts_where(
            lambda c: {t["id"]: t["queued"] for t in c["teams"]}.get(sales.pk) == 1
        ))
        assert [e["conversation"]["id"] for e in of_type(events, "conversation.updated")] == [
            conversation.pk
        ]
        sup_teams = {t["id"]: t["queued"] for t in events[-1]["counts"]["teams"]}
        assert sup_teams == {sales.pk: 1, support.pk: 0}

        # Bob is in another team: not a word about Sales' conversation.
        assert await b.receive_nothing(timeout=0.5)

        # Carol takes it: Alice learns it left the queue and who took it.
        await database_sync_to_async(services.claim_conversation)(
            conversation_id=conversation.pk, agent=carol
        )
        await realtime.aflush()
        events = await receive_until(a, counts_where(lambda c: c["teams"][0]["queued"] == 0))
        conv = of_type(events, "conversation.updated")[0]["conversation"]
        assert (conv["status"], conv["assignee"], conv["assignee_name"]) == (
            "assigned", carol.pk, carol.display_name,
        )
        assert await b.receive_nothing(timeout=0.5)

        # Transferred to Support: Bob sees it arrive; Alice (Sales) also learns it left.
        await database_sync_to_async(services.transfer_conversation)(
            conversation_id=conversation.pk, actor=carol, team_id=support.pk
        )
        await realtime.aflush()
        for comm in (a, b):
            events = await receive_until(comm, conversation_where(
                lambda c: c["id"] == conversation.pk and c["team"] == support.pk
            ))
            assert events[-1]["conversation"]["status"] == "queued"
        for comm in (a, b, s):
            await comm.disconnect()

    async_to_sync(scenario)()


def test_waiting_arrivals_reach_every_agent_and_a_burst_is_coalesced():
    agents = [AgentFactory() for _ in range(3)]
    tokens = [token_for(a) for a in agents]

    def burst():
        try:
            for n in range(40):
                arrive(f"burst-{n}")
        finally:
            connection.close()

    async def scenario():
        comms = [(await connected(token=t))[0] for t in tokens]
        # From a plain thread, as a Celery worker would.
        worker = threading.Thread(target=burst)
        await database_sync_to_async(lambda: (worker.start(), worker.join()))()
        await realtime.aflush()
        for comm in comms:
            events = await receive_until(comm, counts_where(lambda c: c["waiting"] == 40))
            # One flush, one counts event (the 40 conversations and messages before it):
            # not 40 of them, counting one by one.
            assert len(of_type(events, "queue.counts")) == 1
            assert len(of_type(events, "conversation.updated")) == 40
            assert len(of_type(events, "message.created")) == 40
            await comm.disconnect()

    async_to_sync(scenario)()


def test_ping_pong_and_bad_messages():
    agent = AgentFactory(last_heartbeat=None)
    token = token_for(agent)

    async def scenario():
        comm, _ = await connected(token=token)
        await comm.send_json_to({"type": "ping"})
        assert await comm.receive_json_from(timeout=5) == {"type": "pong"}
        for bad in ({"type": "dance"}, {"type": "presence.set", "status": "offline"}, {}):
            await comm.send_json_to(bad)
            answer = await comm.receive_json_from(timeout=5)
            assert answer["type"] == "error" and answer["detail"]
        await comm.send_to(text_data="{not json")
        assert (await comm.receive_json_from(timeout=5))["type"] == "error"
        await comm.send_to(text_data="[1, 2]")
        assert (await comm.receive_json_from(timeout=5))["type"] == "error"
        # Still alive after all that.
        await comm.send_json_to({"type": "ping"})
        assert await comm.receive_json_from(timeout=5) == {"type": "pong"}
        await comm.disconnect()

    async_to_sync(scenario)()
    agent.refresh_from_db()
    assert agent.last_heartbeat is not None


def test_presence_follows_connections_and_the_away_choice():
    agent = UserFactory(presence=Presence.OFFLINE)
    token = token_for(agent)

    def presence_now():
        return User.objects.get(pk=agent.pk).presence

    async def scenario():
        first, _ = await connected(token=token)
        assert await database_sync_to_async(presence_now)() == Presence.ONLINE
        second, _ = await connected(token=token)

        await first.send_json_to({"type": "presence.set", "status": "away"})
        await settled(first)
        await realtime.aflush()
        # Both tabs hear about it.
        for comm in (first, second):
            await receive_until(comm, lambda e: e == {"type": "presence.changed", "status": "away"})
        assert await database_sync_to_async(presence_now)() == Presence.AWAY

        # A reload (one tab closes, the other stays) changes nothing.
        await first.disconnect()
        assert not await database_sync_to_async(presence.settle_after_grace)(agent.pk)
        assert await database_sync_to_async(presence_now)() == Presence.AWAY

        # The last tab closes and does not come back within the grace period: offline.
        await second.disconnect()
        assert await database_sync_to_async(presence.settle_after_grace)(agent.pk)
        assert await database_sync_to_async(presence_now)() == Presence.OFFLINE

        # Coming back keeps the away choice; choosing online sticks too.
        third, _ = await connected(token=token)
        assert await database_sync_to_async(presence_now)() == Presence.AWAY
        await third.send_json_to({"type": "presence.set", "status": "online"})
        await settled(third)
        await realtime.aflush()
        await receive_until(third, lambda e: e == {"type": "presence.changed", "status": "online"})
        await third.disconnect()
        assert await database_sync_to_async(presence.settle_after_grace)(agent.pk)
        fourth, _ = await connected(token=token)
        assert await database_sync_to_async(presence_now)() == Presence.ONLINE
        await fourth.disconnect()

    async_to_sync(scenario)()


def test_the_handshake_completes_once_the_connection_counts_for_presence():
    """The page asks for its presence when its socket opens (and supervisors see the agent
    as soon as the page shows it): by then the server must have counted the connection.
    Under load the presence was set after the handshake, and a page that read it in between
    kept showing "Offline" (CI, issue 18 item 11)."""
    agent = UserFactory(presence=Presence.OFFLINE)
    token = token_for(agent)
    at_accept = []

    def presence_now():
        return User.objects.get(pk=agent.pk).presence

    async def watched(scope, receive, send):
        async def watching(message):
            if message["type"] == "websocket.accept":
                # What a request sent the moment the socket opens would read.
                at_accept.append(await database_sync_to_async(presence_now)())
            await send(message)

        await application(scope, receive, watching)

    async def scenario():
        comm = WebsocketCommunicator(
            watched, f"/ws/inbox/?token={token}",
            headers=[(b"host", b"testserver"), (b"origin", ORIGIN)],
        )
        ok, _ = await comm.connect(timeout=5)
        assert ok
        first = await comm.receive_json_from(timeout=5)
        assert first["type"] == "queue.counts"
        await comm.disconnect()

    async_to_sync(scenario)()
    assert at_accept == [Presence.ONLINE]


def test_supervisors_hear_agents_presence_and_load():
    agent = UserFactory(presence=Presence.OFFLINE)
    boss = SupervisorFactory()
    team = TeamFactory(agents=[agent])
    conversation = arrive("x1", team=team)

    async def scenario():
        s, _ = await connected(token=token_for_boss)
        a, _ = await connected(token=token_for_agent)  # comes online
        await database_sync_to_async(services.claim_conversation)(
            conversation_id=conversation.pk, agent=agent
        )
        await realtime.aflush()
        row = {"id": agent.pk, "username": agent.username, "name": agent.display_name,
               "presence": "online", "open_count": 1, "capacity": agent.capacity}
        await receive_until(s, lambda e: e["type"] == "agents.updated" and row in e["agents"])
        await a.disconnect()
        await s.disconnect()

    token_for_boss, token_for_agent = token_for(boss), token_for(agent)
    async_to_sync(scenario)()


def test_joining_or_leaving_a_team_changes_what_an_open_inbox_hears():
    from apps.teams.services import set_team_members

    newcomer = AgentFactory()
    sales = TeamFactory(name="Sales")
    token = token_for(newcomer)

    async def scenario():
        comm, counts = await connected(token=token)
        assert counts["teams"] == []

        await database_sync_to_async(set_team_members)(team=sales, agent_ids={newcomer.pk})
        await realtime.aflush()
        await receive_until(comm, counts_where(
            lambda c: c["teams"] == [{"id": sales.pk, "name": "Sales", "queued": 0}]
        ))

        conversation = await database_sync_to_async(arrive)("joined", team=sales)
        await realtime.aflush()
        events = await receive_until(comm, counts_where(lambda c: c["teams"][0]["queued"] == 1))
        assert [e["conversation"]["id"] for e in of_type(events, "conversation.updated")] == [
            conversation.pk
        ]

        await database_sync_to_async(set_team_members)(team=sales, agent_ids=set())
        await realtime.aflush()
        await receive_until(comm, counts_where(lambda c: c["teams"] == []))
        await database_sync_to_async(arrive)("after-leaving", team=sales)
        await realtime.aflush()
        assert await comm.receive_nothing(timeout=0.5)
        await comm.disconnect()

    async_to_sync(scenario)()
