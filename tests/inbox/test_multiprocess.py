"""Two ASGI server processes on one Redis and one PostgreSQL: what happens through one
server (or in any other process) reaches websocket clients connected to the other."""

import json
import time

import httpx
import pytest
from django.conf import settings
from django.db import connection
from websockets.sync.client import connect

from apps.routing import services
from tests.factories import AgentFactory, IntegrationFactory, TeamFactory
from tests.inbox.helpers import token_for
from tests.inbox.servers import server_env, uvicorn

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_layer():
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL: several processes share the Redis channel layer (CI sets it)")


def database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{db['USER']}{password}@{db.get('HOST') or '127.0.0.1'}:"
        f"{db.get('PORT') or 5432}/{db['NAME']}"
    )


def wait_for(ws, predicate, *, within=30.0) -> dict:
    """The first event matching ``predicate`` (a bound on waiting, not a speed assert)."""
    deadline = time.monotonic() + within
    seen = []
    while time.monotonic() < deadline:
        try:
            event = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        except TimeoutError:
            break
        seen.append(event)
        if predicate(event):
            return event
    raise AssertionError(f"no matching event; received {seen}")


def test_actions_through_one_server_reach_clients_of_the_other(redis_layer, tmp_path):
    alice, bob = AgentFactory(name="Alice"), AgentFactory(name="Bob")
    sales = TeamFactory(agents=[alice, bob], name="Sales")
    bot = IntegrationFactory()
    alice_token, bob_token = token_for(alice), token_for(bob)
    env = server_env(DATABASE_URL=database_url(), REDIS_URL=settings.REDIS_URL,
                     COUNTS_COALESCE_SECONDS="0.1", PRESENCE_GRACE_SECONDS="1")

    with uvicorn(env, log_path=tmp_path / "a.log") as a, uvicorn(
        env, log_path=tmp_path / "b.log"
    ) as b:
        with connect(f"ws://{b}/ws/inbox/?token={alice_token}", origin=f"http://{b}") as ws:
            first = json.loads(ws.recv(timeout=30))
            assert first["type"] == "queue.counts"
            assert first["counts"]["teams"] == [{"id": sales.pk, "name": "Sales", "queued": 0}]

            # A channel integration writes in through server A.
            response = httpx.post(
                f"http://{a}/api/v1/inbound",
                json={"contact": {"external_id": "mp-1", "name": "Paula"}, "body": "Oi",
                      "team": sales.pk},
                headers={"Authorization": f"Token {bot.raw_token}"},
                timeout=30,
            )
            assert response.status_code == 201, response.text
            conversation_id = response.json()["id"]
            wait_for(ws, lambda e: e["type"] == "queue.counts"
                     and e["counts"]["teams"][0]["queued"] == 1)

            # Bob takes it through server A: Alice, on server B, learns who took it.
            response = httpx.post(
                f"http://{a}/api/v1/conversations/{conversation_id}/claim",
                headers={"Authorization": f"Token {bob_token}"}, timeout=30,
            )
            assert response.status_code == 200, response.text
            taken = wait_for(ws, lambda e: e["type"] == "conversation.updated"
                             and e["conversation"]["status"] == "assigned")
            assert taken["conversation"]["assignee"] == bob.pk
            assert taken["conversation"]["assignee_name"] == "Bob"

            # A change made in a third process with no server loop (this one, as a Celery
            # worker would): published at commit, nothing to flush by hand.
            services.close_conversation(conversation_id=conversation_id, actor=bob)
            closed = wait_for(ws, lambda e: e["type"] == "conversation.updated"
                              and e["conversation"]["status"] == "closed")
            assert closed["conversation"]["id"] == conversation_id
