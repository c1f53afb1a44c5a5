"""A websocket ticket: a short-lived, single-use stand-in for the token in the socket's URL
(URLs end up in access logs; the ticket is worthless a moment later)."""

from datetime import timedelta

import pytest
import time_machine
from asgiref.sync import async_to_sync
from django.utils import timezone

from tests.api.conftest import client_for
from tests.factories import AgentFactory, IntegrationFactory
from tests.inbox.helpers import communicator

pytestmark = pytest.mark.django_db(transaction=True)


async def opens(**kwargs) -> bool:
    comm = communicator(**kwargs)
    ok, _ = await comm.connect(timeout=5)
    if ok:
        assert (await comm.receive_json_from(timeout=5))["type"] == "queue.counts"
    await comm.disconnect()
    return ok


def ticket_for(client) -> dict:
    response = client.post("/api/v1/ws-ticket")
    assert response.status_code == 201, response.content
    return response.json()


def test_a_ticket_opens_one_socket_once_without_an_origin():
    client = client_for(AgentFactory())
    issued = ticket_for(client)
    assert issued["expires_in"] == 30
    assert async_to_sync(opens)(ticket=issued["ticket"], origin=None)
    assert not async_to_sync(opens)(ticket=issued["ticket"], origin=None)


def test_a_ticket_is_worthless_after_30_seconds():
    issued = ticket_for(client_for(AgentFactory()))
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        assert not async_to_sync(opens)(ticket=issued["ticket"], origin=None)


def test_only_people_get_tickets():
    assert client_for(None).post("/api/v1/ws-ticket").status_code == 401
    assert client_for(IntegrationFactory()).post("/api/v1/ws-ticket").status_code == 403


def test_a_made_up_ticket_opens_nothing():
    assert not async_to_sync(opens)(ticket="made-up", origin=None)
    assert not async_to_sync(opens)(ticket="x" * 5000, origin=None)
