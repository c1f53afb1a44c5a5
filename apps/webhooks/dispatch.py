"""Who sends the outbox's deliveries, and when.

After the transaction that wrote deliveries commits, their integrations are "kicked":

- with a broker (production), a ``deliver`` task per integration on the ``webhooks`` queue.
  Publishing never fails the request that made the change: if Redis is down the task is
  simply not sent, and the periodic sweep (``apps.webhooks.tasks.sweep``) finds the
  deliveries once Redis is back. Retries due within ``WAKE_WITHIN_SECONDS`` are scheduled
  as tasks with a countdown (one per integration at a time); later ones are the sweep's.
- without a broker (embedded mode: Celery runs tasks eagerly, there is no worker and no
  beat), ``WEBHOOK_EAGER_DELIVERY`` says how: ``thread`` (the default) sends from one
  background thread of this process, started on demand and gone when nothing is pending, so
  that a slow receiver never holds up the request that made the change; ``inline`` sends at
  once in the caller (tests that want it), and retries wait for the next kick.
"""

import logging
import math
import os
import threading

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import connections, transaction

logger = logging.getLogger(__name__)

WAKE_WITHIN_SECONDS = 10.0
WAKE_KEY = "atende:webhooks:wake:{}"
IDLE_CHECK_SECONDS = 60.0


def deliver_after_commit(integration_ids: set[int]) -> None:
    """Kick these integrations' deliveries once the current transaction commits."""
    ids = tuple(sorted(integration_ids))
    if ids:
        transaction.on_commit(lambda ids=ids: kick(ids))


def _mode() -> str:
    if not current_app.conf.task_always_eager:
        return "celery"
    return settings.WEBHOOK_EAGER_DELIVERY


def kick(integration_ids) -> None:
    mode = _mode()
    if mode == "celery":
        from apps.webhooks.tasks import deliver

        for integration_id in integration_ids:
            try:
                deliver.apply_async((integration_id,), retry=False)
            except Exception as error:  # the broker is down: the sweep will find them
                logger.warning(
                    "webhook deliveries of integration %s not enqueued (%s); the sweep will "
                    "send them", integration_id, error,
                )
                return
    elif mode == "thread":
        local_runner.kick()
    else:
        from apps.webhooks.delivery import run_deliveries

        for integration_id in integration_ids:
            run_deliveries(integration_id=integration_id)


def wake_later(integration_id: int, seconds: float) -> None:
    """Something of this integration becomes due in ``seconds``: have it sent then. Only
    soon-due work gets a task of its own (one per integration at a time); the sweep takes
    the rest. The embedded thread keeps its own time; ``inline`` waits for the next kick."""
    if _mode() != "celery" or seconds > WAKE_WITHIN_SECONDS:
        return
    seconds = max(0.2, seconds)
    if not cache.add(WAKE_KEY.format(integration_id), 1, timeout=math.ceil(seconds)):
        return  # a wake-up is already scheduled for it
    from apps.webhooks.tasks import deliver

    try:
        deliver.apply_async((integration_id,), countdown=seconds, retry=False)
    except Exception as error:
        logger.warning("webhook retry of integration %s not scheduled (%s)", integration_id,
                       error)


class LocalRunner:
    """Embedded mode's sender: one background thread per process, started by a kick, sending
    whatever is due for every integration, sleeping until the next retry is due, and ending
    when nothing is pending. Nothing of it survives a fork (the child starts afresh)."""

    def __init__(self):
        self._reset()

    def _reset(self):
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def kick(self) -> None:
        with self._lock:
            self._wake.set()
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="atende-webhooks", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        from apps.webhooks.delivery import run_all_due

        try:
            while True:
                self._wake.clear()
                try:
                    wait = run_all_due()
                except Exception:
                    logger.exception("webhook deliveries failed")
                    wait = IDLE_CHECK_SECONDS
                with self._lock:
                    if wait is None and not self._wake.is_set():
                        self._thread = None
                        return
                self._wake.wait(timeout=min(wait or IDLE_CHECK_SECONDS, IDLE_CHECK_SECONDS))
        finally:
            connections.close_all()  # this thread's own connections
            with self._lock:
                if self._thread is threading.current_thread():
                    self._thread = None

    def join(self, timeout: float) -> bool:
        """Wait until the thread has nothing left to do (tests). True if it ended."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True


local_runner = LocalRunner()
os.register_at_fork(after_in_child=local_runner._reset)
