"""The claim storm over HTTP (issue 14 item 4): 50 agents, each a separate client process
with its own person token and keep-alive connection, POST /api/v1/conversations/{id}/claim
on the same Waiting conversation at once (a multiprocessing Barrier releases them), against
uvicorn (PostgreSQL + Redis). Several rounds; prints each claim's p50 / p99 latency, the
whole storm's duration, whether each round had exactly one winner, the server's CPU per
claim, and the ratio to pgbench -N of the same run (BENCH_PGBENCH_TPS, from run.py); then
the same storm against a bare endpoint doing the claim's conditional UPDATE alone
(benchmarks/bare_claim_app.py, no Django) and the ratios. Prints figures, never asserts.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python benchmarks/claim_storm_http.py

BENCH_STORM_CLIENTS (default 50), BENCH_STORM_ROUNDS (default 10) and BENCH_STORM_WORKERS
(default: the number of cores) tune it. The client processes are started (spawned: they
never import Django) and connected before the timed part, and use http.client, so the
figure is the server's.
"""

import multiprocessing as mp
import os
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CLIENTS = int(os.environ.get("BENCH_STORM_CLIENTS", "50"))
ROUNDS = int(os.environ.get("BENCH_STORM_ROUNDS", "10"))
WORKERS = os.environ.get("BENCH_STORM_WORKERS", str(os.cpu_count() or 2))
WAIT_SECONDS = 60  # the most any barrier or result is waited for


def claimer(index: int, address: str, token: str, conversation_ids: list[int], barrier,
            results) -> None:
    """One agent, in a process of its own (no Django): warm the connection, then claim
    each round's conversation when the barrier opens."""
    import http.client

    host, port = address.split(":")
    headers = {"Authorization": f"Token {token}", "Content-Length": "0"}
    try:
        connection = http.client.HTTPConnection(host, int(port), timeout=WAIT_SECONDS)
        connection.request("GET", "/api/v1/me/", headers=headers)
        response = connection.getresponse()
        response.read()
        results.put(("ready", index, response.status))
        for round_, conversation_id in enumerate(conversation_ids):
            barrier.wait()
            start = time.perf_counter()
            connection.request("POST", f"/api/v1/conversations/{conversation_id}/claim",
                               headers=headers)
            response = connection.getresponse()
            response.read()
            results.put(("claim", index, round_, response.status, start, time.perf_counter()))
    except threading.BrokenBarrierError:
        return  # the parent gave up on this storm (a time limit): nothing to report
    except Exception as error:  # reported to the parent, which prints it
        results.put(("error", index, f"{type(error).__name__}: {error}"))
        barrier.abort()


def setup(prefix: str) -> tuple[list[str], list[int], list[int]]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from datetime import timedelta

    from django.core.management import call_command
    from django.db import connections
    from django.utils import timezone

    from apps.accounts.models import PersonToken, Presence, User, hash_token
    from apps.conversations.models import Conversation, Status
    from apps.conversations.services import receive_inbound_message
    from config.celery import app

    app.conf.task_always_eager = True
    call_command("migrate", verbosity=0)
    # The conversations first (Waiting: the storm's agents are in no team), then the agents.
    conversation_ids = [
        receive_inbound_message(external_id=f"{prefix}-{n}", body="?")[0].pk
        for n in range(ROUNDS)
    ]
    statuses = set(Conversation.objects.filter(pk__in=conversation_ids)
                   .values_list("status", flat=True))
    if statuses != {Status.WAITING}:
        raise RuntimeError(f"the storm's conversations are not all Waiting: {statuses}")
    now = timezone.now()
    users = User.objects.bulk_create(
        User(username=f"{prefix}-agent-{n}", name=f"Storm {n}", presence=Presence.ONLINE,
             last_heartbeat=now, password="!")
        for n in range(CLIENTS)
    )
    raw = [PersonToken.new_token() for _ in users]
    PersonToken.objects.bulk_create(
        PersonToken(user=u, token_hash=hash_token(t), token_prefix=t[:8], created_at=now,
                    expires_at=now + timedelta(days=1))
        for u, t in zip(users, raw, strict=True)
    )
    connections.close_all()
    return raw, conversation_ids, [u.pk for u in users]


def winners_in_database(conversation_ids: list[int], prefix: str) -> int:
    from apps.conversations.models import Conversation, Status

    return Conversation.objects.filter(
        pk__in=conversation_ids, status=Status.ASSIGNED,
        assignee__username__startswith=f"{prefix}-agent-",
    ).count()


def storm(address: str, tokens: list[str], conversation_ids: list[int]) -> dict:
    from benchmarks import common

    context = mp.get_context("spawn")
    barrier = context.Barrier(CLIENTS + 1, timeout=WAIT_SECONDS)
    results = context.Queue()
    processes = [
        context.Process(target=claimer, daemon=True,
                        args=(i, address, token, conversation_ids, barrier, results))
        for i, token in enumerate(tokens)
    ]
    try:
        started = time.perf_counter()
        for process in processes:
            process.start()
        ready = [results.get(timeout=WAIT_SECONDS) for _ in processes]
        errors = [r for r in ready if r[0] == "error" or r[2] != 200]
        if errors:
            raise RuntimeError(f"a client could not start: {errors[0]}")
        print(f"  {CLIENTS} client processes started and connected in "
              f"{time.perf_counter() - started:.1f} s", flush=True)

        rounds = []
        server_before = common.server_cpu_seconds()
        postgres_before = common.postgres_cpu_seconds()
        clients_before = common.process_cpu_seconds(p.pid for p in processes)
        busy_before, total_before = common.machine_busy()
        for round_ in range(len(conversation_ids)):
            barrier.wait()  # the 51st party: the clients fire as this returns
            claims = []
            while len(claims) < CLIENTS:
                result = results.get(timeout=WAIT_SECONDS)
                if result[0] == "error":
                    raise RuntimeError(f"client {result[1]}: {result[2]}")
                claims.append(result)
            assert all(r[2] == round_ for r in claims)
            rounds.append(claims)
            time.sleep(0.3)  # the previous storm's after-commit work settles
        server_cpu = common.server_cpu_seconds() - server_before
        postgres_cpu = common.postgres_cpu_seconds() - postgres_before
        clients_cpu = common.process_cpu_seconds(p.pid for p in processes) - clients_before
        busy_after, total_after = common.machine_busy()
        for process in processes:
            process.join(timeout=WAIT_SECONDS)
    finally:
        barrier.abort()
        for process in processes:
            if process.is_alive():
                process.kill()
                process.join()
    return {"rounds": rounds, "server_cpu": server_cpu, "postgres_cpu": postgres_cpu,
            "clients_cpu": clients_cpu,
            "machine_busy": (busy_after - busy_before) / ((total_after - total_before) or 1)}


def main() -> None:
    if not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        print("claim_storm_http: skipped (set DATABASE_URL and REDIS_URL)")
        return
    from benchmarks import common
    from tests.inbox.servers import server_env, uvicorn

    prefix = f"stormhttp-{uuid.uuid4().hex[:6]}"
    tokens, conversation_ids, _agents = setup(prefix)
    env = server_env(DB_POOL_SIZE="16", CONN_MAX_AGE=None, DEBUG="0", LOG_LEVEL="ERROR")
    print(f"Claim storm over HTTP: {CLIENTS} agents in {CLIENTS} client processes, "
          f"{len(conversation_ids)} rounds, uvicorn --workers {WORKERS} "
          f"(load average before: {common.load_average()})", flush=True)
    with uvicorn(env, extra_args=("--workers", WORKERS, "--no-access-log",
                                  "--timeout-keep-alive", str(WAIT_SECONDS))) as address:
        result = storm(address, tokens, conversation_ids)

    claims, storms, one_winner = [], [], 0
    statuses: dict[int, int] = {}
    for round_claims in result["rounds"]:
        claims += [end - start for *_rest, start, end in round_claims]
        storms.append(max(r[5] for r in round_claims) - min(r[4] for r in round_claims))
        won = sum(r[3] == 200 for r in round_claims)
        one_winner += won == 1
        for r in round_claims:
            statuses[r[3]] = statuses.get(r[3], 0) + 1
    rounds = len(result["rounds"])
    print(f"  each claim (request sent -> answer read, {len(claims)} claims): "
          f"{common.describe_ms(claims)} (target p99 < 100 ms)")
    print(f"  whole storm (first sent -> last answered): {common.describe_ms(storms)}")
    print(f"  exactly one winner in {one_winner} of {rounds} rounds "
          f"(answers: {', '.join(f'{n} x {s}' for s, n in sorted(statuses.items()))}); "
          f"{winners_in_database(conversation_ids, prefix)} of {rounds} conversations "
          f"assigned to a storm agent in the database")
    per_claim = result["server_cpu"] / len(claims) * 1000
    print(f"  uvicorn's CPU (all workers) {result['server_cpu']:.2f} s: {per_claim:.1f} ms "
          f"per claim; PostgreSQL's {result['postgres_cpu']:.2f} s; the client processes' "
          f"{result['clients_cpu']:.2f} s; machine "
          f"{result['machine_busy'] * 100:.0f} % busy during the rounds "
          f"(load average after: {common.load_average()})")
    print(f"  if the server's CPU is the bound: {CLIENTS} x {per_claim:.1f} ms / {WORKERS} "
          f"workers = {CLIENTS * per_claim / int(WORKERS):.0f} ms for the last claim of a "
          f"storm (measured: p50 {common.percentile(storms, 50) * 1000:.0f} ms)")
    rate = CLIENTS / common.percentile(storms, 50)
    tps = float(os.environ.get("BENCH_PGBENCH_TPS") or "nan")
    if tps == tps:
        print(f"  {rate:.0f} claims/s within a storm (median): {rate / tps:.3f} x "
              f"pgbench -N TPS of this run ({tps:.0f})")
    else:
        print(f"  {rate:.0f} claims/s within a storm (median)")
    bare(prefix, env, per_claim, storms)


def bare(prefix: str, env: dict, per_claim: float, storms: list[float]) -> None:
    """The same storm against benchmarks/bare_claim_app.py: the conditional UPDATE alone."""
    import json
    import tempfile

    from benchmarks import common
    from tests.inbox.servers import uvicorn

    tokens, conversation_ids, agents = setup(f"{prefix}-bare")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(dict(zip(tokens, agents, strict=True)), handle)
    try:
        with uvicorn({**env, "BARE_CLAIM_TOKENS": handle.name}, app="benchmarks.bare_claim_app:app",
                     extra_args=("--workers", WORKERS, "--no-access-log",
                                 "--timeout-keep-alive", str(WAIT_SECONDS))) as address:
            result = storm(address, tokens, conversation_ids)
    finally:
        os.unlink(handle.name)
    claims = [end - start for r in result["rounds"] for *_rest, start, end in r]
    bare_storms = [max(r[5] for r in rc) - min(r[4] for r in rc) for rc in result["rounds"]]
    one_winner = sum(sum(r[3] == 200 for r in rc) == 1 for rc in result["rounds"])
    bare_per_claim = result["server_cpu"] / len(claims) * 1000
    print(f"  beside it, a bare endpoint doing the same conditional UPDATE (ASGI, psycopg pool, "
          f"no Django; benchmarks/bare_claim_app.py), same clients: each claim "
          f"{common.describe_ms(claims)}; whole storm {common.describe_ms(bare_storms)}; "
          f"one winner in {one_winner} of {len(result['rounds'])} rounds; uvicorn's CPU "
          f"{bare_per_claim:.2f} ms per claim")
    print(f"  Atende / bare: CPU per claim {per_claim / bare_per_claim:.1f} x, storm p99 "
          f"{common.percentile(storms, 99) / common.percentile(bare_storms, 99):.1f} x")


if __name__ == "__main__":
    from benchmarks.common import STEP_SECONDS, time_limit

    with time_limit(STEP_SECONDS, "claim_storm_http"):
        main()
