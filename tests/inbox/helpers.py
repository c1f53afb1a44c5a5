"""Websocket helpers for the inbox tests.

``channels.testing`` imports daphne (its live-server helper) at package import, and daphne is
not a dependency of the project, so this is channels' WebsocketCommunicator re-stated on the
asgiref ApplicationCommunicator it is built on (same methods, same semantics).
"""

import json
from urllib.parse import unquote, urlparse

from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.test import Client
from rest_framework.authtoken.models import Token

from config.asgi import application

ORIGIN = b"http://testserver"


class WebsocketCommunicator(ApplicationCommunicator):
    def __init__(self, application, path: str, headers=None):
        parsed = urlparse(path)
        scope = {
            "type": "websocket",
            "path": unquote(parsed.path),
            "query_string": parsed.query.encode(),
            "headers": headers or [],
            "subprotocols": [],
        }
        super().__init__(application, scope)

    async def connect(self, timeout=1):
        await self.send_input({"type": "websocket.connect"})
        response = await self.receive_output(timeout)
        if response["type"] == "websocket.close":
            return False, response.get("code", 1000)
        assert response["type"] == "websocket.accept"
        return True, response.get("subprotocol")

    async def send_to(self, text_data: str):
        await self.send_input({"type": "websocket.receive", "text": text_data})

    async def send_json_to(self, data):
        await self.send_to(json.dumps(data))

    async def receive_json_from(self, timeout=1):
        response = await self.receive_output(timeout)
        assert response["type"] == "websocket.send", response
        return json.loads(response["text"])

    async def disconnect(self, code=1000, timeout=1):
        await self.send_input({"type": "websocket.disconnect", "code": code})
        await self.wait(timeout)


def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}".encode()


def token_for(user) -> str:
    return Token.objects.get_or_create(user=user)[0].key


def communicator(*, token: str | None = None, cookie: bytes | None = None, origin=ORIGIN):
    path = "/ws/inbox/" + (f"?token={token}" if token is not None else "")
    headers = [(b"host", b"testserver")]
    if origin is not None:
        headers.append((b"origin", origin))
    if cookie is not None:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(application, path, headers=headers)


async def connected(**kwargs):
    """Connect and consume the first queue.counts; returns (communicator, counts)."""
    comm = communicator(**kwargs)
    ok, _ = await comm.connect(timeout=5)
    assert ok
    first = await comm.receive_json_from(timeout=5)
    assert first["type"] == "queue.counts"
    return comm, first["counts"]


async def drain(comm) -> list[dict]:
    """Every event already on its way to this client."""
    events = []
    while not await comm.receive_nothing(timeout=0.3):
        events.append(await comm.receive_json_from(timeout=5))
    return events


def of_type(events, kind) -> list[dict]:
    return [e for e in events if e["type"] == kind]
