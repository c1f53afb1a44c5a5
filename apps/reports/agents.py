"""The agents report and the list of ratings.

Its rows are the asked teams' members and whoever served those teams in the period (with
no team asked: every active person, and whoever served).

An agent's periods are in one time zone: the asked teams' zone when they share one, else
the server's (``TIME_ZONE``). Online and away seconds come from the history of people
(apps.reports.timeline); busy seconds are those with at least one open conversation
assigned to the agent; occupancy is the share of online seconds that were busy."""

from datetime import datetime

from django.conf import settings
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone

from apps.accounts.models import User
from apps.conversations.lifetime import alive_during
from apps.conversations.models import Conversation, ConversationEvent, EventKind, Status
from apps.reports import figures
from apps.reports.percentiles import whole_seconds
from apps.reports.periods import DAY, Question, periods
from apps.reports.timeline import people_over
from apps.teams.models import Membership

AGENT_ROW_FIELDS = (
    "agent", "agent_name", "period", "served", "first_response_p50", "online_seconds",
    "away_seconds", "busy_seconds", "occupancy", "rating_avg", "ratings",
)
RATING_FIELDS = ("conversation", "team", "agent", "score", "comment", "at")
TAKEN_AWAY_KINDS = (
    EventKind.TRANSFERRED, EventKind.ASSIGNED, EventKind.HANDED_OVER, EventKind.REQUEUED,
)


def report_zone(question: Question) -> str:
    zones = {team.timezone for team in question.teams}
    return zones.pop() if question.team_filter and len(zones) == 1 else settings.TIME_ZONE


def _agents(question: Question, start, end, only: User | None) -> list[tuple[int, str]]:
    if only is not None:
        return [(only.pk, only.display_name)]
    team_ids = [team.pk for team in question.teams]
    servers = Conversation.objects.filter(
        figures.in_window("first_reply_at", start, end), team_id__in=team_ids
    ).values("first_reply_by_id")
    if question.team_filter:  # the teams' members, and whoever served them
        asked = Q(pk__in=Membership.objects.filter(team_id__in=team_ids).values("agent_id"))
    else:  # every active person, and whoever served (deactivated since)
        asked = Q(is_active=True)
    people = User.objects.filter(asked | Q(pk__in=servers)).order_by("username")
    return [(person.pk, person.display_name) for person in people]


def _served(agent_ids, start, end, zone, group, teams):
    local = figures.LocalDay if group == DAY else figures.LocalHour
    rows = (
        figures.served(start, end).filter(first_reply_by_id__in=agent_ids, **teams)
        .annotate(report_period=local(F("first_reply_at"), figures.Value(zone)))
    )
    out = {}
    aggregates = {"served": figures.Count("id"),
                  "first_response_p50": figures.Percentile("first_response", 0.5)}
    for row in rows.values("first_reply_by_id", "report_period").annotate(**aggregates).order_by():
        out[(row["first_reply_by_id"], row["report_period"])] = row
    totals = {row["first_reply_by_id"]: row
              for row in rows.values("first_reply_by_id").annotate(**aggregates).order_by()}
    return out, totals


def _ratings(agent_ids, start, end, zone, group, teams):
    local = figures.LocalDay if group == DAY else figures.LocalHour
    rows = figures.rated(start, end).filter(assignee_id__in=agent_ids, **teams).annotate(
        report_period=local(F("rated_at"), figures.Value(zone))
    )
    aggregates = {"ratings": figures.Count("id"), "rating_avg": figures.Avg("rating_score")}
    out = {(row["assignee_id"], row["report_period"]): row
           for row in rows.values("assignee_id", "report_period").annotate(**aggregates)
           .order_by()}
    totals = {row["assignee_id"]: row
              for row in rows.values("assignee_id").annotate(**aggregates).order_by()}
    return out, totals


def holding(agent_ids, start: datetime, end: datetime, now: datetime) -> dict[int, list]:
    """Each agent's intervals holding open conversations that overlap [start, end), merged:
    the last holder's from the conversation (its latest assignment to its close, or now),
    earlier holders' from the history event that took it from them. Whoever held a
    conversation during the period held it while it was alive, so both reads start from the
    conversations alive during the period (an index on PostgreSQL): the cost follows the
    period asked, not the history kept before or after it."""
    intervals: dict[int, list] = {pk: [] for pk in agent_ids}
    epoch = figures.Epoch
    alive = alive_during(start, end)
    last = alive.filter(
        Q(closed_at__gte=start) | Q(closed_at__isnull=True),
        assignee_id__in=agent_ids, status__in=(Status.ASSIGNED, Status.CLOSED),
        assigned_at__lt=end,
    ).values_list("assignee_id", epoch(F("assigned_at")), epoch(F("closed_at")))
    for agent_id, since, until in last:
        intervals[agent_id].append((since, until if until is not None else now.timestamp()))
    taken_since = ConversationEvent.objects.filter(
        conversation_id=OuterRef("conversation_id"), at__lte=OuterRef("at"),
        to_assignee_id=OuterRef("from_assignee_id"), to_status=Status.ASSIGNED,
    ).exclude(pk=OuterRef("pk")).order_by("-at", "-id").values("at")[:1]
    earlier = (
        ConversationEvent.objects.filter(
            conversation_id__in=alive.values("pk"),
            kind__in=TAKEN_AWAY_KINDS, from_status=Status.ASSIGNED, at__gte=start,
            from_assignee_id__in=agent_ids,
        )
        .exclude(to_status=Status.ASSIGNED, to_assignee_id=F("from_assignee_id"))
        .annotate(since=Subquery(taken_since))
        .filter(since__lt=end)
        .values_list("from_assignee_id", epoch(F("since")), epoch(F("at")))
    )
    for agent_id, since, until in earlier:
        intervals[agent_id].append((since, until))
    return {pk: merge(spans) for pk, spans in intervals.items()}


def merge(spans):
    """Intervals (seconds since the epoch, or datetimes) as sorted, disjoint pairs of
    seconds."""
    merged = []
    for since, until in sorted(_seconds(a, b) for a, b in spans):
        if merged and since <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], until))
        elif until > since:
            merged.append((since, until))
    return merged


def _seconds(since, until) -> tuple[float, float]:
    if isinstance(since, datetime):
        return since.timestamp(), until.timestamp()
    return float(since), float(until)


def per_period(spans, bounds) -> list[float]:
    """Seconds of the sorted, disjoint ``spans`` within each of the sorted ``bounds``
    (start, end): one pass over both."""
    out, first = [], 0
    for start, end in bounds:
        while first < len(spans) and spans[first][1] <= start:
            first += 1
        total, n = 0.0, first
        while n < len(spans) and spans[n][0] < end:
            total += max(0.0, min(spans[n][1], end) - max(spans[n][0], start))
            n += 1
        out.append(total)
    return out


def intersect(first, second):
    out, i, j = [], 0, 0
    while i < len(first) and j < len(second):
        since, until = max(first[i][0], second[j][0]), min(first[i][1], second[j][1])
        if since < until:
            out.append((since, until))
        if first[i][1] < second[j][1]:
            i += 1
        else:
            j += 1
    return out


def agent_row(agent_id, name, label, *, served, ratings, online, away, busy, busy_online):
    rating_avg = ratings.get("rating_avg")
    return {
        "agent": agent_id, "agent_name": name, "period": label,
        "served": served.get("served", 0),
        "first_response_p50": whole_seconds(served.get("first_response_p50")),
        "online_seconds": whole_seconds(online), "away_seconds": whole_seconds(away),
        "busy_seconds": whole_seconds(busy),
        "occupancy": round(busy_online / online, 3) if online else None,
        "rating_avg": None if rating_avg is None else round(rating_avg, 2),
        "ratings": ratings.get("ratings", 0),
    }


def agents_report(question: Question, *, only: User | None = None) -> dict:
    """``GET reports/agents``: a row per agent and period, and a total per agent."""
    zone = report_zone(question)
    spans = periods(question, zone)
    start, end = spans[0][2], spans[-1][3]
    now = timezone.now()
    people = _agents(question, start, end, only)
    ids = [pk for pk, _name in people]
    # With teams asked, their conversations only.
    teams = {"team_id__in": [team.pk for team in question.teams]} if question.team_filter else {}
    served, served_totals = _served(ids, start, end, zone, question.group, teams)
    ratings, rating_totals = _ratings(ids, start, end, zone, question.group, teams)
    horizon = min(end, now)
    timelines = people_over(start=start, end=max(horizon, start), agent_ids=ids)
    held = holding(ids, start, end, now)
    bounds = [(since.timestamp(), until.timestamp()) for _k, _l, since, until in spans]
    busy_bounds = [(since, min(until, now.timestamp())) for since, until in bounds]
    whole = [(start.timestamp(), end.timestamp())]
    rows, totals = [], []
    for pk, name in people:
        segments = list(timelines[pk].segments())
        online = merge([(s, u) for s, u, state in segments if state.presence == "online"])
        away = merge([(s, u) for s, u, state in segments if state.presence == "away"])
        busy_online = intersect(held[pk], online)
        figures_by_period = zip(
            per_period(online, bounds), per_period(away, bounds),
            per_period(held[pk], busy_bounds), per_period(busy_online, bounds), strict=True,
        )
        for (key, label, _since, _until), (on, off, busy, both) in zip(
            spans, figures_by_period, strict=True
        ):
            rows.append(agent_row(
                pk, name, label, served=served.get((pk, key), {}),
                ratings=ratings.get((pk, key), {}), online=on, away=off, busy=busy,
                busy_online=both,
            ))
        total = agent_row(
            pk, name, None, served=served_totals.get(pk, {}), ratings=rating_totals.get(pk, {}),
            online=per_period(online, whole)[0], away=per_period(away, whole)[0],
            busy=per_period(held[pk], [(whole[0][0], min(whole[0][1], now.timestamp()))])[0],
            busy_online=per_period(busy_online, whole)[0],
        )
        total.pop("period")
        totals.append(total)
    return {"from": question.start_date.isoformat(), "to": question.end_date.isoformat(),
            "group": question.group, "rows": rows, "totals": totals}


def ratings_list(question: Question, *, only: User | None = None) -> dict:
    """``GET reports/ratings``: the ratings given in the period (each team's zone), newest
    first; the team and agent are where the conversation closed."""
    start, end = question.window()
    rows = (
        figures.rated(start, end)
        .filter(team_id__in=[team.pk for team in question.teams])
        .annotate(report_day=figures.LocalDay(F("rated_at"), F("team__timezone")))
        .filter(report_day__gte=question.start_date, report_day__lte=question.end_date)
    )
    if only is not None:
        rows = rows.filter(assignee=only)
    listed = [
        {"conversation": pk, "team": team, "agent": agent, "score": score, "comment": comment,
         "at": at.isoformat().replace("+00:00", "Z")}
        for pk, team, agent, score, comment, at in rows.order_by("-rated_at", "-id").values_list(
            "pk", "team_id", "assignee_id", "rating_score", "rating_comment", "rated_at")
    ]
    return {"from": question.start_date.isoformat(), "to": question.end_date.isoformat(),
            "rows": listed}
