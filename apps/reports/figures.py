"""The figures of the reports and of the floor's last hour, defined once (docs/reports.md).

Every figure is counted at the moment its measurement completes, under the conversation's
team (for moves: the team it left), in that team's time zone:

- conversations: every conversation, at its arrival (``created_at``);
- wait: conversations whose latest assignment took them from a queue (a team's, a
  reservation or Waiting; a hand-over between agents since is no wait), at the assignment,
  ``assigned_at - queued_at``;
- served, first response: conversations an agent replied to, at the first reply,
  ``first_reply_at - created_at``; within target: those at most the team's
  ``answer_target_seconds``;
- abandoned: closed before any agent replied, at the close; resolution: closed ones,
  ``closed_at - created_at``;
- transfers, handovers, requeues, overflowed: history events ``transferred``,
  ``handed_over``, ``requeued``, ``overflowed``, at the event, under the team it left;
- rating: rated conversations (team and agent: where it closed), at ``rated_at``.

The querysets below are those definitions; ``apps.reports.selectors`` groups them by team
and period, ``apps.floor.stats`` by team over the last hour. Percentiles are continuous
(``percentile_cont``), seconds whole (``apps.reports.percentiles``).
"""

from datetime import datetime

from django.db.models import (
    Aggregate,
    Avg,
    Count,
    DateField,
    DateTimeField,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Greatest

from apps.conversations.models import (
    MOVEMENT_KINDS,
    Conversation,
    ConversationEvent,
    EventKind,
    Status,
)

OVERFLOWED = "overflowed"  # the ladder's event kind (routing.md section 9)
MOVE_FIGURES = {
    EventKind.TRANSFERRED.value: "transfers",
    EventKind.HANDED_OVER.value: "handovers",
    EventKind.REQUEUED.value: "requeues",
    OVERFLOWED: "overflowed",
}
assert set(MOVE_FIGURES) == set(MOVEMENT_KINDS)


# ----------------------------------------------------------------- expressions (both databases)


class Seconds(Func):
    """Seconds from ``start`` to ``end`` (a float)."""

    output_field = FloatField()

    def __init__(self, end, start):
        super().__init__(end, start)

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="EXTRACT(EPOCH FROM (%(expressions)s))",
            arg_joiner=" - ", **extra,
        )

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, function="atende_seconds", **extra)


class Epoch(Func):
    """Seconds since 1970 of a moment (a float: cheaper to read than a datetime)."""

    output_field = FloatField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)",
                           **extra)

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection,
            template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)", **extra,
        )


class LocalDay(Func):
    """The date of ``moment`` in the time zone named by ``zone`` (a column)."""

    output_field = DateField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="((%(expressions)s)::date)", arg_joiner=" AT TIME ZONE ",
            **extra,
        )

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, function="atende_local_day", **extra)


class LocalHour(Func):
    """The instant at which the local hour of ``moment`` began in ``zone``: two hours with
    the same clock time on the night clocks go back stay two."""

    output_field = DateTimeField()

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        zone_sql, zone_params = compiler.compile(self.source_expressions[1])
        local = f"({sql} AT TIME ZONE {zone_sql})"
        return (
            f"({sql} - ({local} - date_trunc('hour', {local})))",
            (*params, *params, *zone_params, *params, *zone_params),
        )

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, function="atende_local_hour", **extra)


class Percentile(Aggregate):
    """The continuous percentile of the rows' values (``fraction`` from 0 to 1)."""

    output_field = FloatField()
    allow_distinct = False

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, Value(fraction), **extra)

    def as_postgresql(self, compiler, connection, **extra):
        value_sql, value_params = compiler.compile(self.source_expressions[0])
        fraction = float(self.source_expressions[1].value)
        sql = f"percentile_cont({fraction!r}) WITHIN GROUP (ORDER BY {value_sql})"
        if self.filter is not None:
            filter_sql, filter_params = compiler.compile(self.filter)
            return f"{sql} FILTER (WHERE {filter_sql})", (*value_params, *filter_params)
        return sql, value_params

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, function="atende_percentile", **extra)


# ----------------------------------------------------------------- the rows of each figure


def in_window(moment: str, start: datetime, end: datetime) -> Q:
    return Q(**{f"{moment}__gte": start, f"{moment}__lt": end})


def opened(start: datetime, end: datetime) -> QuerySet:
    """Conversations: arrived in [start, end)."""
    return Conversation.objects.filter(in_window("created_at", start, end))


def waits(start: datetime, end: datetime) -> QuerySet:
    """Assignments from a queue in [start, end), with ``wait`` (seconds): the latest
    assignment, unless a hand-over between agents came at or after it (``handed_at``)."""
    return (
        Conversation.objects.filter(
            Q(handed_at__isnull=True) | Q(handed_at__lt=F("assigned_at")),
            in_window("assigned_at", start, end), queued_at__isnull=False,
        )
        .annotate(wait=Greatest(Seconds(F("assigned_at"), F("queued_at")), Value(0.0)))
    )


def served(start: datetime, end: datetime) -> QuerySet:
    """First agent replies in [start, end), with ``first_response`` (seconds)."""
    return Conversation.objects.filter(in_window("first_reply_at", start, end)).annotate(
        first_response=Greatest(Seconds(F("first_reply_at"), F("created_at")), Value(0.0))
    )


def closed(start: datetime, end: datetime) -> QuerySet:
    """Closes in [start, end), with ``resolution`` (seconds)."""
    return Conversation.objects.filter(
        in_window("closed_at", start, end), status=Status.CLOSED
    ).annotate(resolution=Greatest(Seconds(F("closed_at"), F("created_at")), Value(0.0)))


def moves(start: datetime, end: datetime) -> QuerySet:
    """Transfers, handovers, requeues and overflows in [start, end), by the team left."""
    return ConversationEvent.objects.filter(
        in_window("at", start, end), kind__in=MOVEMENT_KINDS, from_team__isnull=False
    )


def rated(start: datetime, end: datetime) -> QuerySet:
    return Conversation.objects.filter(in_window("rated_at", start, end))


# ----------------------------------------------------------------- what is summed over the rows
# Each sum is (name, operation, column, argument): "count" (rows), "percentile" (of the
# column's values, argument = fraction), "within_target" (rows whose column is at most the
# team's answer target), "null" (rows where the column is empty), "equals" (rows where the
# column equals the argument), "avg" (of the column). ``orm_sums`` makes them Django
# aggregates; apps.reports.selectors also writes them as SQL for PostgreSQL's grouping sets.

Sums = list[tuple[str, str, str | None, object]]

WAIT_SUMS: Sums = [
    ("waits", "count", None, None),
    ("wait_p50", "percentile", "wait", 0.5),
    ("wait_p90", "percentile", "wait", 0.9),
    ("waits_within_target", "within_target", "wait", None),
]
# Served at each step of the ladder: steps 0 to 4 one by one, the last count 5 and later.
STEPS_SHOWN = 6
SERVED_SUMS: Sums = [
    ("served", "count", None, None),
    ("first_response_p50", "percentile", "first_response", 0.5),
    ("first_response_p90", "percentile", "first_response", 0.9),
    ("within_target", "within_target", "first_response", None),
    *[(f"served_step_{n}", "equals", "served_step", n) for n in range(STEPS_SHOWN - 1)],
    (f"served_step_{STEPS_SHOWN - 1}", "at_least", "served_step", STEPS_SHOWN - 1),
]
CLOSED_SUMS: Sums = [
    ("closed", "count", None, None),
    ("abandoned", "null", "first_reply_at", None),
    ("resolution_p50", "percentile", "resolution", 0.5),
]
OPENED_SUMS: Sums = [("conversations", "count", None, None)]
MOVE_SUMS: Sums = [(name, "equals", "kind", kind) for kind, name in MOVE_FIGURES.items()]
RATING_SUMS: Sums = [
    ("ratings", "count", None, None),
    ("rating_avg", "avg", "rating_score", None),
    *[(f"rating_{score}", "equals", "rating_score", score) for score in range(1, 6)],
]


def orm_sums(sums: Sums, *, team: str = "team") -> dict:
    """The sums as Django aggregates over a figure's rows (``team``: the team's relation)."""
    out = {}
    for name, operation, column, argument in sums:
        if operation == "count":
            out[name] = Count("id")
        elif operation == "percentile":
            out[name] = Percentile(column, argument)
        elif operation == "within_target":
            out[name] = Count(
                "id", filter=Q(**{f"{column}__lte": F(f"{team}__answer_target_seconds")})
            )
        elif operation == "null":
            out[name] = Count("id", filter=Q(**{f"{column}__isnull": True}))
        elif operation == "equals":
            out[name] = Count("id", filter=Q(**{column: argument}))
        elif operation == "at_least":
            out[name] = Count("id", filter=Q(**{f"{column}__gte": argument}))
        elif operation == "avg":
            out[name] = Avg(column)
        else:
            raise ValueError(f"unknown operation {operation!r}")
    return out


WAIT_FIGURES = orm_sums(WAIT_SUMS)  # the floor's last hour
