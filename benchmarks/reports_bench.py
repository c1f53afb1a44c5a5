"""Reports over a long history (issue 20): the time of a month's teams report for 20 teams
over 1,000,000 conversations, then over 2,000,000 (the second million added as older
history, so the month asked holds the same rows), asked over HTTP by a client process that
never imports Django, against uvicorn on PostgreSQL; beside pgbench -N of the same run.
Prints figures, never asserts.

    BENCH_DATABASE_URL=postgres://... python benchmarks/reports_bench.py

BENCH_REPORT_CONVERSATIONS (default 1,000,000) is each step's size and BENCH_REPORT_DAYS
(default 200) the days it spans; the database ``<name>_reports`` is made afresh.
"""

import json
import os
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import common  # noqa: E402

CONVERSATIONS = int(os.environ.get("BENCH_REPORT_CONVERSATIONS", "1000000"))
DAYS = int(os.environ.get("BENCH_REPORT_DAYS", "200"))
TEAMS = 20
AGENTS = 200
REQUESTS = int(os.environ.get("BENCH_REPORT_REQUESTS", "20"))
AGENT_REQUESTS = int(os.environ.get("BENCH_REPORT_AGENT_REQUESTS", "5"))


def database() -> str:
    parsed = urlparse(common.database_url())
    return urlunparse(parsed._replace(path=parsed.path.rstrip("/") + "_reports"))


def seed(url: str, *, before: date, seed_number: int) -> float:
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "manage.py", "seed_history", f"--conversations={CONVERSATIONS}",
         f"--days={DAYS}", f"--teams={TEAMS}", f"--agents={AGENTS}", f"--seed={seed_number}",
         f"--before={before.isoformat()}", "--analyze"],
        cwd=ROOT, env={**os.environ, "DATABASE_URL": url, "REDIS_URL": ""}, check=True,
    )
    return time.monotonic() - started


def token(url: str) -> str:
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)
    common.setup_django(url)
    from django.db import connections

    from apps.accounts.models import Role, User
    from apps.accounts.services import issue_person_token

    boss, _ = User.objects.get_or_create(username="bench-supervisor",
                                         defaults={"role": Role.SUPERVISOR})
    raw = issue_person_token(user=boss)
    connections.close_all()
    return raw


def measure(address: str, raw: str, path: str, requests: int = REQUESTS) -> dict:
    out = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("reports_client.py")),
         f"http://{address}", raw, path, str(requests)],
        capture_output=True, text=True, timeout=common.STEP_SECONDS,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def describe(result: dict) -> str:
    if "error" in result:
        return f"error {result['error']}"
    ms = [t * 1000 for t in result["times"]]
    return (f"p50 {common.percentile(ms, 50):.0f} ms, p95 {common.percentile(ms, 95):.0f} ms, "
            f"max {max(ms):.0f} ms ({len(ms)} requests, {result['rows']} rows)")


def main() -> None:
    url = database()
    common.fresh_database(url)
    tps = float(os.environ.get("BENCH_PGBENCH_TPS") or "nan")
    if tps != tps:
        tps = common.pgbench_tps(url)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True,
                   env={**os.environ, "DATABASE_URL": url, "REDIS_URL": ""})
    today = date.today()
    month = (today - timedelta(days=30), today - timedelta(days=1))
    path = (f"/api/v1/reports/teams?from={month[0].isoformat()}&to={month[1].isoformat()}"
            "&group=day")
    agents_path = path.replace("/reports/teams?", "/reports/agents?")
    first = seed(url, before=today + timedelta(days=1), seed_number=1)
    raw = token(url)
    from tests.inbox.servers import server_env, uvicorn

    env = server_env(DATABASE_URL=url, REDIS_URL=None, DEBUG="0", LOG_LEVEL="ERROR",
                     CONN_MAX_AGE="60")
    print(f"Reports: a month's teams report ({month[0]} to {month[1]}, {TEAMS} teams, by "
          f"day) over HTTP from a client process, uvicorn on PostgreSQL; pgbench -N "
          f"{tps:.0f} TPS; load average {common.load_average()}", flush=True)
    print(f"  seeding {CONVERSATIONS:,} conversations over {DAYS} days: {first:.0f} s",
          flush=True)
    with uvicorn(env, extra_args=("--no-access-log",)) as address:
        one = measure(address, raw, path)
        one_agents = measure(address, raw, agents_path, AGENT_REQUESTS)
    print(f"  over {CONVERSATIONS:,} conversations: {describe(one)} (target p95 < 1 s)",
          flush=True)
    print(f"  the agents report, same month, every agent: {describe(one_agents)}", flush=True)
    second = seed(url, before=today + timedelta(days=1) - timedelta(days=DAYS),
                  seed_number=2)
    print(f"  seeding {CONVERSATIONS:,} older conversations on top: {second:.0f} s",
          flush=True)
    with uvicorn(env, extra_args=("--no-access-log",)) as address:
        two = measure(address, raw, path)
        two_agents = measure(address, raw, agents_path, AGENT_REQUESTS)
    print(f"  over {2 * CONVERSATIONS:,} conversations: {describe(two)}", flush=True)
    print(f"  the agents report, same month, every agent: {describe(two_agents)}", flush=True)
    if "times" in one and "times" in two:
        ratio = common.percentile(two["times"], 95) / common.percentile(one["times"], 95)
        print(f"  p95 at twice the history: {ratio:.2f} x (target at most 1.20 x); load "
              f"average {common.load_average()}", flush=True)


if __name__ == "__main__":
    with common.time_limit(common.STEP_SECONDS * 3, "reports_bench"):
        main()
