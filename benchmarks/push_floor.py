"""The live push at the size of a floor (issue 23), measured from outside, beside a yardstick.

Atende: uvicorn (BENCH_FLOOR_WORKERS, default 2 workers; PostgreSQL, Redis) and a manual
team whose agents hold BENCH_FLOOR_SOCKETS inbox sockets (10 tabs per agent), opened from
BENCH_FLOOR_PROCESSES client processes that never import Django (``websockets``). A poster
process (no Django either, ``http.client``) sends ``POST /api/v1/inbound`` into the team at
BENCH_FLOOR_RATE new conversations a second for BENCH_FLOOR_SECONDS. Nobody claims, so the
team's queued count goes up by one per arrival: the lag of arrival k at a socket is from
the moment the poster sent the k-th request to the moment that socket first got a
``queue.counts`` whose team count reached k (so a socket that skips a count, because two
arrivals went out in one flush, still has a lag for each).

The yardstick: a bare broadcast server (plain asyncio ``websockets``, no Django, no
database, no Redis) that holds the same number of sockets from the same client processes
and, at the same rate, sends each of them the same two frames Atende sent for an arrival
(the ``conversation.updated`` and the ``queue.counts`` captured from Atende's run) with
``websockets.broadcast``: what Python websockets cost on this machine.

Prints lag p50/p95/p99, how many sockets reached the final count, the server's CPU per
socket per change, the bare server's, and their ratio; never asserts.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python benchmarks/push_floor.py

BENCH_FLOOR_RUNS picks the runs, "sockets:rate" pairs (default "1000:10,5000:5").
"""

import asyncio
import json
import multiprocessing as mp
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RUNS = os.environ.get("BENCH_FLOOR_RUNS", "1000:10,5000:5")
SECONDS = float(os.environ.get("BENCH_FLOOR_SECONDS", "20"))
PROCESSES = int(os.environ.get("BENCH_FLOOR_PROCESSES", "4"))
WORKERS = os.environ.get("BENCH_FLOOR_WORKERS", "2")
TABS = 10  # sockets per agent
POSTERS = 8  # concurrent connections of the poster (arrivals are sent on schedule)
CONNECT_SECONDS = 300
SETTLE_SECONDS = 30  # after the last arrival, the most a client waits for the final count
WAIT_SECONDS = 600  # a child with no word from the parent for this long stops
COMPRESSION = os.environ.get("BENCH_FLOOR_DEFLATE", "0") == "1"


def percentile(values, pct):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


# ------------------------------------------------------------ the clients (no Django here)

def client_process(index, url_of, tokens, team_id, commands, results) -> None:
    try:
        asyncio.run(_client_main(index, url_of, tokens, team_id, commands, results))
    except Exception as error:
        results.put(("error", index, f"{type(error).__name__}: {error}"))


async def _client_main(index, url_of, tokens, team_id, commands, results) -> None:
    import queue as queues

    from websockets.asyncio.client import connect

    gate = asyncio.Semaphore(16)
    sockets = []
    # socket -> {count: first moment the socket saw the team at this count or more}
    reached: list[dict[int, float]] = []
    last: list[int] = []
    samples: dict[str, str] = {}

    def team_count(event) -> int | None:
        teams = event.get("counts", {}).get("teams")
        if teams is None:  # the bare server's frames carry the same object
            return None
        for team in teams:
            if team["id"] == team_id:
                return team["queued"]
        return None

    async def open_one(token):
        async with gate:
            ws = await connect(url_of(token), open_timeout=120, max_queue=None,
                               compression="deflate" if COMPRESSION else None,
                               ping_interval=None)
            first = json.loads(await ws.recv())
            sockets.append(ws)
            reached.append({})
            last.append(team_count(first) or 0)

    async def read(number, ws):
        async for raw in ws:
            at = time.monotonic()
            if '"queue.counts"' not in raw:
                if "conversation.updated" not in samples and '"conversation.updated"' in raw:
                    samples["conversation.updated"] = raw
                continue
            count = team_count(json.loads(raw))
            if count is None or count <= last[number]:
                continue
            samples.setdefault("queue.counts", raw)
            seen = reached[number]
            for value in range(last[number] + 1, count + 1):
                seen[value] = at
            last[number] = count

    await asyncio.gather(*(open_one(t) for t in tokens))
    readers = [asyncio.create_task(read(n, ws)) for n, ws in enumerate(sockets)]
    results.put(("ready", index, len(sockets), os.getpid(), min(last) if last else 0))
    loop = asyncio.get_running_loop()
    try:
        while True:
            try:
                command = await loop.run_in_executor(None, commands.get, True, WAIT_SECONDS)
            except queues.Empty:
                return
            if command[0] == "stop":
                return
            final, deadline = command[1], time.monotonic() + SETTLE_SECONDS
            while min(last) < final and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            results.put(("done", index, reached, last, samples))
            reached = [{} for _ in sockets]
    finally:
        for task in readers:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


def poster_process(address, token, team_id, rate, seconds, results) -> None:
    """Sends the arrivals on schedule (k / rate after the start), from POSTERS threads."""
    import http.client
    import threading

    run = uuid.uuid4().hex[:8]
    total = int(rate * seconds)
    sent = [0.0] * (total + 1)
    statuses: list[int] = []
    latencies: list[float] = []
    lock = threading.Lock()
    start = time.monotonic() + 0.5
    counter = iter(range(1, total + 1))

    def worker():
        host, port = address.split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        for k in counter:
            due = start + (k - 1) / rate
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            body = json.dumps({"contact": {"external_id": f"floor-{run}-{k}"},
                               "body": "Oi", "team": team_id, "channel": "whatsapp"})
            at = time.monotonic()
            try:
                conn.request("POST", "/api/v1/inbound", body=body, headers={
                    "Authorization": f"Token {token}", "Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                status = response.status
            except OSError:
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=60)
                status = 0
            with lock:
                sent[k] = at
                statuses.append(status)
                latencies.append(time.monotonic() - at)

    threads = [threading.Thread(target=worker) for _ in range(POSTERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put(("posted", sent, statuses, latencies))


def bare_server(port, frames, rate, seconds, commands, results) -> None:
    """The yardstick: plain asyncio websockets, no Django."""
    asyncio.run(_bare_main(port, frames, rate, seconds, commands, results))


async def _bare_main(port, frames, rate, seconds, commands, results):
    import queue as queues

    from websockets.asyncio.server import broadcast, serve

    connections = set()
    counts_event = json.loads(frames["queue.counts"])
    team = next(t for t in counts_event["counts"]["teams"])
    team_key = team["id"]

    def counts_frame(value: int) -> str:
        for t in counts_event["counts"]["teams"]:
            if t["id"] == team_key:
                t["queued"] = value
        return json.dumps(counts_event)

    async def handler(ws):
        connections.add(ws)
        await ws.send(counts_frame(0))
        try:
            await ws.wait_closed()
        finally:
            connections.discard(ws)

    loop = asyncio.get_running_loop()
    async with serve(handler, "127.0.0.1", port, compression="deflate" if COMPRESSION else None,
                     ping_interval=None, max_queue=None):
        results.put(("listening", os.getpid()))
        command = await loop.run_in_executor(None, commands.get, True, WAIT_SECONDS)
        if command[0] != "go":
            return
        total = int(rate * seconds)
        sent = [0.0] * (total + 1)
        start = time.monotonic() + 0.5
        cpu_before = time.process_time()
        for k in range(1, total + 1):
            pause = start + (k - 1) / rate - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            sent[k] = time.monotonic()
            # Each frame is built once and written to every socket, as Atende's hub does.
            broadcast(connections, frames["conversation.updated"])
            broadcast(connections, counts_frame(k))
        cpu = time.process_time() - cpu_before
        results.put(("posted", sent, cpu))
        try:
            await loop.run_in_executor(None, commands.get, True, WAIT_SECONDS)
        except queues.Empty:
            pass


# ------------------------------------------------------------------------- the parent

def setup(sockets: int):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from apps.accounts.models import IntegrationClient, PersonToken, Presence, User, hash_token
    from apps.teams.models import DistributionMode, Membership, Team

    call_command("migrate", verbosity=0)
    prefix = f"floor-{uuid.uuid4().hex[:6]}"
    now = timezone.now()
    agents = User.objects.bulk_create(
        User(username=f"{prefix}-{n}", name=f"Agent {n}", presence=Presence.ONLINE,
             last_heartbeat=now, password="!")
        for n in range(max(1, sockets // TABS))
    )
    team = Team.objects.create(name=f"{prefix} team", distribution_mode=DistributionMode.MANUAL)
    Membership.objects.bulk_create(Membership(team=team, agent=a) for a in agents)
    raw = {a.pk: PersonToken.new_token() for a in agents}
    PersonToken.objects.bulk_create(
        PersonToken(user=a, token_hash=hash_token(raw[a.pk]), token_prefix=raw[a.pk][:8],
                    created_at=now, expires_at=now + timedelta(days=1))
        for a in agents
    )
    tokens = [raw[agents[n % len(agents)].pk] for n in range(sockets)]
    integration = IntegrationClient.new_token()
    client = IntegrationClient(name=f"{prefix} bot")
    client.set_token(integration)
    client.save()
    from django.db import connections

    connections.close_all()
    return team.pk, tokens, integration


class _Urls:
    """Picklable ``token -> url`` (spawned children get it)."""

    def __init__(self, template):
        self.template = template

    def __call__(self, token):
        return self.template.format(token=token)


def start_clients(context, urls, tokens, team_id, results):
    clients = []
    for index in range(PROCESSES):
        commands = context.Queue()
        process = context.Process(target=client_process, daemon=True, args=(
            index, urls, tokens[index::PROCESSES], team_id, commands, results))
        process.start()
        clients.append((process, commands))
    pids, base = [], None
    for _ in clients:
        message = results.get(timeout=CONNECT_SECONDS)
        if message[0] == "error":
            raise RuntimeError(f"client process {message[1]}: {message[2]}")
        pids.append(message[3])
        base = message[4] if base is None else min(base, message[4])
    return clients, pids, base or 0


def collect(clients, results, final):
    for _process, commands in clients:
        commands.put(("wait", final))
    reached, last, samples = [], [], {}
    for _ in clients:
        message = results.get(timeout=SETTLE_SECONDS + 60)
        if message[0] == "error":
            raise RuntimeError(f"client process {message[1]}: {message[2]}")
        reached += message[2]
        last += message[3]
        samples.update(message[4])
    return reached, last, samples


def stop(clients):
    for _process, commands in clients:
        commands.put(("stop",))
    for process, _commands in clients:
        process.join(timeout=30)
        if process.is_alive():
            process.kill()
            process.join()


def lags(reached, sent, base):
    values = []
    for seen in reached:
        for k in range(1, len(sent)):
            at = seen.get(base + k)
            if at is not None and sent[k]:
                values.append((at - sent[k]) * 1000)
    return values


def measure_atende(context, sockets, rate, team_id, tokens, integration):
    from benchmarks import common
    from tests.inbox.servers import server_env, uvicorn

    env = server_env(DB_POOL_SIZE="16", CONN_MAX_AGE=None, DEBUG="0", LOG_LEVEL="ERROR")
    args = ["--workers", WORKERS, "--no-access-log"]
    if not COMPRESSION:
        args += ["--ws-per-message-deflate", "false"]
    results = context.Queue()
    with uvicorn(env, extra_args=tuple(args), cwd=os.environ.get("BENCH_SERVER_ROOT")) as address:
        started = time.monotonic()
        clients, pids, base = start_clients(context, _Urls(f"ws://{address}/ws/inbox/?token={{token}}"),
                                            tokens, team_id, results)
        try:
            print(f"  {sockets} sockets open from {PROCESSES} processes in "
                  f"{time.monotonic() - started:.0f} s; team count {base} at the start",
                  flush=True)
            time.sleep(2)
            server_before = common.server_cpu_seconds()
            clients_before = common.process_cpu_seconds(pids)
            busy_before, total_before = common.machine_busy()
            poster = context.Process(target=poster_process, daemon=True, args=(
                address, integration, team_id, rate, SECONDS, results))
            poster.start()
            message = results.get(timeout=SECONDS * 4 + 120)
            _kind, sent, statuses, post_latencies = message
            reached, last, samples = collect(clients, results, base + len(sent) - 1)
            server_cpu = common.server_cpu_seconds() - server_before
            clients_cpu = common.process_cpu_seconds(pids) - clients_before
            busy_after, total_after = common.machine_busy()
            poster.join(timeout=10)
        finally:
            stop(clients)
    arrivals = len(sent) - 1
    return {
        "lags": lags(reached, sent, base), "final": sum(1 for v in last if v >= base + arrivals),
        "arrivals": arrivals, "created": sum(1 for s in statuses if s == 201),
        "server_cpu": server_cpu, "clients_cpu": clients_cpu, "samples": samples,
        "busy": (busy_after - busy_before) / ((total_after - total_before) or 1),
        "post_p99": percentile([v * 1000 for v in post_latencies], 99),
    }


def measure_bare(context, sockets, rate, samples):
    from benchmarks import common
    from tests.inbox.servers import free_port

    port = free_port()
    results, commands = context.Queue(), context.Queue()
    frames = {"conversation.updated": samples["conversation.updated"],
              "queue.counts": samples["queue.counts"]}
    team_id = next(iter(json.loads(frames["queue.counts"])["counts"]["teams"]))["id"]
    server = context.Process(target=bare_server, daemon=True,
                             args=(port, frames, rate, SECONDS, commands, results))
    server.start()
    try:
        message = results.get(timeout=60)
        server_pid = message[1]
        clients, pids, base = start_clients(
            context, _Urls(f"ws://127.0.0.1:{port}/?{{token}}"),
            [str(n) for n in range(sockets)], team_id, results)
        try:
            time.sleep(2)
            server_before = common.process_cpu_seconds([server_pid])
            commands.put(("go",))
            _kind, sent, _cpu = results.get(timeout=SECONDS * 4 + 120)
            server_cpu = common.process_cpu_seconds([server_pid]) - server_before
            reached, last, _samples = collect(clients, results, base + len(sent) - 1)
        finally:
            stop(clients)
    finally:
        commands.put(("stop",))
        server.join(timeout=10)
        if server.is_alive():
            server.kill()
    arrivals = len(sent) - 1
    return {"lags": lags(reached, sent, base), "arrivals": arrivals, "server_cpu": server_cpu,
            "final": sum(1 for v in last if v >= base + arrivals)}


def describe(values):
    return (f"p50 {percentile(values, 50):.0f} ms, p95 {percentile(values, 95):.0f} ms, "
            f"p99 {percentile(values, 99):.0f} ms")


def main():
    if not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        print("push_floor: skipped (set DATABASE_URL and REDIS_URL)")
        return
    import resource

    from benchmarks import common

    runs = [tuple(int(x) for x in run.split(":")) for run in RUNS.split(",") if run]
    most = max(s for s, _r in runs)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * most + 256)), hard))
    context = mp.get_context("spawn")
    for sockets, rate in runs:
        team_id, tokens, integration = setup(sockets)
        goal = 250 if sockets <= 1000 else 500
        print(f"The live push, {sockets} inbox sockets on one manual team ({sockets // TABS} "
              f"agents x {TABS} tabs), {rate} arrivals/s for {SECONDS:.0f} s, uvicorn "
              f"--workers {WORKERS}, per-message deflate {'on' if COMPRESSION else 'off'} "
              f"(load average before: {common.load_average()})", flush=True)
        atende = measure_atende(context, sockets, rate, team_id, tokens, integration)
        per_atende = atende["server_cpu"] / (sockets * atende["arrivals"]) * 1e6
        print(f"  Atende: POST inbound -> queue.counts at each socket over "
              f"{len(atende['lags'])} deliveries: {describe(atende['lags'])} "
              f"(target p95 < {goal} ms)")
        print(f"  {atende['final']}/{sockets} sockets reached the final count; "
              f"{atende['created']}/{atende['arrivals']} arrivals answered 201 "
              f"(POST p99 {atende['post_p99']:.0f} ms)")
        print(f"  server CPU (all workers) {atende['server_cpu']:.2f} s: "
              f"{per_atende:.1f} us per socket per change; client processes "
              f"{atende['clients_cpu']:.2f} s; machine {atende['busy'] * 100:.0f} % busy")
        if "queue.counts" not in atende["samples"] or (
                "conversation.updated" not in atende["samples"]):
            print("  bare broadcast server: not measured (no frames captured from Atende)\n")
            continue
        bare = measure_bare(context, sockets, rate, atende["samples"])
        per_bare = bare["server_cpu"] / (sockets * bare["arrivals"]) * 1e6
        print(f"  bare broadcast server (asyncio websockets, no Django, the same 2 frames per "
              f"change): {describe(bare['lags'])}; {bare['final']}/{sockets} at the final "
              f"count; CPU {bare['server_cpu']:.2f} s: {per_bare:.1f} us per socket per change")
        print(f"  ratio of CPU per socket per change, Atende / bare: "
              f"{per_atende / per_bare:.1f} (target <= 3; load average after: "
              f"{common.load_average()})\n", flush=True)


if __name__ == "__main__":
    from benchmarks.common import STEP_SECONDS, time_limit

    with time_limit(STEP_SECONDS, "push_floor"):
        main()
