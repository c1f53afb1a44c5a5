"""A real webhook receiver for the tests: an HTTP server on 127.0.0.1 in a thread of the test
process, recording every request and answering as the test scripts it."""

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from apps.webhooks.signing import verify


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes

    @property
    def event(self) -> dict:
        return json.loads(self.body)

    @property
    def delivery_id(self) -> str:
        return self.headers["x-atende-delivery"]

    def signed_with(self, secret: str) -> bool:
        return verify(self.body, secret, self.headers.get("x-atende-signature"))


@dataclass
class Script:
    """What the receiver answers: ``statuses`` in turn (then ``default``); while ``hold`` is
    not set, requests wait for it (a hanging receiver)."""

    statuses: list = field(default_factory=list)
    default: int = 200
    body: bytes = b"ok"
    location: str | None = None
    hold: threading.Event | None = None


class Receiver:
    def __init__(self):
        self.received: list[Received] = []
        self.script = Script()
        self.arrived = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/atende"

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def start(self) -> "Receiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        if self.script.hold is not None:
            self.script.hold.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def wait_for(self, count: int, timeout: float = 30) -> bool:
        """Until ``count`` requests arrived (False after ``timeout`` seconds)."""
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.received) >= count, timeout=timeout)

    def events(self) -> list[dict]:
        return [r.event for r in self.received]

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True  # the body goes out with the headers

            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                script = receiver.script
                with receiver.arrived:
                    receiver.received.append(Received(
                        path=self.path,
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=body,
                    ))
                    status = script.statuses.pop(0) if script.statuses else script.default
                    receiver.arrived.notify_all()
                if script.hold is not None:
                    script.hold.wait(timeout=120)
                self.send_response(status)
                if script.location:
                    self.send_header("Location", script.location)
                self.send_header("Content-Length", str(len(script.body)))
                self.end_headers()
                try:
                    self.wfile.write(script.body)
                except OSError:
                    pass  # the sender gave up waiting

            def log_message(self, *args):
                pass

        return Handler
