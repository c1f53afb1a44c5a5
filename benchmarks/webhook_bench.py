"""Outbound webhooks: one Celery worker delivering to a local receiver (PostgreSQL + Redis).

1. Throughput: 2,000 agents' replies committed at once (50 conversations of one integration),
   delivered by one worker (concurrency 1) to a receiver on 127.0.0.1: events per second,
   from the moment the commit starts (its after-commit hooks enqueue while the worker
   already sends) to the last receipt.
2. Lag at a steady 100 replies per second for 10 s (one transaction each, from 4 threads, as
   agents reply):
   from the reply's time (just before its commit) to its receipt, p50 and p95 (target p95
   under 1 s).

Prints figures, never asserts; every wait has a deadline (BENCH_WEBHOOK_SECONDS, default 240)
so it can never hang.

    BENCH_DATABASE_URL=postgres://... REDIS_URL=redis://... python benchmarks/webhook_bench.py
"""

import json
import os
import subprocess
import sys
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BURST = int(os.environ.get("BENCH_WEBHOOK_BURST", "2000"))
RATE = float(os.environ.get("BENCH_WEBHOOK_RATE", "100"))
STEADY_SECONDS = float(os.environ.get("BENCH_WEBHOOK_STEADY_SECONDS", "10"))
CONVERSATIONS = 50
PRODUCERS = 4
LIMIT = float(os.environ.get("BENCH_WEBHOOK_SECONDS", "240"))


# --------------------------------------------------------------------------- the receiver


def serve_receiver(port_file: str) -> None:
    """Run in a subprocess: answer 200 to every POST, remember when each event arrived;
    GET /received returns them as JSON lines of [received_at, at, type]."""
    received: list[tuple[float, str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do
        # Headers and body leave as they are written (Nagle would hold the body back for
        # the client's delayed ACK: 40 ms a request, which real servers do not pay).
        disable_nagle_algorithm = True

        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            now = time.time()
            event = json.loads(body)
            received.append((now, event["at"], event["type"]))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def do_GET(self):  # noqa: N802
            data = json.dumps(received).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Path(port_file).write_text(str(server.server_address[1]))
    server.serve_forever()


# --------------------------------------------------------------------------- the bench


def wait_for(condition, deadline: float, step: float = 0.05) -> bool:
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return False


def main() -> None:
    from benchmarks import common

    deadline = time.monotonic() + LIMIT
    url = common.database_url()
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")
    os.environ["WEBHOOK_ALLOW_PRIVATE"] = "1"
    if not os.environ.get("BENCH_WEBHOOK_KEEP_DB"):
        common.fresh_database(url)
    common.setup_django(url)

    import httpx
    from django.db import connections, transaction

    from apps.accounts.models import IntegrationClient, Presence, User
    from apps.conversations.services import post_reply, receive_inbound_message
    from apps.routing import services as routing
    from apps.teams.models import Membership, Team
    from apps.webhooks import services as webhooks
    from apps.webhooks.models import Delivery, DeliveryStatus
    from config.celery import app

    port_file = Path(f"/tmp/atende-webhook-bench-{os.getpid()}.port")
    receiver = subprocess.Popen(
        [sys.executable, __file__, "--receiver", str(port_file)], cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    worker = None
    try:
        if not wait_for(port_file.exists, deadline):
            print("webhook bench: the receiver did not start")
            return
        port = int(port_file.read_text())
        stats = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)

        def received() -> list:
            return stats.get("/received").json()

        stamp = time.time_ns()
        team = Team.objects.create(name=f"Webhook bench {stamp}")
        agent = User.objects.create(username=f"whbench-{stamp}", capacity=1000,
                                    presence=Presence.ONLINE)
        Membership.objects.create(team=team, agent=agent)
        bot = IntegrationClient(name="bench connector")
        bot.set_token(IntegrationClient.new_token())
        bot.save()
        webhooks.configure_webhook(integration=bot,
                                   webhook_url=f"http://127.0.0.1:{port}/hooks")
        conversations = []
        for i in range(CONVERSATIONS):
            conversation, _m, _c = receive_inbound_message(
                external_id=f"whbench-{stamp}-{i}", body="Oi", team=team, actor=bot)
            routing.claim_conversation(conversation_id=conversation.pk, agent=agent)
            conversations.append(conversation.pk)
        warmup = Delivery.objects.filter(integration=bot).count()
        connections.close_all()

        env = {**os.environ, "DATABASE_URL": url}
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "webhooks",
             "--concurrency=1", "--loglevel=WARNING", "--without-gossip", "--without-mingle",
             "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        app.conf.task_always_eager = False  # this process enqueues; the worker sends
        webhooks.send_test_event(integration=bot)  # kicks the warm-up events out too
        if not wait_for(lambda: len(received()) >= warmup + 1, deadline, 0.2):
            print("webhook bench: the worker did not deliver the warm-up events in time")
            return

        # 1. Throughput: a burst committed at once, drained by one worker.
        before = len(received())
        with transaction.atomic():
            for n in range(BURST):
                post_reply(conversation_id=conversations[n % CONVERSATIONS], author=agent,
                           body=f"reply {n}")
            # From here on: the commit, then its after-commit hooks enqueue the deliveries
            # (the worker sends while they do, so "after the block" is too late a start).
            committed = time.time()
        if not wait_for(lambda: len(received()) >= before + BURST, deadline, 0.2):
            print(f"webhook bench: only {len(received()) - before} of {BURST} delivered "
                  "before the time limit")
            return
        burst = received()[before:before + BURST]
        last = max(r[0] for r in burst)
        per_second = BURST / max(last - committed, 1e-3)

        # 2. Lag at a steady rate, one reply per transaction, from a few threads (as several
        # agents reply at once; each thread its own conversations).
        before = len(received())
        counts = [0] * PRODUCERS
        start = time.monotonic()

        def produce(index: int) -> None:
            mine = conversations[index::PRODUCERS]
            rate = RATE / PRODUCERS
            try:
                while (elapsed := time.monotonic() - start) < STEADY_SECONDS:
                    if counts[index] < int(elapsed * rate) + 1:
                        post_reply(conversation_id=mine[counts[index] % len(mine)],
                                   author=agent, body=f"steady {index}-{counts[index]}")
                        counts[index] += 1
                    else:
                        time.sleep(0.002)
            finally:
                connections.close_all()

        producers = [threading.Thread(target=produce, args=(i,)) for i in range(PRODUCERS)]
        for thread in producers:
            thread.start()
        for thread in producers:
            thread.join(timeout=STEADY_SECONDS + 30)
        sent = sum(counts)
        achieved = sent / (time.monotonic() - start)
        if not wait_for(lambda: len(received()) >= before + sent, deadline, 0.2):
            print(f"webhook bench: only {len(received()) - before} of {sent} delivered "
                  "before the time limit")
            return
        lags = [
            got - datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp()
            for got, at, _type in received()[before:before + sent]
        ]
        failed = Delivery.objects.filter(integration=bot).exclude(
            status=DeliveryStatus.DELIVERED).count()
        print("Outbound webhooks, one Celery worker (concurrency 1) to a receiver on 127.0.0.1:")
        print(f"  burst of {BURST} replies committed at once ({CONVERSATIONS} conversations): "
              f"{per_second:.0f} events delivered/s")
        print(f"  steady {achieved:.0f} replies/s for {STEADY_SECONDS:.0f} s ({sent} events), "
              f"lag from reply to receipt: {common.describe_ms(lags)}, "
              f"p95 {common.percentile([x * 1000 for x in lags], 95):.1f} ms "
              f"(target p95 under 1 s)")
        print(f"  undelivered at the end: {failed}\n", flush=True)
    finally:
        app.conf.task_always_eager = True
        for process in (worker, receiver):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        port_file.unlink(missing_ok=True)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--receiver":
        serve_receiver(sys.argv[2])
    else:
        main()
