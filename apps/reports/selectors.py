"""The teams report: the figures of apps.reports.figures grouped by team and period (and
over the whole period), in a fixed number of queries (two per family of figures)."""

from django.db.models import F, Q

from apps.reports import figures
from apps.reports.percentiles import share_pct, whole_seconds
from apps.reports.periods import DAY, Question, periods

TEAM_ROW_FIELDS = (
    "team", "team_name", "period", "conversations", "served", "abandoned", "wait_p50",
    "wait_p90", "first_response_p50", "first_response_p90", "resolution_p50",
    "within_target_pct", "transfers", "handovers", "requeues", "overflowed", "rating_avg",
    "ratings",
)
EXTRA_TEAM_FIELDS = (
    "starts_at", "waits", "wait_within_target_pct", "closed",
    "rating_1", "rating_2", "rating_3", "rating_4", "rating_5",
)


def _families(question: Question):
    """(queryset, team column, moment column, aggregates) of each family of figures."""
    start, end = question.window()
    team_ids = [team.pk for team in question.teams]
    return [
        (figures.opened(start, end), "team", "created_at", {"conversations": figures.Count("id")}),
        (figures.waits(start, end), "team", "assigned_at", figures.WAIT_FIGURES),
        (figures.served(start, end), "team", "first_reply_at", figures.SERVED_FIGURES),
        (figures.closed(start, end), "team", "closed_at", figures.CLOSED_FIGURES),
        (figures.moves(start, end), "from_team", "at", figures.MOVE_COUNTS),
        (figures.rated(start, end), "team", "rated_at", figures.RATING_FIGURES),
    ], team_ids


def _grouped(question: Question) -> tuple[dict, dict]:
    """{(team, period key): sums} and {team: sums over the whole period}."""
    by_period, totals = {}, {}
    local = figures.LocalDay if question.group == DAY else figures.LocalHour
    families, team_ids = _families(question)
    for queryset, team, moment, aggregates in families:
        zone = F(f"{team}__timezone")
        rows = queryset.filter(**{f"{team}_id__in": team_ids}).annotate(
            report_team=F(f"{team}_id"),
            report_day=figures.LocalDay(F(moment), zone),
        ).filter(Q(report_day__gte=question.start_date, report_day__lte=question.end_date))
        keyed = rows.annotate(report_period=local(F(moment), zone))
        for row in keyed.values("report_team", "report_period").annotate(**aggregates).order_by():
            key = (row.pop("report_team"), row.pop("report_period"))
            by_period.setdefault(key, {}).update(row)
        if not single_period(question):
            for row in rows.values("report_team").annotate(**aggregates).order_by():
                totals.setdefault(row.pop("report_team"), {}).update(row)
    return by_period, totals


def single_period(question: Question) -> bool:
    """One day by day: its row is its total (no second query)."""
    return question.group == DAY and question.start_date == question.end_date


def team_row(team, label, sums: dict, starts_at=None) -> dict:
    """One row of the teams report from the sums of the figures' queries."""
    def whole(name):
        return whole_seconds(sums.get(name))

    served = sums.get("served", 0)
    waits = sums.get("waits", 0)
    rating_avg = sums.get("rating_avg")
    row = {
        "team": team.pk, "team_name": team.name, "period": label,
        "conversations": sums.get("conversations", 0),
        "served": served,
        "abandoned": sums.get("abandoned", 0),
        "wait_p50": whole("wait_p50"), "wait_p90": whole("wait_p90"),
        "first_response_p50": whole("first_response_p50"),
        "first_response_p90": whole("first_response_p90"),
        "resolution_p50": whole("resolution_p50"),
        "within_target_pct": share_pct(sums.get("within_target", 0), served),
        **{name: sums.get(name, 0) for name in figures.MOVE_FIGURES.values()},
        "rating_avg": None if rating_avg is None else round(rating_avg, 2),
        "ratings": sums.get("ratings", 0),
        "starts_at": starts_at,
        "waits": waits,
        "wait_within_target_pct": share_pct(sums.get("waits_within_target", 0), waits),
        "closed": sums.get("closed", 0),
        **{f"rating_{score}": sums.get(f"rating_{score}", 0) for score in range(1, 6)},
    }
    return row


def teams_report(question: Question) -> dict:
    """``GET reports/teams``: a row per team and period (zeros and nulls where nothing
    happened) and a total per team over the whole period."""
    by_period, totals = _grouped(question)
    rows, total_rows = [], []
    for team in question.teams:
        team_periods = periods(question, team.timezone)
        for key, label, start, _end in team_periods:
            rows.append(team_row(
                team, label, by_period.get((team.pk, key), {}),
                starts_at=start.isoformat().replace("+00:00", "Z"),
            ))
        whole = (by_period.get((team.pk, team_periods[0][0]), {}) if single_period(question)
                 else totals.get(team.pk, {}))
        total = team_row(team, None, whole)
        total.pop("period")
        total.pop("starts_at")
        total_rows.append(total)
    return {
        "from": question.start_date.isoformat(), "to": question.end_date.isoformat(),
        "group": question.group, "rows": rows, "totals": total_rows,
    }
