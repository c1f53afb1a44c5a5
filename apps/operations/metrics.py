"""``/metrics`` (api.md "Operations"): Prometheus text computed at scrape time from what
every process shares, PostgreSQL and Redis, so any server answers the same whatever the
number of server and worker processes (no per-process counters to add up).

Six queries and one Redis round trip per scrape, whatever the number of teams:
teams, open conversations by status and team, active agents by presence, the assignment
waits histogram, routing decisions by outcome (the history), the last sweep.
"""

from datetime import timedelta

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)

from apps.accounts.models import Presence, Role, User
from apps.conversations.models import Conversation, ConversationEvent, EventKind, Status
from apps.inbox import presence
from apps.routing import selectors
from apps.teams.models import Team

OPEN_STATUSES = (Status.WAITING, Status.QUEUED, Status.RESERVED, Status.ASSIGNED)
NO_TEAM = ""  # the team label of Waiting (no team)
# Upper bounds of the assignment wait histogram, seconds (+Inf is added).
WAIT_BUCKETS = (5, 15, 30, 60, 120, 300, 600, 1800, 3600)


def conversations_metric() -> GaugeMetricFamily:
    metric = GaugeMetricFamily(
        "atende_conversations", "Open conversations by status and team (team \"\": Waiting).",
        labels=["status", "team"],
    )
    names = dict(Team.objects.values_list("pk", "name"))
    counts = {
        (status, team_id): n
        for status, team_id, n in Conversation.objects.filter(status__in=OPEN_STATUSES)
        .values("status", "team_id").annotate(n=Count("id")).values_list("status", "team_id", "n")
        .order_by()
    }
    metric.add_metric([Status.WAITING.value, NO_TEAM], counts.get((Status.WAITING, None), 0))
    for team_id, name in sorted(names.items(), key=lambda item: item[1]):
        for status in OPEN_STATUSES[1:]:
            metric.add_metric([status.value, name], counts.get((status, team_id), 0))
    return metric


def agents_metric() -> GaugeMetricFamily:
    metric = GaugeMetricFamily(
        "atende_agents", "Active agents by presence.", labels=["presence"]
    )
    counts = dict(
        User.objects.filter(is_active=True, role=Role.AGENT)
        .values("presence").annotate(n=Count("id")).values_list("presence", "n").order_by()
    )
    for value in Presence.values:
        metric.add_metric([value], counts.get(value, 0))
    return metric


def assignment_wait_metric() -> HistogramMetricFamily:
    """Each conversation's latest assignment: from entering its queue (``queued_at``) to
    being assigned (``assigned_at``), one aggregate query."""
    wait = ExpressionWrapper(F("assigned_at") - F("queued_at"), output_field=DurationField())
    figures = Conversation.objects.filter(
        assigned_at__isnull=False, queued_at__isnull=False
    ).annotate(wait=wait).aggregate(
        total=Sum("wait"),
        count=Count("id"),
        **{
            f"le_{bound}": Count("id", filter=Q(wait__lte=timedelta(seconds=bound)))
            for bound in WAIT_BUCKETS
        },
    )
    buckets = [(str(float(bound)), figures[f"le_{bound}"]) for bound in WAIT_BUCKETS]
    buckets.append(("+Inf", figures["count"]))
    total = figures["total"]
    metric = HistogramMetricFamily(
        "atende_assignment_wait_seconds",
        "From entering a queue to being assigned (each conversation's latest assignment).",
    )
    metric.add_metric([], buckets, sum_value=total.total_seconds() if total else 0.0)
    return metric


def routing_decisions_metric() -> CounterMetricFamily:
    metric = CounterMetricFamily(
        "atende_routing_decisions", "Routing decisions recorded in the history, by outcome.",
        labels=["outcome"],
    )
    counts = dict(
        ConversationEvent.objects.values("kind").annotate(n=Count("id"))
        .values_list("kind", "n").order_by()
    )
    for kind in EventKind.values:
        metric.add_metric([kind], counts.get(kind, 0))
    return metric


def websocket_metric() -> GaugeMetricFamily:
    metric = GaugeMetricFamily(
        "atende_websocket_connections", "Inbox websockets open, all server processes."
    )
    metric.add_metric([], presence.open_socket_count())
    return metric


def last_sweep_metric() -> GaugeMetricFamily:
    last = selectors.last_sweep_at()
    metric = GaugeMetricFamily(
        "atende_last_sweep_timestamp_seconds",
        "When the periodic routing sweep last finished (Unix time; 0: never).",
    )
    metric.add_metric([], last.timestamp() if last else 0.0)
    return metric


class AtendeCollector:
    """A prometheus_client collector whose every scrape reads the shared state."""

    def collect(self):
        yield conversations_metric()
        yield agents_metric()
        yield assignment_wait_metric()
        yield routing_decisions_metric()
        yield websocket_metric()
        yield last_sweep_metric()


def render() -> bytes:
    """The exposition text of one scrape (a registry of its own: nothing kept between)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(AtendeCollector())
    return generate_latest(registry)
