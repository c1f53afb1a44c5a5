"""A tiny webhook receiver for the demo: what a channel connector would get from Atende.

    .venv/bin/python manage.py webhook_receiver --port 8001

Listens on 127.0.0.1, checks every request's ``X-Atende-Signature`` with the demo
integration's secret (or ``--secret``) and prints each event on one readable line: an
agent's reply, an assignment, a transfer, a queue, a close. A request whose signature does
not match is answered 401 and printed as such. It stores nothing and needs no database.
"""

import json
import signal
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.core.management.base import BaseCommand, CommandError

from apps.demo.management.commands.seed_demo import DEMO_WEBHOOK_PORT, DEMO_WEBHOOK_SECRET
from apps.webhooks.signing import verify

MAX_BODY = 1024 * 1024


def describe(event: dict) -> str:
    """One line a person reads: what happened, to which conversation."""
    kind = event.get("type", "?")
    conversation = event.get("conversation") or {}
    where = (
        f"conversation #{conversation.get('id')} ({conversation.get('contact_name')}, "
        f"{conversation.get('channel')})"
        if conversation else "no conversation"
    )
    if kind == "message.created":
        message = event.get("message") or {}
        author = (message.get("author") or {}).get("name", "an agent")
        body = " ".join(str(message.get("body", "")).split())
        what = f'{author} replied: "{body[:120]}{"…" if len(body) > 120 else ""}"'
    elif kind == "conversation.assigned":
        what = f"now with {(event.get('agent') or {}).get('name', 'an agent')}"
    elif kind == "conversation.transferred":
        agent = (event.get("agent") or {}).get("name")
        team = conversation.get("team_name")
        what = f"transferred to {agent or team or 'Waiting'}"
    elif kind == "conversation.queued":
        queue = conversation.get("queue") or {}
        position = f", position {queue['position']}" if queue.get("position") else ""
        status = conversation.get("status")
        if status == "reserved":
            what = f"waiting for {conversation.get('preferred_agent_name')}"
        else:
            what = f"waiting in {conversation.get('team_name') or 'Waiting'}{position}"
    elif kind == "conversation.closed":
        what = "closed"
    elif kind == "ping":
        what = f"test event from {(event.get('integration') or {}).get('name', '?')}"
    else:
        what = "(an event this receiver does not know)"
    return f"{kind:<25} {where}: {what}"


class Command(BaseCommand):
    help = "Print the webhook events Atende sends to the demo integration (127.0.0.1 only)."
    requires_system_checks = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=DEMO_WEBHOOK_PORT)
        parser.add_argument("--secret", default=DEMO_WEBHOOK_SECRET,
                            help="the integration's webhook secret (default: the demo's)")

    def handle(self, *args, port, secret, **options):
        out = self.stdout
        style = self.style

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True  # the body goes out with the headers

            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    self._answer(413, {"detail": "too large"})
                    return
                body = self.rfile.read(length)
                stamp = datetime.now().strftime("%H:%M:%S")
                delivery = self.headers.get("X-Atende-Delivery", "?")
                if not verify(body, secret, self.headers.get("X-Atende-Signature")):
                    out.write(style.ERROR(
                        f"{stamp}  refused {delivery}: the signature does not match the secret"
                    ))
                    out.flush()
                    self._answer(401, {"detail": "bad signature"})
                    return
                try:
                    line = describe(json.loads(body))
                except (ValueError, AttributeError):
                    line = "(not a JSON object)"
                out.write(f"{stamp}  {line}  [signed, delivery {delivery[:8]}]")
                out.flush()
                self._answer(200, {"ok": True})

            def _answer(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        try:
            server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        except OSError as error:
            raise CommandError(f"Cannot listen on 127.0.0.1:{port}: {error}") from error
        server.daemon_threads = True

        def stop(*_args):
            threading.Thread(target=server.shutdown, daemon=True).start()

        signal.signal(signal.SIGTERM, stop)
        out.write(style.SUCCESS(
            f"Listening on http://127.0.0.1:{port}/ for Atende's webhooks (Ctrl-C to stop)"
        ) + " - the demo's webhook starts switched off: tick \"active\" on the Demo WhatsApp "
            "connector in the admin (Integration clients) to receive its events.")
        out.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
