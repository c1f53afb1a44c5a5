"""Database helpers every app shares: deadlock retry and advisory locks."""

import functools
import random
import time

from django.db import OperationalError, connection

RETRYABLE_SQLSTATES = {"40P01", "40001"}  # deadlock_detected, serialization_failure
ADVISORY_NAMESPACE = 0x41544E  # "ATN": keeps our advisory keys apart from anyone else's


def _is_retryable(error: OperationalError) -> bool:
    cause = error.__cause__
    return getattr(cause, "sqlstate", None) in RETRYABLE_SQLSTATES


def retry_on_deadlock(func=None, *, attempts: int = 4):
    """Run a transactional service again when PostgreSQL aborted it as a deadlock victim.

    Only an outermost call retries: inside someone else's transaction the whole transaction
    is already lost, so the error goes up to its owner.
    """

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            for attempt in range(1, attempts + 1):
                try:
                    return fn(*args, **kwargs)
                except OperationalError as error:
                    if (
                        attempt == attempts
                        or connection.in_atomic_block
                        or not _is_retryable(error)
                    ):
                        raise
                    time.sleep(random.uniform(0.005, 0.02) * attempt)
            raise AssertionError("unreachable")

        return wrapper

    return decorate(func) if func is not None else decorate


def advisory_xact_lock(key: int) -> None:
    """Wait for an exclusive lock on ``key`` until the current transaction ends.

    PostgreSQL only; SQLite already serializes every write transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ADVISORY_NAMESPACE, key])
