"""The live inbox through a Redis outage (issue 18 item 5), against a real server (uvicorn,
two workers) on a Redis of the test's own that the test stops and starts again: open sockets
stay open and are told that live updates are paused, a socket opened during the outage is
turned away cleanly (never a 500), and after it every socket is told live updates resumed,
with fresh counts, and new sockets open the first time on every worker."""

import contextlib
import json
import socket
import subprocess
import time

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.factories import AgentFactory, IntegrationFactory, TeamFactory
from tests.inbox.helpers import token_for
from tests.inbox.servers import free_port, server_env, uvicorn
from tests.inbox.test_multiprocess import database_url, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def start_redis(port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return process
        assert time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.05)


def stop_redis(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=10)


def open_socket(address: str, token: str):
    """(the socket, its first event); a refused handshake raises InvalidStatus."""
    ws = connect(f"ws://{address}/ws/inbox/?token={token}", open_timeout=30)
    return ws, json.loads(ws.recv(timeout=30))


def test_sockets_live_through_a_redis_outage(on_postgres, tmp_path):
    agent = AgentFactory(name="Ana")
    team = TeamFactory(agents=[agent], name="Vendas")
    bot = IntegrationFactory()
    token = token_for(agent)
    port = free_port()
    redis_process = start_redis(port)
    env = server_env(DATABASE_URL=database_url(), REDIS_URL=f"redis://127.0.0.1:{port}/0",
                     COUNTS_COALESCE_SECONDS="0.1", PRESENCE_GRACE_SECONDS="30")
    try:
        with uvicorn(env, log_path=tmp_path / "uvicorn.log",
                     extra_args=("--workers", "2")) as address:
            ws, first = open_socket(address, token)
            assert first["type"] == "queue.counts"

            stop_redis(redis_process)
            # The socket stays open: told that live updates are paused, and its heartbeat
            # is answered.
            wait_for(ws, lambda e: e["type"] == "live.paused", within=20)
            ws.send(json.dumps({"type": "ping"}))
            wait_for(ws, lambda e: e["type"] == "pong", within=20)

            # A socket opened during the outage is turned away cleanly (never a 500).
            during = []
            for _ in range(4):
                try:
                    other, event = open_socket(address, token)
                except InvalidStatus as refused:
                    during.append(refused.response.status_code)
                    continue
                during.append(event.get("code"))
                with pytest.raises(ConnectionClosed) as closed:
                    other.recv(timeout=30)
                during.append(closed.value.rcvd.code)

            redis_process = start_redis(port)
            wait_for(ws, lambda e: e["type"] == "live.resumed", within=30)
            counts = wait_for(ws, lambda e: e["type"] == "queue.counts", within=30)
            assert counts["counts"]["teams"] == [{"id": team.pk, "name": "Vendas", "queued": 0}]

            # New sockets open the first time, on every worker (four in a row).
            after = []
            for _ in range(4):
                other, event = open_socket(address, token)
                after.append(event["type"])
                other.close()

            # And changes reach the socket that lived through it.
            response = httpx.post(
                f"http://{address}/api/v1/inbound",
                json={"contact": {"external_id": "ro-1"}, "body": "Oi", "team": team.pk},
                headers={"Authorization": f"Token {bot.raw_token}"}, timeout=30,
            )
            assert response.status_code == 201, response.text
            wait_for(ws, lambda e: e["type"] == "queue.counts"
                     and e["counts"]["teams"][0]["queued"] == 1, within=30)
            ws.close()
    finally:
        with contextlib.suppress(Exception):
            stop_redis(redis_process)
    assert 500 not in during
    assert set(during) <= {"live_unavailable", 1013}, during
    assert after == ["queue.counts"] * 4
    log = (tmp_path / "uvicorn.log").read_text()
    assert "Traceback" not in log or "ASGI" not in log, log[-3000:]
