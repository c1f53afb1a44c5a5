"""Websocket fan-out: 1,000 agents connected to a uvicorn process (Redis + PostgreSQL,
``?token=`` authentication), the clients in separate processes from the server
(BENCH_WS_PROCESSES, default 4, spawned: they never import Django; each holds its share of
the sockets with the ``websockets`` library). A change is committed in another process (this
one, as a Celery worker or another ASGI process would: a new inbound conversation into a team
all agents are members of) and every client waits for its ``conversation.updated``. Prints
p50 / p95 / max latency from commit to receipt, the server's CPU during the rounds, and the
part of it spent in the committing process's flush; never asserts.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python benchmarks/ws_fanout.py

BENCH_WS_CLIENTS (default 1000), BENCH_WS_PROCESSES (default 4) and BENCH_WS_ROUNDS
(default 5) tune it; ``--profile`` prints a pyinstrument profile of one more change's commit
and flush in the committing process. "Commit" is the moment the change's announcement is
delivered after the commit (a subscriber ahead of the live inbox's records it); a flush
after a quiet spell goes out at once, so the coalescing window (COUNTS_COALESCE_SECONDS) is
not waited for.
"""

import asyncio
import json
import multiprocessing as mp
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
PROCESSES = int(os.environ.get("BENCH_WS_PROCESSES", "4"))
CONNECT_SECONDS = 240  # all sockets of one client process open
ROUND_SECONDS = 20  # the most a client process waits for one change
PROFILE = "--profile" in sys.argv
WAIT_SECONDS = 300  # a client process with no word from the parent for this long stops


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


def commit_change(prefix: str, n: int, team_id: int) -> tuple[int, float, float, float]:
    """Commit one new conversation into the team. Returns its id, the moment its
    announcement was delivered after the commit (before the live inbox's subscriber runs:
    the "commit" of commit to receipt), the moment the call returned (this process's
    after-commit flush done), and this process's CPU seconds for the whole call."""
    from apps.conversations.services import receive_inbound_message
    from apps.core import announce
    from apps.teams.models import Team

    team = Team.objects.get(pk=team_id)
    marks: list[float] = []

    def mark(_announcement) -> None:
        if not marks:
            marks.append(time.perf_counter())

    announce._subscribers.insert(0, mark)  # ahead of every other subscriber
    cpu = time.process_time()
    try:
        conversation, _message, _created = receive_inbound_message(
            external_id=f"{prefix}-contact-{n}", body="bench", team=team
        )
    finally:
        announce.unsubscribe(mark)
    returned = time.perf_counter()
    return conversation.pk, marks[0] if marks else returned, returned, time.process_time() - cpu


# ------------------------------------------------------------ the clients (no Django here)

def client_process(index: int, address: str, tokens: list[str], commands, results) -> None:
    """One client process: holds ``tokens``' sockets; for each conversation id the parent
    sends, reports every socket's receipt time of its ``conversation.updated``."""
    try:
        asyncio.run(_client_main(index, address, tokens, commands, results))
    except Exception as error:  # reported to the parent, which prints it
        results.put(("error", index, f"{type(error).__name__}: {error}"))


async def _client_main(index, address, tokens, commands, results) -> None:
    import queue as queues

    from websockets.asyncio.client import connect

    gate = asyncio.Semaphore(CONNECT_CONCURRENCY // 4 or 1)
    sockets = []
    received: dict[int, dict[int, float]] = {}  # conversation id -> socket -> receipt
    closed: list[str] = []

    async def open_one(token):
        async with gate:
            ws = await connect(f"ws://{address}/ws/inbox/?token={token}",
                               origin=f"http://{address}", open_timeout=120, max_queue=None)
            json.loads(await ws.recv())  # the first queue.counts
            sockets.append(ws)

    async def read(number, ws):
        try:
            async for raw in ws:
                at = time.perf_counter()
                event = json.loads(raw)
                if event.get("type") == "conversation.updated":
                    received.setdefault(event["conversation"]["id"], {}).setdefault(number, at)
        except ConnectionClosed as error:
            closed.append(str(error))

    await asyncio.gather(*(open_one(t) for t in tokens))
    readers = [asyncio.create_task(read(n, ws)) for n, ws in enumerate(sockets)]
    results.put(("ready", index, len(sockets), os.getpid()))
    loop = asyncio.get_running_loop()
    try:
        while True:
            try:
                command = await loop.run_in_executor(None, commands.get, True, WAIT_SECONDS)
            except queues.Empty:
                return  # the parent is gone or stuck: stop, never hang
            if command[0] == "stop":
                return
            conversation_id = command[1]
            deadline = time.monotonic() + ROUND_SECONDS
            while (len(received.get(conversation_id, {})) + len(closed) < len(sockets)
                   and time.monotonic() < deadline):
                await asyncio.sleep(0.02)
            times = list(received.get(conversation_id, {}).values())
            results.put(("round", index, conversation_id, times, list(closed)))
    finally:
        for task in readers:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


# ------------------------------------------------------------------------- the parent

def start_clients(address: str, tokens: list[str]):
    context = mp.get_context("spawn")
    results = context.Queue()
    clients = []
    for index in range(PROCESSES):
        commands = context.Queue()
        share = tokens[index::PROCESSES]
        process = context.Process(target=client_process, daemon=True,
                                  args=(index, address, share, commands, results))
        process.start()
        clients.append((process, commands))
    return clients, results


def rounds(address: str, tokens: list[str], prefix: str, team_id: int) -> dict:
    from benchmarks import common

    clients, results = start_clients(address, tokens)
    try:
        started = time.perf_counter()
        connected, pids = 0, []
        for _ in clients:
            message = results.get(timeout=CONNECT_SECONDS)
            if message[0] == "error":
                raise RuntimeError(f"client process {message[1]}: {message[2]}")
            connected += message[2]
            pids.append(message[3])
        print(f"  {connected} clients connected from {PROCESSES} processes in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        time.sleep(1)  # the connections' own first pushes settle

        latencies, flushes, commit_cpu = [], [], 0.0
        server_before = common.server_cpu_seconds()
        clients_before = common.process_cpu_seconds(pids)
        postgres_before = common.postgres_cpu_seconds()
        busy_before, total_before = common.machine_busy()
        for n in range(ROUNDS):
            conversation_id, committed, returned, cpu = commit_change(prefix, n, team_id)
            flushes.append((returned - committed) * 1000)
            commit_cpu += cpu
            for _process, commands in clients:
                commands.put(("round", conversation_id))
            got, closed = 0, []
            for _ in clients:
                message = results.get(timeout=ROUND_SECONDS + 30)
                if message[0] == "error":
                    raise RuntimeError(f"client process {message[1]}: {message[2]}")
                _kind, _index, _id, times, gone = message
                latencies += [(at - committed) * 1000 for at in times]
                got += len(times)
                closed += gone
            print(f"  round {n + 1}: {got}/{connected} clients received it"
                  + (f" ({len(closed)} connections closed: {closed[0]})" if closed else ""),
                  flush=True)
            time.sleep(0.5)
        busy_after, total_after = common.machine_busy()
        cpu = {
            "server": common.server_cpu_seconds() - server_before,
            "clients": common.process_cpu_seconds(pids) - clients_before,
            "postgres": common.postgres_cpu_seconds() - postgres_before,
            "committer": commit_cpu,
            "machine": (busy_after - busy_before) / ((total_after - total_before) or 1),
        }
        if PROFILE:
            # One more change, outside the figures, under pyinstrument: where the committing
            # process's time goes (the sockets are still open, so the flush has its groups).
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
            profiler.start()
            commit_change(prefix, ROUNDS, team_id)
            profiler.stop()
            print(profiler.output_text(unicode=True, color=False, show_all=False), flush=True)
        for _process, commands in clients:
            commands.put(("stop",))
        for process, _commands in clients:
            process.join(timeout=30)
    finally:
        for process, _commands in clients:
            if process.is_alive():
                process.kill()
                process.join()
    return {"latencies": latencies, "flushes": flushes, "cpu": cpu}


def main():
    if not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        print("ws_fanout: skipped (set DATABASE_URL and REDIS_URL: it measures the Redis "
              "channel layer across processes)")
        return
    import resource

    from benchmarks import common

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * CLIENTS + 256)), hard))
    setup()
    from django.conf import settings
    from django.db import connections

    from tests.inbox.servers import server_env, uvicorn

    prefix = f"wsbench-{uuid.uuid4().hex[:6]}"
    team, tokens = create_agents(prefix)
    connections.close_all()
    print(f"Websocket fan-out: {CLIENTS} agents in {PROCESSES} client processes, uvicorn "
          f"--workers {WORKERS} (DB_POOL_SIZE=16), Redis channel layer, coalescing window "
          f"{settings.COUNTS_COALESCE_SECONDS * 1000:.0f} ms (load average before: "
          f"{common.load_average()})", flush=True)
    try:
        # Pooled database connections, as a production deployment would run.
        env = server_env(DB_POOL_SIZE="16", CONN_MAX_AGE=None, DEBUG="0", LOG_LEVEL="ERROR")
        with uvicorn(env, extra_args=("--workers", WORKERS, "--no-access-log")) as address:
            result = rounds(address, tokens, prefix, team.pk)
        latencies = result["latencies"]
        if latencies:
            p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
            print(f"  commit -> receipt over {len(latencies)} deliveries: p50 {p50:.0f} ms, "
                  f"p95 {p95:.0f} ms, max {max(latencies):.0f} ms "
                  f"(mean {statistics.mean(latencies):.0f} ms; target p95 < 100 ms)")
        else:
            print("  no deliveries measured")
        flushes, cpu = result["flushes"], result["cpu"]
        print(f"  the committing process's after-commit flush (reads, building and publishing "
              f"the group messages): p50 {percentile(flushes, 50):.0f} ms, max "
              f"{max(flushes):.0f} ms; its CPU for the whole commit "
              f"{cpu['committer'] / ROUNDS * 1000:.0f} ms per change")
        print(f"  CPU during the {ROUNDS} rounds: uvicorn (all workers) {cpu['server']:.2f} s "
              f"({cpu['server'] / ROUNDS * 1000:.0f} ms per change), client processes "
              f"{cpu['clients']:.2f} s, PostgreSQL {cpu['postgres']:.2f} s; machine "
              f"{cpu['machine'] * 100:.0f} % busy (load average after: "
              f"{common.load_average()})")
    finally:
        connections.close_all()
        clean_up(prefix)


if __name__ == "__main__":
    from benchmarks.common import STEP_SECONDS, time_limit

    with time_limit(STEP_SECONDS, "ws_fanout"):
        main()
