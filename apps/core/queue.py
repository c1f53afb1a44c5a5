"""Enqueuing Celery tasks after commit, without failing what committed."""

import logging

from django.db import DatabaseError, transaction
from kombu.exceptions import OperationalError as BrokerUnavailable

logger = logging.getLogger(__name__)

# Every task: idempotent, acknowledged late and put back when its worker dies, retried with
# backoff while the database does not answer.
TASK_OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (DatabaseError,),
    "retry_backoff": 0.5,
    "retry_backoff_max": 30,
    "retry_jitter": True,
    "max_retries": 8,
}


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
