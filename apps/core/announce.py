"""Change announcements, delivered after the transaction that made the change commits.

Services call ``announce(...)``; subscribers (the live inbox, the Celery task enqueuer)
register in their AppConfig.ready(). Nothing here knows who listens, so routing logic never
changes when a new listener plugs in. If the transaction rolls back, nothing is announced.
"""

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction

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
    for changes that are already committed). One failing subscriber does not stop the rest."""
    for subscriber in list(_subscribers):
        try:
            subscriber(announcement)
        except Exception:
            logger.exception("announcement subscriber %r failed for %r", subscriber, announcement)
