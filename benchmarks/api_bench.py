"""`POST /api/v1/inbound` over HTTP against the ASGI server (uvicorn, PostgreSQL + Redis),
32 concurrent clients (in a process of their own that never imports Django): requests per
second and latency, beside pgbench -N TPS of the same
run (BENCH_PGBENCH_TPS, passed by benchmarks/run.py). Prints figures, never asserts.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python benchmarks/api_bench.py
"""

import asyncio
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CLIENTS = int(os.environ.get("BENCH_API_CLIENTS", "32"))
REQUESTS = int(os.environ.get("BENCH_API_REQUESTS", "3000"))
WORKERS = os.environ.get("BENCH_API_WORKERS", str(os.cpu_count() or 2))


def setup() -> tuple[str, int]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from apps.accounts.models import IntegrationClient, Presence, User
    from apps.teams.models import DistributionMode, Membership, Team

    call_command("migrate", verbosity=0)
    team = Team.objects.create(
        name=f"API bench {time.time_ns()}", distribution_mode=DistributionMode.CAPACITY
    )
    agents = User.objects.bulk_create(
        User(username=f"apibench-{team.pk}-{i}", capacity=100_000, presence=Presence.ONLINE)
        for i in range(20)
    )
    Membership.objects.bulk_create(Membership(team=team, agent=a) for a in agents)
    token = IntegrationClient.new_token()
    client = IntegrationClient(name="bench bot")
    client.set_token(token)
    client.save()
    from django.db import connections

    connections.close_all()
    return token, team.pk


async def hammer(address: str, token: str, team_id: int) -> tuple[list[float], int, float]:
    import httpx

    counter = iter(range(REQUESTS))
    latencies: list[float] = []
    failures = 0
    run = time.time_ns()
    headers = {"Authorization": f"Token {token}"}

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal failures
        for n in counter:
            body = {"contact": {"external_id": f"api-{run}-{n}", "name": f"Client {n}"},
                    "body": "Olá, preciso de ajuda", "team": team_id, "channel": "whatsapp"}
            start = time.perf_counter()
            try:
                response = await client.post(f"http://{address}/api/v1/inbound", json=body,
                                             headers=headers)
            except httpx.TransportError as error:  # a dropped connection: count it, go on
                failures += 1
                if failures <= 3:
                    print(f"  {type(error).__name__}: {error}")
                continue
            latencies.append(time.perf_counter() - start)
            if response.status_code != 201:
                failures += 1
                if failures <= 3:
                    print(f"  unexpected {response.status_code}: {response.text[:200]}")

    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        # Warm up every worker's database connection and imports.
        await asyncio.gather(*(client.get(f"http://{address}/api/schema/", headers=headers)
                               for _ in range(CLIENTS)))
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(CLIENTS)))
        elapsed = time.perf_counter() - started
    return latencies, failures, elapsed


def _client_main(address: str, token: str, team_id: int, results) -> None:
    results.put(asyncio.run(hammer(address, token, team_id)))


def in_client_process(address: str, token: str, team_id: int):
    """The clients run in a spawned process that never imports Django (this one did)."""
    import multiprocessing as mp
    import queue

    context = mp.get_context("spawn")
    results = context.Queue()
    process = context.Process(target=_client_main, args=(address, token, team_id, results),
                              daemon=True)
    process.start()
    try:
        while True:
            try:
                return results.get(timeout=5)
            except queue.Empty:
                if not process.is_alive():
                    raise RuntimeError("the client process failed (see above)") from None
    finally:
        process.join(timeout=30)
        if process.is_alive():
            process.kill()


def main() -> None:
    if not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        print("api_bench: skipped (set DATABASE_URL and REDIS_URL)")
        return
    from benchmarks.common import percentile
    from tests.inbox.servers import server_env, uvicorn

    token, team_id = setup()
    env = server_env(DB_POOL_SIZE="16", CONN_MAX_AGE=None, DEBUG="0", LOG_LEVEL="ERROR")
    with uvicorn(env, extra_args=("--workers", WORKERS, "--no-access-log")) as address:
        latencies, failures, elapsed = in_client_process(address, token, team_id)
    ms = [v * 1000 for v in latencies]
    rps = len(latencies) / elapsed
    print(f"POST /api/v1/inbound, {CLIENTS} concurrent clients, uvicorn --workers {WORKERS}, "
          f"{REQUESTS} requests ({failures} not 201):")
    print(f"  {rps:.0f} requests/s, p50 {percentile(ms, 50):.1f} ms, "
          f"p99 {percentile(ms, 99):.1f} ms (aim: 100 requests/s, p99 < 500 ms)")
    tps = float(os.environ.get("BENCH_PGBENCH_TPS") or "nan")
    if tps == tps:
        print(f"  {rps / tps:.2f} x pgbench -N TPS of this run ({tps:.0f}; target 0.08)")


if __name__ == "__main__":
    from benchmarks.common import STEP_SECONDS, time_limit

    with time_limit(STEP_SECONDS, "api_bench"):
        main()
