"""``GET stats/teams``: the floor at a glance, per team and for Waiting (docs/floor.md).

Every figure comes from an aggregate query over all teams at once, so the answer costs the
same seven queries for one team or a hundred: the teams (with their opening hours and
closed dates, for ``open_now``), the open conversations counted by team and status, the
members counted by team and presence, the last hour's assignments, and the last hour's
queue snapshots.

The last hour's figures are the reports' wait (apps.reports.figures, docs/reports.md) over
the hour before now: from entering the queue (``queued_at``, set whenever a conversation is
placed in a team or in Waiting) to being assigned (``assigned_at``), over the conversations
whose latest assignment took them from a queue in the last hour, wherever they are now (a
hand-over between agents since is not an answer from the queue), with the same median.
The share within the target also counts, as misses, the customers still in the queue who
have waited longer than the target: a team that takes a few quickly while most wait does
not read 100%.
"""

from datetime import datetime, timedelta

from django.db.models import Count, Min, Q, Sum
from django.utils import timezone

from apps.accounts.models import Presence
from apps.conversations.models import Conversation, Status
from apps.core.time import iso
from apps.floor.snapshots import depth_series
from apps.reports import figures
from apps.reports.percentiles import share_pct, whole_seconds
from apps.teams.hours import team_state
from apps.teams.models import Membership, Team

LAST_HOUR = timedelta(hours=1)
OPEN_STATUSES = (Status.WAITING, Status.QUEUED, Status.RESERVED, Status.ASSIGNED)


def _age(since: datetime | None, now: datetime) -> int | None:
    return None if since is None else max(0, int((now - since).total_seconds()))


def _past_target(teams: list[Team], now: datetime) -> Q:
    """Queued conversations that have waited longer than their team's target (one condition
    per distinct target, whatever the number of teams)."""
    by_target: dict[int, list[int]] = {}
    for team in teams:
        by_target.setdefault(team.answer_target_seconds, []).append(team.pk)
    past = Q(pk__in=[])
    for target, ids in by_target.items():
        past |= Q(team_id__in=ids, queued_at__lt=now - timedelta(seconds=target))
    return Q(status=Status.QUEUED) & past


def _places(teams: list[Team], now: datetime) -> dict[tuple[int | None, str], dict]:
    """Open conversations by (team, status): how many, the oldest queue entry, the first
    reservation to end, how many queued ones are past their team's target, and how many
    stand at each ladder step (``by_step``: routing.md 9.4), in one query."""
    places: dict[tuple[int | None, str], dict] = {}
    for row in (
        Conversation.objects.filter(status__in=OPEN_STATUSES)
        .values("team_id", "status", "ladder_step")
        .annotate(n=Count("id"), oldest=Min("queued_at"), next_release=Min("reserved_until"),
                  past_target=Count("id", filter=_past_target(teams, now)))
        .order_by()
    ):
        key = (row["team_id"], row["status"])
        place = places.setdefault(key, {"n": 0, "oldest": None, "next_release": None,
                                        "past_target": 0, "by_step": {}})
        place["n"] += row["n"]
        place["past_target"] += row["past_target"]
        for name in ("oldest", "next_release"):
            if row[name] is not None and (place[name] is None or row[name] < place[name]):
                place[name] = row[name]
        place["by_step"][row["ladder_step"]] = row["n"]
    return places


def _by_step(counts: dict[int, int]) -> list[int]:
    """Queued conversations at ladder step 0, 1, ... (up to the highest present)."""
    return [counts.get(step, 0) for step in range(max(counts, default=-1) + 1)]


def _members() -> dict[int, dict]:
    """Active members by team and presence; the load of them all (a member who went away
    or offline still holds conversations), how much of it is theirs, and the capacity of
    the online ones."""
    teams: dict[int, dict] = {}
    rows = (
        Membership.objects.filter(agent__is_active=True)
        .values("team_id", "agent__presence")
        .annotate(n=Count("agent_id"), load=Sum("agent__open_count"),
                  capacity=Sum("agent__capacity"))
        .order_by()
    )
    for row in rows:
        team = teams.setdefault(row["team_id"], {
            "agents": {value: 0 for value in Presence.values}, "load": 0,
            "load_not_online": 0, "capacity": 0,
        })
        presence = row["agent__presence"]
        team["agents"][presence] = team["agents"].get(presence, 0) + row["n"]
        team["load"] += row["load"] or 0
        if presence == Presence.ONLINE:
            team["capacity"] += row["capacity"] or 0
        else:
            team["load_not_online"] += row["load"] or 0
    return teams


def _last_hour(now: datetime) -> dict[int, dict]:
    """Each team's waits of the last hour, by the reports' definition of a wait
    (apps.reports.figures): the count, the median and how many were within the target."""
    rows = (
        figures.waits(now - LAST_HOUR, now + timedelta(microseconds=1))
        .filter(team__isnull=False)
        .values("team_id")
        .annotate(**figures.WAIT_FIGURES)
        .order_by()
    )
    return {row["team_id"]: row for row in rows}


def _hour_figures(sums: dict, past_target: int) -> dict:
    waits = sums.get("waits", 0)
    return {
        "assigned_last_hour": waits,
        "median_wait_seconds_last_hour": whole_seconds(sums.get("wait_p50")),
        "answered_within_target_pct": share_pct(
            sums.get("waits_within_target", 0), waits + past_target),
    }


def floor_stats(*, now: datetime | None = None) -> dict:
    """The answer of ``GET stats/teams`` (seven queries)."""
    now = now or timezone.now()
    teams = list(
        Team.objects.prefetch_related("opening_hours", "closed_dates").order_by("name", "id")
    )
    places = _places(teams, now)
    members = _members()
    hour = _last_hour(now)
    depth = depth_series(now=now)
    empty_members = {"agents": {value: 0 for value in Presence.values}, "load": 0,
                     "load_not_online": 0, "capacity": 0}

    def place(team_id, status) -> dict:
        return places.get((team_id, status), {})

    rows = []
    for team in teams:
        queued, reserved = place(team.pk, Status.QUEUED), place(team.pk, Status.RESERVED)
        state = team_state(team, now)
        crew = members.get(team.pk, empty_members)
        rows.append({
            "id": team.pk,
            "name": team.name,
            "queued": queued.get("n", 0),
            "queued_by_step": _by_step(queued.get("by_step", {})),
            "reserved": reserved.get("n", 0),
            "assigned": place(team.pk, Status.ASSIGNED).get("n", 0),
            "oldest_queued_seconds": _age(queued.get("oldest"), now),
            "oldest_queued_at": iso(queued.get("oldest")),
            "next_release_at": iso(reserved.get("next_release")),
            "agents": dict(crew["agents"]),
            "load": crew["load"],
            "load_not_online": crew["load_not_online"],
            "capacity": crew["capacity"],
            "waiting_past_target": queued.get("past_target", 0),
            **_hour_figures(hour.get(team.pk, {}), queued.get("past_target", 0)),
            "answer_target_seconds": team.answer_target_seconds,
            "open_now": state.open,
            "opens_at": iso(state.opens_at),
            "depth_last_hour": depth.get(team.pk, []),
        })
    waiting = place(None, Status.WAITING)
    return {
        "at": iso(now),
        "teams": rows,
        "waiting": waiting.get("n", 0),
        "oldest_waiting_seconds": _age(waiting.get("oldest"), now),
        "oldest_waiting_at": iso(waiting.get("oldest")),
    }
