"""Faults against real servers (uvicorn subprocesses) in production mode, on PostgreSQL
and Redis: a flood of bad sign-ins, a database that does not answer in time, a Redis that
went away, sockets abandoned mid-send, access revoked through another process, and
credentials in URLs kept out of the access log."""

import asyncio
import contextlib
import json
import socket
import subprocess
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import transaction
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from apps.accounts.models import User
from apps.conversations.services import receive_inbound_message
from apps.inbox import presence
from apps.routing import services
from tests.factories import PASSWORD, AdminFactory, AgentFactory, TeamFactory
from tests.inbox.helpers import token_for
from tests.inbox.servers import free_port, manage, server_env, uvicorn
from tests.inbox.test_multiprocess import database_url

FLOOD = 300


@pytest.fixture
def production(on_postgres):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL: production mode (CI sets it)")

    def env(**extra):
        return server_env(DATABASE_URL=database_url(), REDIS_URL=settings.REDIS_URL,
                          PRESENCE_GRACE_SECONDS="1", **extra)

    return env


def statuses(responses) -> Counter:
    return Counter(r.status_code for r in responses)


def assert_json_refusals(responses):
    for response in responses:
        if response.status_code >= 400:
            assert response.headers["content-type"].startswith("application/json"), response.text
            assert response.json()["detail"]


@pytest.mark.django_db(transaction=True)
def test_a_flood_of_bad_sign_ins_is_throttled_and_starves_no_one(production, tmp_path):
    """300 concurrent guesses at one username from one address: the pair gets exactly its
    ten tries (nine 400s, the tenth locks), whatever the timing (each failure is counted
    before the next guess may hash); the rest are refused cheaply (429 once locked, 503 while
    another guess at that username is being checked) and a colleague's real sign-in behind
    the same address stays fast."""
    AgentFactory(username="target")
    colleague = AgentFactory(username="colleague")
    token = token_for(colleague)
    real = PBKDF2PasswordHasher()  # what the server checks (the tests' own is a fast MD5)
    User.objects.filter(pk=colleague.pk).update(password=real.encode(PASSWORD, real.salt()))

    async def flood(address):
        limits = httpx.Limits(max_connections=FLOOD + 10, max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=f"http://{address}", timeout=120,
                                     limits=limits) as client:
            guesses = [
                asyncio.create_task(client.post(
                    "/api/v1/auth/token", json={"username": "target", "password": f"guess-{n}"}
                ))
                for n in range(FLOOD)
            ]
            await asyncio.sleep(0.5)  # the flood is under way
            started = time.monotonic()
            signed_in = await client.post(
                "/api/v1/auth/token", json={"username": "colleague", "password": PASSWORD})
            took = time.monotonic() - started
            me = await client.get("/api/v1/me/", headers={"Authorization": f"Token {token}"})
            return signed_in, took, me, await asyncio.gather(*guesses)

    env = production(DB_POOL_SIZE="4", DB_POOL_TIMEOUT="5", LOGIN_HASH_CONCURRENCY="2")
    with uvicorn(env, log_path=tmp_path / "uvicorn.log") as address:
        started = time.monotonic()
        assert httpx.post(f"http://{address}/api/v1/auth/token", timeout=60, json={
            "username": "colleague", "password": PASSWORD}).status_code == 200
        alone = time.monotonic() - started
        signed_in, took, me, guesses = asyncio.run(flood(address))
        # Then one guess at a time until the lock: the pair's tries add up to the limit.
        after = []
        while not after or after[-1].status_code != 429:
            assert len(after) < 20, [r.status_code for r in after]
            after.append(httpx.post(f"http://{address}/api/v1/auth/token", timeout=60,
                                    json={"username": "target", "password": "again"}))
        elsewhere = httpx.post(f"http://{address}/api/v1/auth/token", timeout=60,
                               json={"username": "colleague", "password": PASSWORD})
    counted = statuses(guesses)
    print(f"\n{FLOOD} bad sign-ins: {dict(counted)}, then {statuses(after)}; a colleague's "
          f"sign-in took {took:.2f} s ({alone:.2f} s without the flood)")
    assert signed_in.status_code == 200, signed_in.text
    assert me.status_code == 200, me.text
    # Behind nine hashes at most: it was a 503, or 10-30 s, when every guess queued to hash.
    assert took < 10, took
    assert set(counted) <= {400, 429, 503}, counted
    assert counted[400] + statuses(after)[400] == 9  # the tenth failure locks
    assert_json_refusals(guesses + after)
    assert 290 <= int(after[-1].headers["retry-after"]) <= 300
    assert elsewhere.status_code == 200  # one person's guesses lock nobody else


@pytest.mark.django_db(transaction=True)
def test_a_database_that_does_not_answer_in_time_is_a_json_503(production, tmp_path):
    agents = [AgentFactory() for _ in range(6)]
    tokens = [token_for(agent) for agent in agents]
    User.objects.filter(pk__in=[a.pk for a in agents]).update(last_heartbeat=None)

    env = production(DB_POOL_SIZE="2", DB_POOL_TIMEOUT="1")
    with uvicorn(env, log_path=tmp_path / "uvicorn.log") as address:

        def queues(token):
            return httpx.get(f"http://{address}/api/v1/me/queues", timeout=60,
                             headers={"Authorization": f"Token {token}"})

        with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
            with transaction.atomic():
                # Every request's heartbeat waits on these rows, holding a pooled connection:
                # the pool's two connections are soon all waiting, and the rest cannot get one.
                list(User.objects.select_for_update().filter(pk__in=[a.pk for a in agents]))
                futures = [pool.submit(queues, token) for token in tokens]
                deadline = time.monotonic() + 30
                while sum(f.done() for f in futures) < len(tokens) - 2:
                    assert time.monotonic() < deadline, "the pool never timed out"
                    time.sleep(0.2)
            responses = [f.result() for f in futures]
    counted = statuses(responses)
    assert set(counted) <= {200, 503}, counted
    assert counted[503] >= 1
    assert_json_refusals(responses)
    assert all(r.headers.get("retry-after") for r in responses if r.status_code == 503)


@contextlib.contextmanager
def private_redis():
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0", process
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.django_db(transaction=True)
def test_a_broker_that_went_away_is_a_json_503_and_committed_work_is_not_a_500(
    production, tmp_path
):
    agent = AgentFactory(username="ana")
    team = TeamFactory(agents=[agent])
    conversation = receive_inbound_message(external_id="r1", body="Oi", team=team)[0]
    services.claim_conversation(conversation_id=conversation.pk, agent=agent)
    token = token_for(agent)
    with private_redis() as (redis_url, redis_process):
        env = server_env(DATABASE_URL=database_url(), REDIS_URL=redis_url)
        with uvicorn(env, log_path=tmp_path / "uvicorn.log") as address:
            base = f"http://{address}/api/v1"
            auth = {"Authorization": f"Token {token}"}
            assert httpx.get(f"{base}/me/", headers=auth, timeout=30).status_code == 200
            redis_process.terminate()
            redis_process.wait(timeout=10)

            sign_in = httpx.post(f"{base}/auth/token", timeout=60,
                                 json={"username": "ana", "password": "whatever"})
            ticket = httpx.post(f"{base}/ws-ticket", headers=auth, timeout=60)
            closed = httpx.post(f"{base}/conversations/{conversation.pk}/close", headers=auth,
                                timeout=60)
    assert sign_in.status_code == 503, sign_in.text
    assert ticket.status_code == 503, ticket.text
    assert_json_refusals([sign_in, ticket])
    # The close committed: its after-commit effects (a distribution task, live pushes) wait
    # for the periodic sweep instead of turning a done change into an error.
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"


@pytest.mark.django_db(transaction=True)
def test_sockets_abandoned_mid_send_leave_nothing_behind(production, tmp_path):
    agent = AgentFactory()
    token = token_for(agent)
    env = production()
    with uvicorn(env, log_path=tmp_path / "uvicorn.log") as address:
        for _ in range(20):
            ws = connect(f"ws://{address}/ws/inbox/?token={token}", open_timeout=30)
            ws.recv(timeout=30)  # the first counts
            for _ in range(30):
                ws.send(json.dumps({"type": "ping"}))
            # Gone without a closing handshake while the server is still answering.
            ws.socket.shutdown(socket.SHUT_RDWR)
            ws.socket.close()
        deadline = time.monotonic() + 20
        while presence.connection_count(agent.pk) and time.monotonic() < deadline:
            time.sleep(0.2)
        remaining = presence.connection_count(agent.pk)
        time.sleep(2)  # PRESENCE_GRACE_SECONDS, then offline
        agent.refresh_from_db()
    assert remaining == 0
    assert agent.presence == "offline"


@pytest.mark.django_db(transaction=True)
def test_deactivation_through_one_server_closes_sockets_on_the_other(production, tmp_path):
    agent, admin = AgentFactory(), AdminFactory()
    token, admin_token = token_for(agent), token_for(admin)
    env = production()
    with uvicorn(env, log_path=tmp_path / "a.log") as a, uvicorn(
        env, log_path=tmp_path / "b.log"
    ) as b:
        with connect(f"ws://{b}/ws/inbox/?token={token}", open_timeout=30) as ws:
            assert json.loads(ws.recv(timeout=30))["type"] == "queue.counts"
            response = httpx.delete(f"http://{a}/api/v1/agents/{agent.pk}/", timeout=30,
                                    headers={"Authorization": f"Token {admin_token}"})
            assert response.status_code == 204
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    ws.recv(timeout=15)
    assert closed.value.rcvd.code == 4403


@pytest.mark.django_db(transaction=True)
def test_tokens_and_tickets_in_urls_stay_out_of_the_access_log(tmp_path):
    env = server_env(DATABASE_URL=None, REDIS_URL=None, SQLITE_PATH=tmp_path / "db.sqlite3")
    manage("migrate", "--noinput", env=env)
    created = manage("shell", env=env, input_text=(
        "from apps.accounts.models import User\n"
        "from apps.accounts.services import issue_person_token\n"
        "print(issue_person_token(user=User.objects.create_user('ana', password='x')))\n"
    ))
    token = created.strip().splitlines()[-1]
    log = tmp_path / "uvicorn.log"
    with uvicorn(env, log_path=log, extra_args=("--log-level", "info")) as address:
        with connect(f"ws://{address}/ws/inbox/?token={token}", open_timeout=30) as ws:
            ws.recv(timeout=30)
        httpx.get(f"http://{address}/api/v1/me/?token={token}", timeout=30)
        time.sleep(0.5)
        written = log.read_text()
        assert "WebSocket /ws/inbox/?token=[redacted]" in written, written
        assert "/api/v1/me/?token=[redacted]" in written
        assert token not in written
        ticket = httpx.post(f"http://{address}/api/v1/ws-ticket", timeout=30,
                            headers={"Authorization": f"Token {token}"}).json()["ticket"]
        with connect(f"ws://{address}/ws/inbox/?ticket={ticket}", open_timeout=30) as ws:
            ws.recv(timeout=30)
        time.sleep(0.5)
    written = log.read_text()
    assert "/ws/inbox/?ticket=[redacted]" in written
    assert token not in written and ticket not in written
