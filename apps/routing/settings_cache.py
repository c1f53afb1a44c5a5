"""The routing settings and the default team, read once per process until they change.

Every arrival needs them and they change a few times a year, so each process keeps the last
rows it read, with the version of the settings they were read under. The version lives in
the shared cache (Redis in production: every process and worker sees the same one), so a
change made in any process reaches all of them: saving or deleting the settings or a team
bumps it at once and again when the transaction commits. A process reads the version before
the rows, so rows stored under a version are never older than that version's change.

A process that changed them keeps no copy until the commit's bump (its own reads inside
that transaction may be rolled back). Bulk ``update()`` calls send no signal: call
``settings_changed()`` after one (seed_demo does).
"""

import threading
import uuid
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from apps.teams.models import RoutingSettings, Team

VERSION_KEY = "routing-settings-version"
_TEAM_FIELDS = [f.attname for f in Team._meta.concrete_fields]


@dataclass(frozen=True)
class Snapshot:
    version: str
    default_team: tuple | None  # the team's column values (a fresh Team per caller)
    preferred_max_wait_seconds: int | None
    exists: bool  # the settings row exists


_lock = threading.Lock()
_state: dict = {"snapshot": None, "unsafe_version": None}


def _version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:  # first reader after a restart of the cache: start a version
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
    with _lock:
        if version != _state["unsafe_version"]:
            _state["snapshot"] = snapshot
    return snapshot


def default_team() -> Team | None:
    """The default team (a Team of its own for each caller), or None."""
    values = _snapshot().default_team
    return None if values is None else Team.from_db("default", _TEAM_FIELDS, values)


def preferred_max_wait_seconds(default: int | None) -> int | None:
    """The settings' longest wait for a busy preferred agent (``default`` with no row)."""
    snapshot = _snapshot()
    return snapshot.preferred_max_wait_seconds if snapshot.exists else default


def _bump() -> None:
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


def settings_changed(**_kwargs) -> None:
    """Every process reads the settings afresh: now, and once this transaction commits."""
    _bump()
    with _lock:
        _state["snapshot"] = None
        _state["unsafe_version"] = cache.get(VERSION_KEY)
    transaction.on_commit(_bump)


def connect() -> None:
    for model in (RoutingSettings, Team):
        post_save.connect(settings_changed, sender=model, dispatch_uid=f"settings-{model}")
        post_delete.connect(settings_changed, sender=model, dispatch_uid=f"settings-d-{model}")
