"""The websocket under abuse and faults: cleanup always runs, origins are compared in full,
and each socket and person is bounded (rate, frame size, sockets per person)."""

import asyncio
import json

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.conf import settings as django_settings
from uvicorn.protocols.utils import ClientDisconnected

from apps.accounts.models import Presence, User
from apps.inbox import presence
from config.asgi import application
from tests.factories import AgentFactory
from tests.inbox.helpers import communicator, connected, session_cookie, token_for

pytestmark = pytest.mark.django_db(transaction=True)


async def closed_with(comm, code, *, within=5) -> list[dict]:
    """Everything the server sent before it closed the socket with ``code``."""
    before = []
    while True:
        output = await comm.receive_output(timeout=within)
        if output["type"] == "websocket.close":
            assert output.get("code") == code, (output, before)
            return before
        before.append(json.loads(output["text"]))


async def refused(**kwargs) -> bool:
    comm = communicator(**kwargs)
    ok, _ = await comm.connect(timeout=5)
    await comm.disconnect()
    return not ok


# ------------------------------------------------------------------ cleanup (finding 6)


async def run_until_the_send_fails(token: str) -> None:
    """Drive the ASGI app as uvicorn does, with a client that leaves while the server is
    sending: the pong's send raises uvicorn's ClientDisconnected."""
    incoming: asyncio.Queue = asyncio.Queue()
    sent: list[dict] = []
    gone = asyncio.Event()

    async def receive():
        return await incoming.get()

    async def send(message):
        if gone.is_set():
            raise ClientDisconnected()
        sent.append(message)

    scope = {
        "type": "websocket", "path": "/ws/inbox/", "query_string": f"token={token}".encode(),
        "headers": [(b"host", b"testserver"), (b"origin", b"http://testserver")],
        "subprotocols": [], "scheme": "ws",
        "client": ("127.0.0.1", 5000), "server": ("testserver", 80),
    }
    app = asyncio.ensure_future(application(scope, receive, send))
    await incoming.put({"type": "websocket.connect"})
    for _ in range(100):
        if any(m["type"] == "websocket.send" for m in sent):
            break
        await asyncio.sleep(0.05)
    assert sent[0]["type"] == "websocket.accept"
    gone.set()
    await incoming.put({"type": "websocket.receive", "text": json.dumps({"type": "ping"})})
    await incoming.put({"type": "websocket.disconnect", "code": 1006})
    try:
        await asyncio.wait_for(app, timeout=10)
    except (ClientDisconnected, OSError):
        pass  # how the app ended is the server's business; what it left behind is ours


def test_cleanup_runs_when_a_send_races_the_client_leaving(settings):
    settings.PRESENCE_GRACE_SECONDS = 0.2
    agent = AgentFactory(presence=Presence.OFFLINE)
    token = token_for(agent)

    async def scenario():
        await run_until_the_send_fails(token)
        assert await database_sync_to_async(presence.connection_count)(agent.pk) == 0
        await asyncio.sleep(1.0)  # the grace period, then offline

    async_to_sync(scenario)()
    assert User.objects.get(pk=agent.pk).presence == Presence.OFFLINE


def test_deep_json_on_the_socket_is_an_error_event_not_a_crash():
    agent = AgentFactory()
    token = token_for(agent)

    async def scenario():
        comm, _ = await connected(token=token)
        await comm.send_to(text_data="[" * 1000 + "]" * 1000)
        answer = await comm.receive_json_from(timeout=5)
        assert answer["type"] == "error" and "64" in answer["detail"]
        await comm.send_json_to({"type": "ping"})
        assert await comm.receive_json_from(timeout=5) == {"type": "pong"}
        await comm.disconnect()
        assert await database_sync_to_async(presence.connection_count)(agent.pk) == 0

    async_to_sync(scenario)()


# ------------------------------------------------------------------ origins (finding 13)


def test_token_clients_need_no_origin_but_cookie_clients_must_match_it_in_full(settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://inbox.example.com"]
    agent = AgentFactory()
    token = token_for(agent)
    cookie = session_cookie(agent)

    async def scenario():
        assert not await refused(token=token, origin=None)
        assert not await refused(cookie=cookie, origin=b"http://testserver")
        assert not await refused(cookie=cookie, origin=b"https://inbox.example.com")
        assert await refused(cookie=cookie, origin=None)
        assert await refused(cookie=cookie, origin=b"http://testserver:8081")  # another port
        assert await refused(cookie=cookie, origin=b"https://testserver")  # another scheme
        assert await refused(cookie=cookie, origin=b"http://inbox.example.com")
        assert await refused(cookie=cookie, origin=b"http://evil.example")
        assert await refused(token=token, origin=b"http://evil.example")  # a foreign page

    async_to_sync(scenario)()


# ------------------------------------------------------------------ limits (finding 14)


def test_a_ping_flood_is_cut_short(settings):
    agent = AgentFactory()
    token = token_for(agent)
    burst = django_settings.WS_MESSAGE_BURST

    async def scenario():
        comm, _ = await connected(token=token)
        for _ in range(burst * 10):
            await comm.send_json_to({"type": "ping"})
        events = await closed_with(comm, 4429)
        pongs = [e for e in events if e["type"] == "pong"]
        assert burst <= len(pongs) <= burst + 5
        assert any(e.get("code") == "rate_limited" for e in events)

    async_to_sync(scenario)()


def test_a_frame_over_the_limit_is_not_parsed(settings):
    agent = AgentFactory()
    token = token_for(agent)

    async def scenario():
        comm, _ = await connected(token=token)
        big = json.dumps({"type": "ping", "pad": "x" * (django_settings.WS_MAX_MESSAGE_BYTES)})
        await comm.send_to(text_data=big)
        await closed_with(comm, 1009)

    async_to_sync(scenario)()


def test_one_person_may_hold_only_so_many_sockets(settings):
    settings.WS_MAX_SOCKETS_PER_PERSON = 3
    agent = AgentFactory()
    token = token_for(agent)

    async def scenario():
        held = [(await connected(token=token))[0] for _ in range(3)]
        extra = communicator(token=token)
        ok, _ = await extra.connect(timeout=5)
        assert ok
        events = await closed_with(extra, 4429)
        assert events[-1]["code"] == "too_many_sockets"
        assert await database_sync_to_async(presence.connection_count)(agent.pk) == 3
        await held[0].disconnect()
        again, _ = await connected(token=token)  # room again
        for comm in (*held[1:], again):
            await comm.disconnect()

    async_to_sync(scenario)()
