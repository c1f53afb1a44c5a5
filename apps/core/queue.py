"""Enqueuing Celery tasks after commit, without failing what committed."""

import logging

from django.db import transaction
from kombu.exceptions import OperationalError as BrokerUnavailable

logger = logging.getLogger(__name__)


def enqueue_on_commit(task, *args) -> None:
    """``task.delay(*args)`` once the transaction commits. A broker that does not answer
    then is logged, not raised: the change is done, and the periodic sweep does what the
    task would have (any other error still surfaces, in tests too)."""

    def enqueue():
        try:
            task.delay(*args)
        except BrokerUnavailable:
            logger.warning("broker unavailable: %s%r not enqueued", task.name, args)

    transaction.on_commit(enqueue)
