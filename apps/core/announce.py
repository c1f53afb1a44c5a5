"""Change announcements, delivered after the transaction that made the change commits.

Services call ``announce(...)``; subscribers (the live inbox, the Celery task enqueuer)
register in their AppConfig.ready(). Nothing here knows who listens, so routing logic never
changes when a new listener plugs in. If the transaction rolls back, nothing is announced.
"""

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import transaction

from apps.core.http import UNAVAILABLE

logger = logging.getLogger(__name__)

Subscriber = Callable[[Any], None]
_subscribers: list[Subscriber] = []


def subscribe(subscriber: Subscriber) -> Subscriber:
    if subscriber not in _subscribers:
        _subscribers.append(subscriber)
    return subscriber


def unsubscribe(subscriber: Subscriber) -> None:
    if subscriber in _subscribers:
        _subscribers.remove(subscriber)


def announce(announcement: Any, *, using: str | None = None) -> None:
    transaction.on_commit(lambda a=announcement: deliver_now(a), using=using)


def deliver_now(announcement: Any) -> None:
    """Hand an announcement to every subscriber at once (only outside a transaction, or
    for changes that are already committed). One failing subscriber does not stop the rest.

    A backing service that does not answer (Redis, the broker: an outage) is told in one
    line per subscriber every ``QUIET_SECONDS``, with how many failed meanwhile, instead of
    a traceback per request; the periodic sweep makes up for what was not sent."""
    for subscriber in list(_subscribers):
        try:
            subscriber(announcement)
        except UNAVAILABLE as error:
            _unavailable(subscriber, error)
        except Exception:
            logger.exception("announcement subscriber %r failed for %r", subscriber, announcement)


QUIET_SECONDS = 10.0
_quiet: dict[Subscriber, list] = {}  # subscriber -> [next report at (monotonic), failures]
_quiet_lock = threading.Lock()


def _name(subscriber: Subscriber) -> str:
    qualname = getattr(subscriber, "__qualname__", None)
    return f"{subscriber.__module__}.{qualname}" if qualname else repr(subscriber)


def _unavailable(subscriber: Subscriber, error: Exception) -> None:
    now = time.monotonic()
    with _quiet_lock:
        state = _quiet.setdefault(subscriber, [0.0, 0])
        state[1] += 1
        if now < state[0]:
            return
        failures, state[0], state[1] = state[1], now + QUIET_SECONDS, 0
    logger.warning(
        "announcement subscriber %s could not reach a backing service (%s: %s): %d "
        "announcement(s) not delivered since its last report (one every %g s at most)",
        _name(subscriber), type(error).__name__, error,
        failures, QUIET_SECONDS,
    )
