"""The teams report: the figures of apps.reports.figures grouped by team and period (and
over the whole period), in a fixed number of queries: one per family of figures on
PostgreSQL, two elsewhere."""

from datetime import timedelta

from django.db import connection, transaction
from django.db.models import F, Q

from apps.reports import figures
from apps.reports.percentiles import share_pct, whole_seconds
from apps.reports.periods import DAY, Question, local_midnight, periods

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
    """(rows, team relation, moment column, sums) of each family of figures."""
    start, end = question.window()
    return [
        (figures.opened(start, end), "team", "created_at", figures.OPENED_SUMS),
        (figures.waits(start, end), "team", "assigned_at", figures.WAIT_SUMS),
        (figures.served(start, end), "team", "first_reply_at", figures.SERVED_SUMS),
        (figures.closed(start, end), "team", "closed_at", figures.CLOSED_SUMS),
        (figures.moves(start, end), "from_team", "at", figures.MOVE_SUMS),
        (figures.rated(start, end), "team", "rated_at", figures.RATING_SUMS),
    ]


def in_question(question: Question, team: str, moment: str) -> Q:
    """The rows of the asked teams whose moment falls within the asked days in their own
    team's zone: one range of instants per zone."""
    by_zone: dict[str, list[int]] = {}
    for each in question.teams:
        by_zone.setdefault(each.timezone, []).append(each.pk)
    condition = Q(pk__in=[])
    for zone, ids in by_zone.items():
        condition |= Q(**{
            f"{team}_id__in": ids,
            f"{moment}__gte": local_midnight(question.start_date, zone),
            f"{moment}__lt": local_midnight(question.end_date + timedelta(days=1), zone),
        })
    return condition


def _grouped(question: Question) -> tuple[dict, dict]:
    """{(team, period key): sums} and {team: sums over the whole period}: on PostgreSQL one
    query per family (grouping sets: the periods and each team's total from one scan),
    elsewhere two."""
    by_period, totals = {}, {}
    local = figures.LocalDay if question.group == DAY else figures.LocalHour
    single = single_period(question)
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            # Each family sorts its month of values once: in memory, not on disk.
            cursor.execute("SET LOCAL work_mem = '32MB'")
            for queryset, team, moment, sums in _families(question):
                rows = queryset.filter(in_question(question, team, moment))
                for row in _grouping_sets(rows, team, moment, sums, question.group, single):
                    team_id, period = row.pop("report_team"), row.pop("report_period")
                    if period is None:
                        totals.setdefault(team_id, {}).update(row)
                    else:
                        by_period.setdefault((team_id, period), {}).update(row)
        return by_period, totals
    for queryset, team, moment, sums in _families(question):
        rows = queryset.filter(in_question(question, team, moment))
        aggregates = figures.orm_sums(sums, team=team)
        keyed = rows.annotate(report_team=F(f"{team}_id"),
                              report_period=local(F(moment), F(f"{team}__timezone")))
        for row in keyed.values("report_team", "report_period").annotate(**aggregates).order_by():
            key = (row.pop("report_team"), row.pop("report_period"))
            by_period.setdefault(key, {}).update(row)
        if not single:
            for row in (rows.annotate(report_team=F(f"{team}_id")).values("report_team")
                        .annotate(**aggregates).order_by()):
                totals.setdefault(row.pop("report_team"), {}).update(row)
    return by_period, totals


def _grouping_sets(rows, team: str, moment: str, sums, group: str, single: bool) -> list[dict]:
    """One PostgreSQL statement: the figure's rows (the ORM's WHERE, each value computed
    once) grouped by team and period and, unless there is one period, by team alone.
    Percentiles of one column share one sort (``percentile_cont(ARRAY[...])``)."""
    columns = sorted({column for _n, _o, column, _a in sums if column})
    inner = rows.values(
        report_team=F(f"{team}_id"), report_moment=F(moment),
        report_zone=F(f"{team}__timezone"), report_target=F(f"{team}__answer_target_seconds"),
        **{f"c_{column}": F(column) for column in columns},
    ).order_by()
    inner_sql, params = inner.query.get_compiler(rows.db).as_sql()
    local = "(r.report_moment AT TIME ZONE r.report_zone)"
    period = (f"({local})::date" if group == DAY
              else f"r.report_moment - ({local} - date_trunc('hour', {local}))")
    selects, splits = [], []
    fractions: dict[str, list] = {}
    for name, operation, column, argument in sums:
        if operation == "percentile":
            fractions.setdefault(column, []).append((name, argument))
    for column, wanted in fractions.items():
        array = ", ".join(repr(float(fraction)) for _name, fraction in wanted)
        selects.append(f"percentile_cont(ARRAY[{array}]) WITHIN GROUP (ORDER BY c_{column})"
                       f" AS p_{column}")
        splits.append((f"p_{column}", [name for name, _fraction in wanted]))
    for name, operation, column, _argument in sums:
        if operation == "count":
            selects.append(f"count(*) AS {name}")
        elif operation == "within_target":
            selects.append(f"count(*) FILTER (WHERE c_{column} <= report_target) AS {name}")
        elif operation == "null":
            selects.append(f"count(*) FILTER (WHERE c_{column} IS NULL) AS {name}")
        elif operation == "equals":
            selects.append(f"count(*) FILTER (WHERE c_{column} = %s) AS {name}")
        elif operation == "at_least":
            selects.append(f"count(*) FILTER (WHERE c_{column} >= %s) AS {name}")
        elif operation == "avg":
            selects.append(f"avg(c_{column}) AS {name}")
    equals = [argument for _n, operation, _c, argument in sums
              if operation in ("equals", "at_least")]
    sets = "(report_team, report_period)" + ("" if single else ", (report_team)")
    sql = (
        f"SELECT report_team, report_period, {', '.join(selects)} FROM "
        f"(SELECT r.*, {period} AS report_period FROM ({inner_sql}) r) s "
        f"GROUP BY GROUPING SETS ({sets})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*equals, *params])  # the SELECT list comes first
        names = [column.name for column in cursor.description]
        out = []
        for values in cursor.fetchall():
            row = dict(zip(names, values, strict=True))
            for key, split in splits:
                for name, value in zip(split, row.pop(key) or [None] * len(split), strict=True):
                    row[name] = value
            out.append(row)
    return out


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
        "rating_avg": None if rating_avg is None else round(float(rating_avg), 2),
        "ratings": sums.get("ratings", 0),
        "starts_at": starts_at,
        "waits": waits,
        "wait_within_target_pct": share_pct(sums.get("waits_within_target", 0), waits),
        "closed": sums.get("closed", 0),
        **{f"rating_{score}": sums.get(f"rating_{score}", 0) for score in range(1, 6)},
        "by_step": [sums.get(f"served_step_{n}", 0) for n in range(figures.STEPS_SHOWN)],
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
