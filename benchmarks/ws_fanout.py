"""Websocket fan-out: 1,000 agents connected to a uvicorn process (Redis + PostgreSQL,
``?token=`` authentication); a change is committed in another process (this one, as a Celery
worker or another ASGI process would) and every client waits for its ``conversation.updated``.
Prints p50 / p95 / max latency from commit to receipt; never asserts.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python benchmarks/ws_fanout.py

BENCH_WS_CLIENTS (default 1000) and BENCH_WS_ROUNDS (default 5) tune it. The latency
includes the coalescing window (COUNTS_COALESCE_SECONDS, default 0.25 s).
"""

import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CLIENTS = int(os.environ.get("BENCH_WS_CLIENTS", "1000"))
ROUNDS = int(os.environ.get("BENCH_WS_ROUNDS", "5"))
CONNECT_CONCURRENCY = 50
WORKERS = os.environ.get("BENCH_WS_WORKERS", str(os.cpu_count() or 2))


def percentile(values, pct):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def setup():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from config.celery import app

    app.conf.task_always_eager = True
    call_command("migrate", verbosity=0)


def create_agents(prefix: str):
    from datetime import timedelta

    from django.utils import timezone

    from apps.accounts.models import PersonToken, Presence, User, hash_token
    from apps.teams.models import Membership, Team

    now = timezone.now()
    users = User.objects.bulk_create(
        User(username=f"{prefix}-{n}", name=f"Bench {n}", presence=Presence.ONLINE,
             last_heartbeat=now, password="!")
        for n in range(CLIENTS)
    )
    team = Team.objects.create(name=f"{prefix} team")
    Membership.objects.bulk_create(Membership(team=team, agent=u) for u in users)
    raw = {u.pk: PersonToken.new_token() for u in users}
    PersonToken.objects.bulk_create(
        PersonToken(user=u, token_hash=hash_token(raw[u.pk]), token_prefix=raw[u.pk][:8],
                    created_at=now, expires_at=now + timedelta(days=1))
        for u in users
    )
    return team, [raw[u.pk] for u in users]


def clean_up(prefix: str):
    from apps.accounts.models import User
    from apps.conversations.models import Conversation, ConversationEvent, Message
    from apps.organizations.models import Contact
    from apps.teams.models import Team

    team = Team.objects.get(name=f"{prefix} team")
    conversations = Conversation.objects.filter(team=team)
    Conversation.objects.filter(team=team).update(last_message=None)
    Message.objects.filter(conversation__in=conversations).delete()
    ConversationEvent.objects.filter(conversation__in=conversations).delete()
    contact_ids = list(conversations.values_list("contact_id", flat=True))
    conversations.delete()
    Contact.objects.filter(pk__in=contact_ids).delete()
    team.delete()
    User.objects.filter(username__startswith=f"{prefix}-").delete()


def commit_change(prefix: str, n: int, team_id: int) -> tuple[int, float]:
    from apps.conversations.services import receive_inbound_message
    from apps.teams.models import Team

    conversation, _message, _created = receive_inbound_message(
        external_id=f"{prefix}-contact-{n}", body="bench", team=Team.objects.get(pk=team_id)
    )
    return conversation.pk, time.perf_counter()  # returned after the commit


async def wait_for_update(ws, index: int, target: dict, received: dict) -> None:
    """Read this client's events until the round's conversation.updated arrives."""
    try:
        while True:
            event = json.loads(await ws.recv())
            if (event["type"] == "conversation.updated"
                    and event["conversation"]["id"] == target.get("id")):
                received[index] = time.perf_counter()
                return
    except ConnectionClosed as closed:
        received.setdefault("closed", []).append(str(closed))


async def run(address: str, tokens: list[str], prefix: str, team_id: int):
    from websockets.asyncio.client import connect

    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    sockets = []

    async def open_one(token):
        async with gate:
            ws = await connect(f"ws://{address}/ws/inbox/?token={token}",
                               origin=f"http://{address}", open_timeout=60, max_queue=None)
            json.loads(await ws.recv())  # the first queue.counts
            sockets.append(ws)

    started = time.perf_counter()
    await asyncio.gather(*(open_one(t) for t in tokens))
    print(f"  {len(sockets)} clients connected in {time.perf_counter() - started:.1f} s",
          flush=True)

    latencies = []
    for n in range(ROUNDS):
        received: dict[int, float] = {}

        target: dict = {}
        waiters = [asyncio.create_task(wait_for_update(ws, i, target, received))
                   for i, ws in enumerate(sockets)]
        conversation_id, committed = await asyncio.to_thread(commit_change, prefix, n, team_id)
        target["id"] = conversation_id
        _done, pending = await asyncio.wait(waiters, timeout=20)
        for task in pending:
            task.cancel()
        closed = received.pop("closed", [])
        latencies += [(at - committed) * 1000 for at in received.values()]
        print(f"  round {n + 1}: {len(received)}/{len(sockets)} clients received it"
              + (f" ({len(closed)} connections closed: {closed[0]})" if closed else ""), flush=True)
    for ws in sockets:
        await ws.close()
    return latencies


def main():
    if not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        print("ws_fanout: skipped (set DATABASE_URL and REDIS_URL: it measures the Redis "
              "channel layer across processes)")
        return
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * CLIENTS + 256)), hard))
    setup()
    from django.conf import settings
    from django.db import connections

    from tests.inbox.servers import server_env, uvicorn

    prefix = f"wsbench-{uuid.uuid4().hex[:6]}"
    team, tokens = create_agents(prefix)
    connections.close_all()
    print(f"Websocket fan-out: {CLIENTS} agents, uvicorn --workers {WORKERS} (DB_POOL_SIZE=16), "
          f"Redis channel layer, "
          f"coalescing window {settings.COUNTS_COALESCE_SECONDS * 1000:.0f} ms", flush=True)
    try:
        # Pooled database connections, as a production deployment would run.
        env = server_env(DB_POOL_SIZE="16", CONN_MAX_AGE=None)
        with uvicorn(env, extra_args=("--workers", WORKERS)) as address:
            latencies = asyncio.run(run(address, tokens, prefix, team.pk))
        if latencies:
            p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
            print(f"  commit -> receipt over {len(latencies)} deliveries: p50 {p50:.0f} ms, "
                  f"p95 {p95:.0f} ms, max {max(latencies):.0f} ms "
                  f"(mean {statistics.mean(latencies):.0f} ms)")
        else:
            print("  no deliveries measured")
    finally:
        connections.close_all()
        clean_up(prefix)


if __name__ == "__main__":
    from benchmarks.common import STEP_SECONDS, time_limit

    with time_limit(STEP_SECONDS, "ws_fanout"):
        main()
