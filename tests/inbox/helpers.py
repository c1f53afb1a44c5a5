"""Websocket helpers for the inbox tests."""

from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from apps.accounts.services import issue_person_token
from config.asgi import application

ORIGIN = b"http://testserver"


def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}".encode()


def token_for(user) -> str:
    """A new API token of the person's (each call issues one)."""
    return issue_person_token(user=user)


def communicator(
    *, token: str | None = None, cookie: bytes | None = None, origin=ORIGIN,
    ticket: str | None = None,
):
    path = "/ws/inbox/" + (f"?token={token}" if token is not None else "")
    if ticket is not None:
        path = f"/ws/inbox/?ticket={ticket}"
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
