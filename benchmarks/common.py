"""Shared set-up for the benchmarks: a fresh PostgreSQL database, Django, pgbench, and the
time limits that keep any step from hanging `make bench`."""

import contextlib
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/atende_bench"
# Seconds any one benchmark step may take before it is stopped (BENCH_STEP_SECONDS).
STEP_SECONDS = int(os.environ.get("BENCH_STEP_SECONDS", "600"))
COMMAND_SECONDS = 120  # one dropdb, createdb or pgbench run

# The benchmarks set DATABASE_URL and REDIS_URL themselves (production mode), which refuses
# to start without a SECRET_KEY: one of their own for every process they start (a key for
# throwaway databases only; a SECRET_KEY in the environment is kept).
os.environ.setdefault("SECRET_KEY", "benchmarks-only-" + secrets.token_urlsafe(40))


class StepTimeout(BaseException):
    """Not an Exception: the code under measurement (an announcement subscriber, a retry
    loop) must not catch and swallow it."""


@contextlib.contextmanager
def time_limit(seconds: int, what: str):
    """Raise StepTimeout in the main thread once ``seconds`` have passed (SIGALRM): a
    blocked wait (a queue, a join, a socket) cannot outlast it."""

    def expired(signum, frame):
        raise StepTimeout(f"{what}: stopped after {seconds} s (time limit)")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run_script(args: list[str], *, env: dict, seconds: int) -> int:
    """Run a benchmark script in a session of its own; past ``seconds`` kill it with
    everything it started (its uvicorn servers too). Returns the exit code."""
    process = subprocess.Popen(args, env=env, start_new_session=True)
    try:
        return process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        print(f"  {Path(args[-1]).name}: stopped after {seconds} s (time limit)", flush=True)
        return -1
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def database_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL


def _pg_args(url: str) -> list[str]:
    parsed = urlparse(url)
    return ["-h", parsed.hostname or "127.0.0.1", "-p", str(parsed.port or 5432),
            "-U", parsed.username or "postgres"]


def fresh_database(url: str) -> None:
    name = urlparse(url).path.lstrip("/")
    subprocess.run(["dropdb", "--if-exists", "--force", *_pg_args(url), name], check=True,
                   timeout=COMMAND_SECONDS)
    subprocess.run(["createdb", *_pg_args(url), name], check=True, timeout=COMMAND_SECONDS)


def setup_django(url: str) -> None:
    """Point Django at the benchmark database (migrated) with eager Celery tasks."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from config.celery import app

    app.conf.task_always_eager = True
    call_command("migrate", verbosity=0)


def pgbench_tps(url: str, *, seconds: int = 10, clients: int = 8) -> float:
    """pgbench -N (simple updates, no branch/teller contention) on this machine, now."""
    name = urlparse(url).path.lstrip("/") + "_pgbench"
    args = _pg_args(url)
    limit = COMMAND_SECONDS
    subprocess.run(["dropdb", "--if-exists", "--force", *args, name], check=True, timeout=limit)
    subprocess.run(["createdb", *args, name], check=True, timeout=limit)
    subprocess.run(["pgbench", "-i", "-q", "-s", "10", *args, name], check=True,
                   capture_output=True, timeout=limit)
    out = subprocess.run(
        ["pgbench", "-N", "-c", str(clients), "-j", "2", "-T", str(seconds), *args, name],
        check=True, capture_output=True, text=True, timeout=seconds + limit,
    ).stdout
    subprocess.run(["dropdb", "--if-exists", "--force", *args, name], check=True, timeout=limit)
    match = re.search(r"tps = ([0-9.]+)", out)
    return float(match.group(1)) if match else float("nan")


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def describe_ms(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (f"p50 {percentile(ms, 50):.1f} ms, p99 {percentile(ms, 99):.1f} ms, "
            f"mean {statistics.fmean(ms):.1f} ms")


# ---------------------------------------------------------------- CPU of processes (/proc)

def _proc_table() -> dict[int, tuple[int, float, str]]:
    """pid -> (parent pid, CPU seconds so far, command line) of every readable process."""
    tick = os.sysconf("SC_CLK_TCK")
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
        table[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick, cmdline)
    return table


def server_cpu_seconds(root: int | None = None, marker: str = "uvicorn") -> float:
    """CPU seconds used so far by the server this process started: the first descendant
    of ``root`` (default: this process) whose command line names ``marker``, with all of its
    own descendants (uvicorn's workers are spawned children with another command line)."""
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _cpu, _cmd) in table.items():
        children.setdefault(ppid, []).append(pid)

    def descendants(pid):
        for child in children.get(pid, []):
            yield child
            yield from descendants(child)

    top = next((pid for pid in descendants(root or os.getpid()) if marker in table[pid][2]),
               None)
    if top is None:
        return float("nan")
    return table[top][1] + sum(table[pid][1] for pid in descendants(top))


def postgres_cpu_seconds() -> float:
    """CPU seconds of every PostgreSQL process on the machine (other sessions' too)."""
    return sum(cpu for _ppid, cpu, cmd in _proc_table().values() if cmd.startswith("postgres"))


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    tick = os.sysconf("SC_CLK_TCK")
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values) - idle) / tick, sum(values) / tick


def load_average() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def process_cpu_seconds(pids) -> float:
    """CPU seconds used so far by the given processes (those still running)."""
    table = _proc_table()
    return sum(table[pid][1] for pid in pids if pid in table)
