"""`make bench` on a fresh machine (issue 18 item 9): the benchmarks set the database and
Redis themselves (production mode), so they bring a SECRET_KEY of their own for the
servers and workers they start, and print figures that make sense. The webhook benchmark,
run alone with small sizes and no SECRET_KEY in the environment, stands for the others."""

import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

from tests.inbox.servers import ROOT
from tests.inbox.test_server_faults import private_redis


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_webhook_bench_runs_without_a_secret_key_and_prints_a_positive_rate():
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL: production mode (CI sets it)")
    db = connection.settings_dict
    url = (f"postgres://{db['USER']}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
           f"/{db['NAME']}_webhook_bench")
    with private_redis() as (redis_url, _process):  # its worker hears no other test's tasks
        output, code = run_bench(url, redis_url, db)
    assert "Traceback" not in output, output
    assert code == 0, output
    burst = re.search(r"burst of 60 replies .*: (-?\d+) events delivered/s", output)
    assert burst is not None, output
    assert int(burst.group(1)) > 0, output


def run_bench(url: str, redis_url: str, db: dict) -> tuple[str, int]:
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "PYTHONUNBUFFERED": "1",
        "BENCH_DATABASE_URL": url, "REDIS_URL": redis_url,
        "BENCH_WEBHOOK_BURST": "60", "BENCH_WEBHOOK_STEADY_SECONDS": "1",
        "BENCH_WEBHOOK_RATE": "20", "BENCH_WEBHOOK_SECONDS": "90",
    }
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    try:
        done = subprocess.run(
            [sys.executable, "benchmarks/webhook_bench.py"], cwd=ROOT, env=env,
            capture_output=True, text=True, timeout=240,
        )
    finally:
        subprocess.run(
            ["dropdb", "--if-exists", "--force", "-h", db.get("HOST") or "127.0.0.1",
             "-p", str(db.get("PORT") or 5432), "-U", db["USER"], f"{db['NAME']}_webhook_bench"],
            env=env, capture_output=True, timeout=60,
        )
    return done.stdout + done.stderr, done.returncode
