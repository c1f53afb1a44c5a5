"""Embedded mode's stand-in for celery beat: the ASGI server process runs the periodic
routing sweep itself (stale presence, reservations, capacity queues), and the floor view's
per-minute queue snapshots (FLOOR_SNAPSHOT_SECONDS).

In production one ``celery beat`` schedules ``apps.routing.tasks.sweep`` every
DISTRIBUTION_SWEEP_SECONDS. ``make run`` has no broker and no beat, so without this an agent
left online would stay online, and keep receiving conversations, for ever.

Nothing starts at import time and nothing outlives the server's loop: the first HTTP request
or websocket connection handled on a running loop starts one task on that loop, which sleeps
a period, runs the sweep in a worker thread, and repeats until the loop ends. It never
starts in production mode (``config.asgi`` only wraps the application in embedded mode) nor
with EMBEDDED_SWEEP off (the tests turn it off unless a test asks for it).
"""

import asyncio
import contextvars
import logging

from channels.db import database_sync_to_async
from django.conf import settings

logger = logging.getLogger(__name__)


def sweep_enabled() -> bool:
    return bool(settings.EMBEDDED and settings.EMBEDDED_SWEEP)


def _sweep_once() -> dict:
    from apps.routing import tasks

    return tasks.sweep()  # the Celery task's body, run here (as an eager task would)


def _snapshot_once() -> dict:
    from apps.floor import tasks

    return tasks.snapshot_queues()


async def sweep_periodically(period: float, work=_sweep_once, name: str = "sweep") -> None:
    run = database_sync_to_async(work)
    while True:
        await asyncio.sleep(period)
        try:
            result = await run()
        except Exception:
            logger.exception("embedded %s failed; next one in %s s", name, period)
        else:
            logger.debug("embedded %s: %s", name, result)


class EmbeddedBeat:
    """ASGI middleware: starts the periodic sweep on the loop that serves the first
    connection (and again on a new loop, should the server ever run another)."""

    def __init__(self, app):
        self.app = app
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task] = []

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            self._start_on(asyncio.get_running_loop())
        return await self.app(scope, receive, send)

    def _start_on(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._loop is loop or not sweep_enabled():
            return
        self._loop = loop
        # A fresh context: the first request's would make the sweep's sync_to_async believe
        # it is nested in that request.
        self._tasks = [
            loop.create_task(
                sweep_periodically(settings.DISTRIBUTION_SWEEP_SECONDS),
                name="embedded routing sweep",
                context=contextvars.Context(),
            ),
            loop.create_task(
                sweep_periodically(
                    settings.FLOOR_SNAPSHOT_SECONDS, _snapshot_once, "queue snapshots"
                ),
                name="embedded queue snapshots",
                context=contextvars.Context(),
            ),
        ]
