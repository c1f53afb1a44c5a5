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
"""

import os
import threading
import uuid
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from apps.teams.hours import Schedule, schedule_of
from apps.teams.models import ClosedDate, OpeningHours, RoutingSettings, Team

VERSION_KEY = "routing-configuration-version"
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
_state: dict = {"snapshot": None, "unsafe_version": None}


def _forget_process_state() -> None:
    """In a forked child: a lock another thread of the parent held at fork time would never
    be released; the child reads the configuration afresh."""
    global _lock
    _lock = threading.Lock()
    _state.update(snapshot=None, unsafe_version=None)


os.register_at_fork(after_in_child=_forget_process_state)


def _version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:  # first reader after the cache lost it: start a version
        cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(VERSION_KEY)
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
    with _lock:
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


def configuration_changed(**_kwargs) -> None:
    """Every process reads the configuration afresh: now, and once this transaction
    commits."""
    _bump()
    with _lock:
        _state["snapshot"] = None
        _state["unsafe_version"] = cache.get(VERSION_KEY)
    transaction.on_commit(_bump)


def connect() -> None:
    for model in (RoutingSettings, Team, OpeningHours, ClosedDate):
        uid = f"configuration-{model._meta.label}"
        post_save.connect(configuration_changed, sender=model, dispatch_uid=uid)
        post_delete.connect(configuration_changed, sender=model, dispatch_uid=uid)
