"""`make bench`: every benchmark of the project, printing figures (never asserting).

Needs PostgreSQL (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/atende_bench;
the database is dropped and created afresh) and, for the HTTP and websocket parts, Redis
(REDIS_URL, default redis://127.0.0.1:6379/9).
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import common  # noqa: E402

ROUTED = int(os.environ.get("BENCH_CONVERSATIONS", "2000"))
PROCESSES = int(os.environ.get("BENCH_PROCESSES", "4"))


def main() -> None:
    url = common.database_url()
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")
    print(f"Atende benchmarks on {url} ({os.cpu_count()} cores)\n", flush=True)

    tps = common.pgbench_tps(url)
    print(f"pgbench -N, 8 clients, 10 s: {tps:.0f} TPS (the yardstick of this machine, now)\n",
          flush=True)

    common.fresh_database(url)
    common.setup_django(url)
    from benchmarks import routing_bench

    routed = routing_bench.bench_routing(conversations=ROUTED, processes=PROCESSES)
    print(f"Routing {routed['count']} new conversations through the intake service, "
          f"{PROCESSES} processes, into a capacity team of 50 online agents:")
    print(f"  {routed['per_second']:.0f} conversations/s "
          f"({routed['per_second'] / tps:.2f} x pgbench -N TPS; target 0.25)")
    print(f"  latency {common.describe_ms(routed['latencies'])}")
    print(f"  {routed['queries']} SQL queries per routing decision "
          f"(contact, conversation, rule, team, agent load, event, message)\n", flush=True)

    storm = routing_bench.bench_claim_storm()
    print("Claim storm, 50 agents clicking ATENDER on one conversation at once (5 rounds):")
    print(f"  whole storm {common.describe_ms(storm['storms'])}")
    print(f"  each claim {common.describe_ms(storm['claims'])}; exactly one winner each round\n",
          flush=True)

    backlog = routing_bench.bench_backlog()
    print("Backlog of 10,000 conversations in a capacity team, 200 agents coming online:")
    print(f"  {backlog['assigned']} assigned in {backlog['seconds']:.2f} s: "
          f"{backlog['per_second']:.0f} assignments/s (target 2,000)\n", flush=True)

    from django.db import connections

    connections.close_all()
    for script in ("api_bench.py", "ws_fanout.py"):
        path = Path(__file__).with_name(script)
        if path.exists():
            env = {**os.environ, "DATABASE_URL": url, "BENCH_PGBENCH_TPS": f"{tps:.0f}"}
            subprocess.run([sys.executable, str(path)], env=env, check=False)

    # Outbound webhooks: one worker to a local receiver (its own time limit inside, and a
    # hard one here so that `make bench` can never hang on it).
    env = {**os.environ, "BENCH_DATABASE_URL": url, "BENCH_WEBHOOK_KEEP_DB": "1"}
    bench = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("webhook_bench.py"))], env=env,
        start_new_session=True,  # its worker and receiver go with it if it must be stopped
    )
    try:
        bench.wait(timeout=600)
    except subprocess.TimeoutExpired:
        print("webhook benchmark: stopped after 600 s")
        os.killpg(bench.pid, signal.SIGTERM)
        try:
            bench.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(bench.pid, signal.SIGKILL)
            bench.wait()


if __name__ == "__main__":
    main()
