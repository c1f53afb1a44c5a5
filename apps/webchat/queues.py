"""Where each waiting customer of a team stands, read once per server process for all of
them: when a team's queue moves, every customer socket in it must be told its new position,
and a thousand sockets each reading the queue would read it a thousand times. A snapshot of
the team's queue (positions by apps.conversations.waits, the team's pace) is kept per process and
read again only when a socket asks for one newer than the notice it is answering."""

import threading
import time
from dataclasses import dataclass

from django.utils import timezone

from apps.conversations.models import Conversation, Status
from apps.conversations.waits import TeamPace, estimate_wait, positions, team_paces
from apps.teams.models import Team

MAX_AGE_SECONDS = 1.0  # a snapshot this fresh serves a socket that has no newer notice


@dataclass(frozen=True)
class QueueSnapshot:
    at: float  # time.monotonic() when it was read
    positions: dict[int, int]
    pace: TeamPace | None
    mode: str

    def queue_of(self, conversation_id: int) -> dict | None:
        position = self.positions.get(conversation_id)
        if position is None:
            return None
        return {"position": position,
                "estimated_wait_seconds": estimate_wait(position, self.pace, mode=self.mode)}


_snapshots: dict[int, QueueSnapshot] = {}
_lock = threading.Lock()


def queue_of(team_id: int, conversation_id: int, *, since: float | None = None) -> dict | None:
    """The conversation's ``{position, estimated_wait_seconds}`` in its team's queue; a
    snapshot that does not have it yet (it queued since) is read again."""
    found = snapshot(team_id, since=since).queue_of(conversation_id)
    if found is None:
        found = snapshot(team_id, since=time.monotonic()).queue_of(conversation_id)
    return found


def snapshot(team_id: int, *, since: float | None = None) -> QueueSnapshot:
    """The team's queue as read at or after ``since`` (a time.monotonic() moment; default:
    at most MAX_AGE_SECONDS ago). Four queries when it must be read again."""
    if since is None:
        since = time.monotonic() - MAX_AGE_SECONDS
    with _lock:
        cached = _snapshots.get(team_id)
        if cached is not None and cached.at >= since:
            return cached
        at = time.monotonic()
        queued = list(
            Conversation.objects.filter(status=Status.QUEUED, team_id=team_id)
            .only("id", "status", "team_id")
        )
        mode = Team.objects.filter(pk=team_id).values_list("distribution_mode", flat=True).first()
        fresh = QueueSnapshot(
            at=at, positions=positions(queued),
            pace=team_paces([team_id], now=timezone.now()).get(team_id) if queued else None,
            mode=mode or "",
        )
        _snapshots[team_id] = fresh
        return fresh
