"""The per-minute record of each team's queue depth behind the floor view's chart.

Celery beat runs ``apps.floor.tasks.snapshot_queues`` every FLOOR_SNAPSHOT_SECONDS (60);
in embedded mode the server's own periodic loop does (config/embedded_beat.py). A run
writes one row per team for the current minute (a second run in the same minute, or two
beats, write nothing more: the row exists) and drops rows older than
FLOOR_SNAPSHOT_KEEP_HOURS. Three queries per run, whatever the number of teams.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from apps.conversations.models import Conversation, Status
from apps.core.time import iso
from apps.floor.models import QueueSnapshot
from apps.teams.models import Team

SERIES_WINDOW = timedelta(hours=1)


def minute_of(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def record_snapshots(*, now: datetime | None = None) -> dict:
    """Write this minute's depth of every team; prune the old rows."""
    now = now or timezone.now()
    minute = minute_of(now)
    depth = {
        row["team_id"]: row
        for row in Conversation.objects.filter(
            status__in=(Status.QUEUED, Status.RESERVED), team__isnull=False
        )
        .values("team_id")
        .annotate(
            queued=Count("id", filter=Q(status=Status.QUEUED)),
            reserved=Count("id", filter=Q(status=Status.RESERVED)),
        )
        .order_by()
    }
    rows = [
        QueueSnapshot(
            team_id=team_id, taken_at=minute,
            queued=depth.get(team_id, {}).get("queued", 0),
            reserved=depth.get(team_id, {}).get("reserved", 0),
        )
        for team_id in Team.objects.values_list("pk", flat=True)
    ]
    QueueSnapshot.objects.bulk_create(rows, ignore_conflicts=True)
    keep = timedelta(hours=settings.FLOOR_SNAPSHOT_KEEP_HOURS)
    pruned, _by_model = QueueSnapshot.objects.filter(taken_at__lt=now - keep).delete()
    return {"teams": len(rows), "pruned": pruned}


def depth_series(*, now: datetime) -> dict[int, list[list]]:
    """Each team's ``[[minute (ISO), queued, reserved], ...]`` over the last hour, oldest
    first (one query)."""
    series: dict[int, list[list]] = {}
    rows = (
        QueueSnapshot.objects.filter(taken_at__gt=now - SERIES_WINDOW, taken_at__lte=now)
        .order_by("team_id", "taken_at")
        .values_list("team_id", "taken_at", "queued", "reserved")
    )
    minutes: dict[datetime, str] = {}  # every team shares the same sixty minutes
    for team_id, taken_at, queued, reserved in rows:
        if taken_at not in minutes:
            minutes[taken_at] = iso(taken_at)
        series.setdefault(team_id, []).append([minutes[taken_at], queued, reserved])
    return series
