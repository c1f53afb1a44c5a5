"""Readiness (``/readyz``, api.md "Operations"): can this process do its work?

Three checks: PostgreSQL answers (one query, which also reads when the periodic sweep last
finished), Redis answers (production mode), and the sweep finished within three of its
periods (it runs in celery beat, which can die while everything else looks healthy). The
last sweep is a database row (apps.routing.models.PeriodicRun), so every process reads the
same answer.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.utils import timezone

from apps.routing import selectors
from config.embedded_beat import sweep_enabled

SWEEP_PERIODS_LATE = 3  # the sweep is late once this many of its periods went by without it


@dataclass
class Readiness:
    checks: dict[str, str] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    last_sweep_at: datetime | None = None

    @property
    def ready(self) -> bool:
        return not self.failed

    def passed(self, name: str, note: str = "ok") -> None:
        self.checks[name] = note

    def fail(self, name: str, why: str) -> None:
        self.checks[name] = why
        self.failed.append(name)


def redis_client():
    """The Redis client behind the Django cache (production mode), else None."""
    get_client = getattr(getattr(cache, "_cache", None), "get_client", None)
    if get_client is None or not settings.REDIS_URL:
        return None
    return get_client(write=True)


def sweep_is_checked() -> bool:
    """Production: beat runs it. Embedded: the server does, unless EMBEDDED_SWEEP is off."""
    return not settings.EMBEDDED or sweep_enabled()


def readiness() -> Readiness:
    result = Readiness()
    try:
        result.last_sweep_at = selectors.last_sweep_at()
    except DatabaseError as error:
        result.fail("database", f"error: {type(error).__name__}")
        if sweep_is_checked():
            result.fail("sweep", "unknown: the database did not answer")
    else:
        result.passed("database")
        _check_sweep(result)
    _check_redis(result)
    return result


def _check_redis(result: Readiness) -> None:
    if not settings.REDIS_URL:
        result.passed("redis", "not used (embedded mode)")
        return
    client = redis_client()
    try:
        if client is None or not client.ping():
            raise ConnectionError("no answer")
    except Exception as error:  # redis-py's errors, timeouts, refused connections
        result.fail("redis", f"error: {type(error).__name__}")
    else:
        result.passed("redis")


def _check_sweep(result: Readiness) -> None:
    if not sweep_is_checked():
        result.passed("sweep", "off (embedded mode, EMBEDDED_SWEEP off)")
        return
    limit = SWEEP_PERIODS_LATE * float(settings.DISTRIBUTION_SWEEP_SECONDS)
    last = result.last_sweep_at
    if last is None:
        result.fail("sweep", "never ran: is celery beat running?")
        return
    age = (timezone.now() - last).total_seconds()
    if age > limit:
        result.fail(
            "sweep", f"late: last finished {round(age)} s ago (limit {round(limit)} s): "
            "is celery beat running?"
        )
    else:
        result.passed("sweep", f"ok: last finished {round(max(age, 0))} s ago")
