"""The Reports page (``/reports/``): a supervisor chooses the period, grouping and teams and
reads the teams' figures as a table and charts, the agents' figures, and exports CSV; an
agent reads their own figures. The page's script (static/js/reports.js) reads the reports
API."""

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from apps.teams.models import Team


def page_strings() -> dict:
    return {
        "loading": _("Loading…"),
        "network_error": _("The server could not be reached. Try again in a moment."),
        "nothing": _("Nothing in this period."),
        "total": _("Total"),
        "conversations": _("Conversations"),
        "served": _("Served"),
        "abandoned": _("Abandoned"),
        "wait_p50": _("Wait p50"),
        "wait_p90": _("Wait p90"),
        "first_response_p50": _("First response p50"),
        "first_response_p90": _("First response p90"),
        "resolution_p50": _("Resolution p50"),
        "within_target_pct": _("Within target"),
        "transfers": _("Transfers"),
        "handovers": _("Handovers (no reply)"),
        "requeues": _("Requeues (offline)"),
        "overflowed": _("Overflows"),
        "rating": _("Rating"),
        "period": _("Period"),
        "team": _("Team"),
        "agent": _("Agent"),
        "online": _("Online"),
        "away": _("Away"),
        "busy": _("Busy"),
        "occupancy": _("Occupancy"),
        "ratings_count": _("%(n)s ratings"),
        "chart_volume": _("Conversations per period"),
        "chart_wait": _("Wait p90 (seconds) per period"),
        "chart_target": _("Served within target (%) per period"),
        "no_data": _("no data"),
        "seconds_short": _("%(n)s s"),
    }


@require_GET
@login_required
def reports(request):
    today = timezone.localdate()
    context = {
        "me": {"id": request.user.pk, "name": request.user.display_name,
               "is_supervisor": request.user.is_supervisor},
        "teams": list(Team.objects.order_by("name", "id").values("id", "name")),
        "defaults": {"from": (today - timedelta(days=6)).isoformat(), "to": today.isoformat()},
        "strings": page_strings(),
    }
    return render(request, "reports/index.html", context)
