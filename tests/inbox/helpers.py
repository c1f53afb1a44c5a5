"""Websocket helpers for the inbox tests."""

import asyncio

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


async def receive_until(comm, predicate, *, timeout: float = 5.0) -> list[dict]:
    """The events this client receives up to the first one that matches ``predicate``
    (the last of the list), waiting at most ``timeout`` seconds for it in all. Fails with
    everything received so far if it does not come."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    events: list[dict] = []
    while True:
        remaining = deadline - loop.time()
        try:
            if remaining <= 0:
                raise TimeoutError
            event = await comm.receive_json_from(timeout=remaining)
        except TimeoutError:
            raise AssertionError(
                f"no matching event within {timeout} s; received {events}"
            ) from None
        events.append(event)
        if predicate(event):
            return events


def counts_where(check):
    """A predicate: a queue.counts event whose counts satisfy ``check``."""
    return lambda event: event["type"] == "queue.counts" and check(event["counts"])


def conversation_where(check):
    """A predicate: a conversation.updated event whose conversation satisfies ``check``."""
    return lambda event: event["type"] == "conversation.updated" and check(event["conversation"])


def of_type(events, kind) -> list[dict]:
    return [e for e in events if e["type"] == kind]
