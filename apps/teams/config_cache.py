"""The routing configuration (the routing settings, the default team, teams' opening hours
and closed dates), read once per process until it changes.

Every arrival and every inbound answer needs it and it changes a few times a year, so each
process keeps what it read, with the version of the configuration it was read under. The
version lives in the shared cache (Redis in production: every process and worker sees the
same one), so a change made in any process reaches all of them: saving or deleting the
settings, a team, its opening hours or closed dates bumps it at once and again when the
transaction commits. A process reads the version before the rows, so rows kept under a
version are never older than that version's change.

A process that made a change keeps nothing until the commit's bump (its own reads inside
that transaction may be rolled back). Bulk writes send no signal: call
``configuration_changed()`` after one (the teams' services and seed_demo do).

Redis holds nothing intake needs: when the shared cache does not answer, a process reads the
configuration from the database for every decision (and keeps nothing, as it cannot know of
changes) and leaves the cache alone for ``RETRY_CACHE_SECONDS`` before trying it again. A
change it could not announce is announced when the cache answers again (a bump owed), so no
process keeps a configuration older than the change after the outage.
"""

import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass, field

import redis.exceptions
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from apps.teams.hours import Schedule, schedule_of
from apps.teams.models import ClosedDate, OpeningHours, RoutingSettings, Team

VERSION_KEY = "routing-configuration-version"
# After the cache failed, a process reads the database without asking the cache for this
# long (a Redis that does not answer costs its connection timeout on every try).
RETRY_CACHE_SECONDS = 5.0
CACHE_ERRORS = (redis.exceptions.RedisError,)
_UNKNOWN = object()  # the next version seen is unsafe (the change's own bump failed)
logger = logging.getLogger(__name__)
_TEAM_FIELDS = [f.attname for f in Team._meta.concrete_fields]


@dataclass
class Snapshot:
    version: str
    default_team: tuple | None  # the team's column values (a fresh Team per caller)
    preferred_max_wait_seconds: int | None
    exists: bool  # the settings row exists
    schedules: dict[int, Schedule] = field(default_factory=dict)  # immutable values
    remembered: dict = field(default_factory=dict)  # other apps' immutable values


_lock = threading.Lock()
_state: dict = {
    "snapshot": None, "unsafe_version": None, "cache_down_until": 0.0, "bump_owed": False,
}


def _forget_process_state() -> None:
    """In a forked child: a lock another thread of the parent held at fork time would never
    be released; the child reads the configuration afresh."""
    global _lock
    _lock = threading.Lock()
    _state.update(snapshot=None, unsafe_version=None, cache_down_until=0.0, bump_owed=False)


os.register_at_fork(after_in_child=_forget_process_state)


def _cache_failed(error: Exception) -> None:
    if time.monotonic() >= _state["cache_down_until"]:
        logger.warning(
            "The cache did not answer (%s): reading the routing configuration from the "
            "database for %s s", type(error).__name__, RETRY_CACHE_SECONDS,
        )
    with _lock:
        _state["snapshot"] = None
        _state["cache_down_until"] = time.monotonic() + RETRY_CACHE_SECONDS


def _version() -> str | None:
    """The shared version, or None when the cache does not answer (the caller then reads
    the database and keeps nothing)."""
    if time.monotonic() < _state["cache_down_until"]:
        return None
    try:
        if _state["bump_owed"]:  # a change made while the cache did not answer
            _bump()
            _state["bump_owed"] = False
        version = cache.get(VERSION_KEY)
        if version is None:  # first reader after the cache lost it: start a version
            cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
            version = cache.get(VERSION_KEY)
    except CACHE_ERRORS as error:
        _cache_failed(error)
        return None
    return version


def _snapshot() -> Snapshot:
    version = _version()
    snapshot = _state["snapshot"]
    if snapshot is not None and snapshot.version == version:
        return snapshot
    row = (
        RoutingSettings.objects.select_related("default_team")
        .filter(id=RoutingSettings.SINGLETON_ID)
        .first()
    )
    team = row.default_team if row is not None else None
    snapshot = Snapshot(
        version=version,
        default_team=(
            tuple(getattr(team, name) for name in _TEAM_FIELDS) if team is not None else None
        ),
        preferred_max_wait_seconds=row.preferred_max_wait_seconds if row is not None else None,
        exists=row is not None,
    )
    _keep(snapshot)
    return snapshot


def _keep(snapshot: Snapshot) -> None:
    if snapshot.version is None:  # read while the cache did not answer
        return
    with _lock:
        if _state["unsafe_version"] is _UNKNOWN:
            _state["unsafe_version"] = snapshot.version
        if snapshot.version != _state["unsafe_version"]:
            _state["snapshot"] = snapshot


def default_team() -> Team | None:
    """The default team (a Team of its own for each caller), or None."""
    values = _snapshot().default_team
    return None if values is None else Team.from_db("default", _TEAM_FIELDS, values)


def preferred_max_wait_seconds(default: int | None) -> int | None:
    """The settings' longest wait for a busy preferred agent (``default`` with no row)."""
    snapshot = _snapshot()
    return snapshot.preferred_max_wait_seconds if snapshot.exists else default


def schedule(team: Team) -> Schedule:
    """The team's schedule (``hours.schedule_of``): two queries the first time per version.
    A team whose hours were prefetched is read from them."""
    if "opening_hours" in getattr(team, "_prefetched_objects_cache", {}):
        return schedule_of(team)
    snapshot = _snapshot()
    found = snapshot.schedules.get(team.pk)
    if found is None:
        found = schedule_of(team)
        if snapshot.version is not None:
            with _lock:
                snapshot.schedules[team.pk] = found
    return found


def remembered(key, load):
    """``load()``'s value (immutable) kept under ``key`` until the configuration changes:
    other apps' configuration (a team's ladder), whose writers call
    ``configuration_changed``."""
    snapshot = _snapshot()
    if key in snapshot.remembered:
        return snapshot.remembered[key]
    value = load()
    with _lock:
        snapshot.remembered[key] = value
    return value


def _bump() -> None:
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


def _bump_at_commit() -> None:
    try:
        _bump()
    except CACHE_ERRORS as error:  # announced when the cache answers again
        _cache_failed(error)
        _state["bump_owed"] = True


def configuration_changed(**_kwargs) -> None:
    """Every process reads the configuration afresh: now, and once this transaction
    commits. A cache that does not answer never stops the change."""
    try:
        _bump()
        unsafe = cache.get(VERSION_KEY)
    except CACHE_ERRORS as error:
        _cache_failed(error)
        unsafe = _UNKNOWN
    with _lock:
        _state["snapshot"] = None
        _state["unsafe_version"] = unsafe
    transaction.on_commit(_bump_at_commit)


def connect() -> None:
    for model in (RoutingSettings, Team, OpeningHours, ClosedDate):
        uid = f"configuration-{model._meta.label}"
        post_save.connect(configuration_changed, sender=model, dispatch_uid=uid)
        post_delete.connect(configuration_changed, sender=model, dispatch_uid=uid)
