"""The web chat under load: BENCH_WEBCHAT_CUSTOMERS (default 1,000) customer sockets open on
a uvicorn server (Redis + PostgreSQL), each with a conversation waiting in one team's queue,
and an agent in the inbox. Client processes that never import Django (spawned, with the
``websockets`` and ``httpx`` libraries) hold the sockets and take the times:

- customer message -> agent inbox: a customer writes on its socket; the agent's inbox socket
  receives its ``message.created``;
- agent reply -> customer: the agent POSTs a reply (api ``conversations/{id}/messages``) to a
  conversation it took; the customer's socket receives its ``message``;
- server memory per open customer socket: the server processes' resident memory with every
  socket open and greeted, less before any was opened, over the number of sockets.

Prints p50 / p95 / max; never asserts.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python benchmarks/webchat_bench.py
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

CUSTOMERS = int(os.environ.get("BENCH_WEBCHAT_CUSTOMERS", "1000"))
PROCESSES = int(os.environ.get("BENCH_WEBCHAT_PROCESSES", "4"))
SAMPLES = int(os.environ.get("BENCH_WEBCHAT_SAMPLES", "100"))  # messages each way
WORKERS = os.environ.get("BENCH_WEBCHAT_WORKERS", str(os.cpu_count() or 2))
ORIGIN = "http://bench.example"
CONNECT_CONCURRENCY = 20  # per client process
WAIT_SECONDS = 300  # a client process with no word from the parent for this long stops
ROUND_SECONDS = 30


def percentile(values, pct):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def describe(values) -> str:
    if not values:
        return "nothing measured"
    return (f"p50 {percentile(values, 50):.0f} ms, p95 {percentile(values, 95):.0f} ms, "
            f"max {max(values):.0f} ms over {len(values)}")


# ------------------------------------------------------------ the clients (no Django here)

def customer_process(index, address, key, count, commands, results):
    try:
        asyncio.run(_customers(index, address, key, count, commands, results))
    except Exception as error:
        results.put(("error", index, f"{type(error).__name__}: {error}"))


async def _customers(index, address, key, count, commands, results):
    import queue as queues

    from websockets.asyncio.client import connect

    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    sockets, conversations, received = [], {}, {}  # received: tag -> monotonic time

    async def open_one(number):
        async with gate:
            ws = await connect(f"ws://{address}/webchat/{key}/ws?lang=en", origin=ORIGIN,
                               open_timeout=120, max_queue=None)
            assert json.loads(await ws.recv())["type"] == "welcome"
            await ws.send(json.dumps({"type": "hello"}))
            while json.loads(await ws.recv())["type"] != "state":
                pass
            sockets.append(ws)

    async def first_message(number, ws):
        async with gate:
            await ws.send(json.dumps({"type": "send", "body": f"hello {index}-{number}",
                                      "choice": 0}))
            while True:
                event = json.loads(await ws.recv())
                if event["type"] == "state" and event["conversation"]:
                    conversations[event["conversation"]] = number
                    return

    async def read(ws):
        async for raw in ws:
            event = json.loads(raw)
            if event.get("type") == "message" and event["message"]["from"] == "agent":
                received.setdefault(event["message"]["body"], time.monotonic())

    await asyncio.gather(*(open_one(n) for n in range(count)))
    results.put(("open", index, len(sockets), os.getpid()))
    loop = asyncio.get_running_loop()
    readers = []
    try:
        while True:
            try:
                command = await loop.run_in_executor(None, commands.get, True, WAIT_SECONDS)
            except queues.Empty:
                return
            if command[0] == "stop":
                return
            if command[0] == "converse":
                await asyncio.gather(*(first_message(n, ws) for n, ws in enumerate(sockets)))
                readers = [asyncio.create_task(read(ws)) for ws in sockets]
                results.put(("conversations", index, list(conversations)))
            elif command[0] == "write":  # [(conversation id, tag)]: write and say when
                sent = {}
                by_number = {n: ws for n, ws in enumerate(sockets)}
                for conversation, tag in command[1]:
                    sent[tag] = time.monotonic()
                    await by_number[conversations[conversation]].send(
                        json.dumps({"type": "send", "body": tag}))
                    await asyncio.sleep(0.01)
                results.put(("written", index, sent))
            elif command[0] == "collect":  # the replies' receipt times
                deadline = time.monotonic() + ROUND_SECONDS
                wanted = set(command[1])
                while not wanted <= set(received) and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
                results.put(("received", index, {t: received[t] for t in wanted if t in received}))
    finally:
        for task in readers:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


def agent_process(address, token, commands, results):
    try:
        asyncio.run(_agent(address, token, commands, results))
    except Exception as error:
        results.put(("error", "agent", f"{type(error).__name__}: {error}"))


async def _agent(address, token, commands, results):
    import queue as queues

    import httpx
    from websockets.asyncio.client import connect

    received = {}
    ws = await connect(f"ws://{address}/ws/inbox/?token={token}", origin=f"http://{address}",
                       max_queue=None)

    async def read():
        async for raw in ws:
            event = json.loads(raw)
            if event.get("type") == "message.created":
                received.setdefault(event["message"]["body"], time.monotonic())

    reader = asyncio.create_task(read())
    results.put(("agent", os.getpid()))
    loop = asyncio.get_running_loop()
    async with httpx.AsyncClient(base_url=f"http://{address}/api/v1/", timeout=30,
                                 headers={"Authorization": f"Token {token}"}) as api:
        while True:
            try:
                command = await loop.run_in_executor(None, commands.get, True, WAIT_SECONDS)
            except queues.Empty:
                break
            if command[0] == "stop":
                break
            if command[0] == "collect":
                deadline = time.monotonic() + ROUND_SECONDS
                wanted = set(command[1])
                while not wanted <= set(received) and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
                results.put(("agent-received", {t: received[t] for t in wanted if t in received}))
            elif command[0] == "reply":  # [(conversation id, tag)]
                sent = {}
                for conversation, tag in command[1]:
                    sent[tag] = time.monotonic()
                    response = await api.post(f"conversations/{conversation}/messages",
                                              json={"body": tag})
                    response.raise_for_status()
                    await asyncio.sleep(0.01)
                results.put(("replied", sent))
    reader.cancel()
    await ws.close()


# ------------------------------------------------------------------------- the parent

def setup(prefix: str) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from apps.accounts.models import Presence, User
    from apps.accounts.services import issue_person_token
    from apps.teams.models import DistributionMode, Membership, Team
    from apps.webchat.services import create_webchat

    agent = User.objects.create_user(f"{prefix}-agent", name="Bench Agent",
                                     presence=Presence.ONLINE)
    team = Team.objects.create(name=f"{prefix} team", distribution_mode=DistributionMode.MANUAL)
    Membership.objects.create(team=team, agent=agent)
    webchat, _secret = create_webchat(
        name=f"{prefix} chat", allowed_origins=[ORIGIN],
        teams_offered=[{"label": "Bench", "team": team.pk}],
    )
    return {"agent": agent, "team": team, "key": webchat.public_key,
            "token": issue_person_token(user=agent)}


def server_rss_bytes() -> int:
    """Resident memory of the uvicorn this process started, with its workers."""
    from benchmarks.common import _proc_table

    table = _proc_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _cpu, _cmd) in table.items():
        children.setdefault(ppid, []).append(pid)

    def descendants(pid):
        for child in children.get(pid, []):
            yield child
            yield from descendants(child)

    top = next((p for p in descendants(os.getpid()) if "uvicorn" in table[p][2]), None)
    if top is None:
        return 0
    total = 0
    for pid in (top, *descendants(top)):
        try:
            with open(f"/proc/{pid}/status") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def gather(results, kind, count, timeout):
    got = []
    while len(got) < count:
        message = results.get(timeout=timeout)
        if message[0] == "error":
            raise RuntimeError(f"client process {message[1]}: {message[2]}")
        if message[0] == kind:
            got.append(message)
    return got


def run(address: str, world: dict) -> None:
    from apps.routing import services as routing

    context = mp.get_context("spawn")
    results = context.Queue()
    clients = []
    agent_commands = context.Queue()
    agent = context.Process(target=agent_process, daemon=True,
                            args=(address, world["token"], agent_commands, results))
    agent.start()
    gather(results, "agent", 1, 60)
    before = server_rss_bytes()
    try:
        started = time.perf_counter()
        for index in range(PROCESSES):
            commands = context.Queue()
            share = CUSTOMERS // PROCESSES + (1 if index < CUSTOMERS % PROCESSES else 0)
            process = context.Process(target=customer_process, daemon=True,
                                      args=(index, address, world["key"], share, commands,
                                            results))
            process.start()
            clients.append((process, commands))
        opened = sum(m[2] for m in gather(results, "open", PROCESSES, 300))
        time.sleep(2)
        after = server_rss_bytes()
        print(f"  {opened} customer sockets open and greeted in "
              f"{time.perf_counter() - started:.1f} s; server memory {before / 2**20:.0f} MiB "
              f"-> {after / 2**20:.0f} MiB: {(after - before) / max(opened, 1) / 1024:.0f} KiB "
              f"per open customer socket", flush=True)

        started = time.perf_counter()
        for _process, commands in clients:
            commands.put(("converse",))
        owned = {}  # conversation id -> client index
        for message in gather(results, "conversations", PROCESSES, 300):
            owned.update(dict.fromkeys(message[2], message[1]))
        print(f"  {len(owned)} conversations opened and queued in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        time.sleep(2)

        sample = sorted(owned)[:SAMPLES]
        tags = {c: f"bench-in-{c}-{uuid.uuid4().hex[:6]}" for c in sample}
        for index, (_process, commands) in enumerate(clients):
            commands.put(("write", [(c, tags[c]) for c in sample if owned[c] == index]))
        sent = {}
        for message in gather(results, "written", PROCESSES, 120):
            sent.update(message[2])
        agent_commands.put(("collect", list(sent)))
        received = gather(results, "agent-received", 1, ROUND_SECONDS + 30)[0][1]
        inbound = [(received[t] - sent[t]) * 1000 for t in received]
        print(f"  customer message -> agent inbox: {describe(inbound)} "
              f"({len(sent) - len(received)} not received)", flush=True)

        for conversation in sample:  # taken by the agent (not measured)
            routing.claim_conversation(conversation_id=conversation, agent=world["agent"])
        time.sleep(3)  # the queue's move reaches every waiting customer, then settles
        replies = {c: f"bench-out-{c}-{uuid.uuid4().hex[:6]}" for c in sample}
        agent_commands.put(("reply", list(replies.items())))
        sent = gather(results, "replied", 1, 120)[0][1]
        received = {}
        for index, (_process, commands) in enumerate(clients):
            commands.put(("collect", [replies[c] for c in sample if owned[c] == index]))
        for message in gather(results, "received", PROCESSES, ROUND_SECONDS + 30):
            received.update(message[2])
        outbound = [(received[t] - sent[t]) * 1000 for t in received]
        print(f"  agent reply -> customer: {describe(outbound)} "
              f"({len(sent) - len(received)} not received)", flush=True)
    finally:
        for _process, commands in clients:
            commands.put(("stop",))
        agent_commands.put(("stop",))
        for process, _commands in [*clients, (agent, None)]:
            process.join(timeout=20)
            if process.is_alive():
                process.kill()


def main():
    if not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        print("webchat_bench: skipped (set DATABASE_URL and REDIS_URL)")
        return
    import resource

    from benchmarks import common

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * CUSTOMERS + 256)), hard))
    prefix = f"wcbench-{uuid.uuid4().hex[:6]}"
    world = setup(prefix)
    from django.db import connections

    connections.close_all()
    print(f"Web chat: {CUSTOMERS} customer sockets from {PROCESSES} client processes and one "
          f"agent, uvicorn --workers {WORKERS}, Redis channel layer (load average before: "
          f"{common.load_average()})", flush=True)
    from tests.inbox.servers import server_env, uvicorn

    many = str(CUSTOMERS * 10)
    env = server_env(
        DB_POOL_SIZE="16", CONN_MAX_AGE=None, DEBUG="0", LOG_LEVEL="ERROR",
        WEBCHAT_CONNECTIONS_PER_ADDRESS=many, WEBCHAT_CONNECTIONS_PER_KEY=many,
        WEBCHAT_CONVERSATIONS_PER_MINUTE_PER_ADDRESS=many,
        WEBCHAT_CONVERSATIONS_PER_MINUTE_PER_KEY=many,
        WEBCHAT_MESSAGES_PER_MINUTE_PER_ADDRESS=many, WEBCHAT_MESSAGES_PER_MINUTE_PER_KEY=many,
    )
    with uvicorn(env, extra_args=("--workers", WORKERS, "--no-access-log")) as address:
        run(address, world)
    print(f"  (load average after: {common.load_average()})\n", flush=True)


if __name__ == "__main__":
    from benchmarks.common import STEP_SECONDS, time_limit

    with time_limit(STEP_SECONDS, "webchat_bench"):
        main()
