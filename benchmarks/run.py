"""`make bench`: every benchmark of the project, printing figures (never asserting).

Needs PostgreSQL (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/atende_bench;
the database is dropped and created afresh) and, for the HTTP, websocket, deadline and
webhook parts, Redis (REDIS_URL, default redis://127.0.0.1:6379/9; the deadline part flushes
that database). BENCH_ESTIMATE_SECONDS bounds the replayed day of the wait estimate (default
300); every step stops after BENCH_STEP_SECONDS. The servers and workers it starts run in
production mode with a SECRET_KEY of the benchmarks' own (benchmarks/common.py) unless one is
set.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import common  # noqa: E402

ROUTED = int(os.environ.get("BENCH_CONVERSATIONS", "2000"))
PROCESSES = int(os.environ.get("BENCH_PROCESSES", "4"))


def pgbench(url: str) -> float:
    tps = common.pgbench_tps(url)
    print(f"pgbench -N, 8 clients, 10 s: {tps:.0f} TPS (the yardstick of this machine, now)\n")
    return tps


def routing(tps: float) -> None:
    from benchmarks import routing_bench

    routed = routing_bench.bench_routing(conversations=ROUTED, processes=PROCESSES)
    print(f"Routing {routed['count']} new conversations through the intake service, "
          f"{PROCESSES} processes, into a capacity team of 50 online agents:")
    print(f"  {routed['per_second']:.0f} conversations/s "
          f"({routed['per_second'] / tps:.2f} x pgbench -N TPS; target 0.25)")
    print(f"  latency {common.describe_ms(routed['latencies'])}")
    print(f"  {routed['queries']} SQL statements per routing decision, BEGIN and COMMIT "
          f"included (contact with its open conversation and rule, online members, capacity "
          f"take with rotation touch, contact + conversation + event + message; target 6)\n")


def inbound() -> None:
    """Issue 14: statements per path and the Python per inbound request, in-process."""
    from benchmarks import inbound_bench

    try:
        counts = inbound_bench.statements_per_path()
        cpu = inbound_bench.cpu_per_request()
    finally:
        inbound_bench.restore_settings()
    print("SQL statements per path (CaptureQueriesContext, BEGIN/COMMIT included):")
    for path, count in counts.items():
        print(f"  {path}: {count}")
    print(f"POST /api/v1/inbound in-process (Django test client, whole stack, "
          f"{cpu['requests']} new conversations routed and assigned):")
    print(f"  CPU of this process {cpu['own_cpu_ms']:.1f} ms per request "
          f"(wall {cpu['own_wall_ms']:.1f} ms); with the live inbox flushed inline after "
          f"each commit, as a process with no server loop does: {cpu['cpu_ms']:.1f} ms "
          f"(wall {cpu['wall_ms']:.1f} ms)\n")


def claim_storm() -> None:
    from benchmarks import routing_bench

    storm = routing_bench.bench_claim_storm()
    print("Claim storm in-process, 50 threads calling the service on one conversation at once "
          "(5 rounds; over HTTP from 50 processes: claim_storm_http.py below):")
    print(f"  whole storm {common.describe_ms(storm['storms'])}")
    print(f"  each claim {common.describe_ms(storm['claims'])}; exactly one winner each round\n")


def backlog(tps: float) -> None:
    from benchmarks import routing_bench

    result = routing_bench.bench_backlog()
    print("Backlog of 10,000 conversations in a capacity team, 200 agents coming online:")
    print(f"  {result['assigned']} assigned in {result['seconds']:.2f} s: "
          f"{result['per_second']:.0f} assignments/s "
          f"({result['per_second'] / tps:.2f} x pgbench -N TPS; target 2,000/s)\n")


def time_rules(url: str) -> None:
    """docs/time-rules.md and docs/queue-estimate.md: deadlines on a real worker, the sweep's
    database time, the estimated wait against a replayed day."""
    from benchmarks import deadlines_bench, queue_estimate_bench

    for kind, what in (("reservation", "reservations ending"),
                       ("reply", "first replies not given")):
        late = deadlines_bench.bench_lateness(url=url, kind=kind)
        if "error" in late:
            print(f"Deadlines ({what}): {late['error']}\n", flush=True)
            continue
        print(f"1,000 deadlines due in the same second ({what}), one worker "
              f"(concurrency 1) woken by its countdown:")
        print(f"  {late['acted']} acted on; lateness p50 {late['p50']:.2f} s, "
              f"p95 {late['p95']:.2f} s, max {late['max']:.2f} s (target p95 < 2 s)\n",
              flush=True)

    sweep = deadlines_bench.bench_sweep_cost()
    print(f"One sweep of the time rules over {sweep['open']:,} open conversations, "
          f"{sweep['due']} due ("
          + ", ".join(f"{n} {kind}" for kind, n in sweep["moved"].items()) + "):")
    print(f"  finding the due rows and the next deadlines: {sweep['find_ms']:.1f} ms of "
          f"database time in {sweep['find_queries']} queries (EXPLAIN ANALYZE; slowest "
          f"{sweep['find_max_ms']:.1f} ms; target < 50 ms)")
    print(f"  acting on them: {sweep['act_select_ms']:.1f} ms of reads "
          f"({sweep['act_select_queries']} queries, EXPLAIN ANALYZE) and "
          f"{sweep['write_ms']:.0f} ms of writes ({sweep['write_queries']} statements, "
          f"round trip); wall {sweep['wall_seconds']:.2f} s\n", flush=True)

    limit = float(os.environ.get("BENCH_ESTIMATE_SECONDS", "300"))
    day = queue_estimate_bench.bench_estimate(time_limit=limit)
    print(f"Estimated wait against a replayed day ({day['arrived']} arrivals, "
          f"{day['queued']} queued, {day['seconds']:.0f} s"
          f"{', cut short by the time limit' if day['truncated'] else ''}):")
    print(f"  absolute error median {day['median_error']:.0f} s, p90 {day['p90_error']:.0f} s "
          f"(waits: median {day['median_wait']:.0f} s, p90 {day['p90_wait']:.0f} s)")
    print(f"  position x default handle time / slots alone: median "
          f"{day['baseline_median_error']:.0f} s, p90 {day['baseline_p90_error']:.0f} s; "
          f"recent pace alone: {day['pace_only_median_error']:.0f} s / "
          f"{day['pace_only_p90_error']:.0f} s; slots over recent handle time alone: "
          f"{day['handle_only_median_error']:.0f} s / {day['handle_only_p90_error']:.0f} s\n",
          flush=True)


def floor() -> None:
    from benchmarks import floor_bench

    result = floor_bench.bench_floor()
    print(f"GET stats/teams over {result['teams']} teams, {result['open']:,} open "
          f"conversations, 3,000 assignments in the last hour, a day of snapshots:")
    print(f"  {common.describe_ms(result['times'])}; {result['queries']} queries per answer\n")


def main() -> int:
    url = common.database_url()
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")
    limit = common.STEP_SECONDS
    print(f"Atende benchmarks on {url} ({os.cpu_count()} cores; each step stops after "
          f"{limit} s: BENCH_STEP_SECONDS)\n", flush=True)
    not_measured = []

    def step(what, body, *args):
        """One step under the time limit: one that fails or overruns is reported, and the
        next one runs."""
        try:
            with common.time_limit(limit, what):
                result = body(*args)
        except (Exception, common.StepTimeout) as error:
            not_measured.append(what)
            print(f"{what}: FAILED: {error}\n", flush=True)
            return None
        sys.stdout.flush()
        return result

    tps = step("pgbench", pgbench, url) or float("nan")
    with common.time_limit(limit, "fresh database"):
        common.fresh_database(url)
        common.setup_django(url)
    step("routing", routing, tps)
    step("inbound in-process", inbound)
    step("claim storm", claim_storm)
    step("backlog", backlog, tps)
    step("time rules", time_rules, url)
    step("floor", floor)

    from django.db import connections

    connections.close_all()
    for script in ("api_bench.py", "claim_storm_http.py", "ws_fanout.py", "push_floor.py",
                   "webhook_bench.py", "metrics_bench.py", "reports_bench.py", "webchat_bench.py",
                   "simulation_bench.py"):
        path = Path(__file__).with_name(script)
        env = {**os.environ, "DATABASE_URL": url, "BENCH_DATABASE_URL": url,
               "BENCH_WEBHOOK_KEEP_DB": "1", "BENCH_PGBENCH_TPS": f"{tps:.0f}"}
        # The reports' benchmark seeds two million conversations first: three steps' time.
        # The floor opens 1,000 then 5,000 sockets, each run beside the bare server: two.
        seconds = {"reports_bench.py": limit * 3, "push_floor.py": limit * 2}.get(script, limit)
        if common.run_script([sys.executable, str(path)], env=env, seconds=seconds) != 0:
            not_measured.append(script)
    if not_measured:
        print(f"Not measured: {', '.join(not_measured)}", flush=True)
    return 1 if not_measured else 0


if __name__ == "__main__":
    sys.exit(main())
