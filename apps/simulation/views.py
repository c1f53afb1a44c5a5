"""The simulation page (``/simulation/``): a supervisor builds a scenario (traffic, team
modes, capacities, extra agents), runs it through the simulations API and reads the
baseline and the scenario side by side, with charts. The script is
static/js/simulation.js."""

import json
from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from apps.accounts.models import User
from apps.skills.services import ladder_of, ladder_payload
from apps.teams.models import DistributionMode, Membership, Team


def page_strings() -> dict:
    return {
        "network_error": _("The server could not be reached. Try again in a moment."),
        "running": _("Simulating… %(pct)s"),
        "done": _("Done."),
        "failed": _("The simulation failed: %(error)s"),
        "baseline": _("Current configuration"),
        "scenario": _("Scenario"),
        "overall": _("All teams"),
        "figure": _("Figure"),
        "conversations": _("Conversations"),
        "served": _("Served"),
        "abandoned": _("Abandoned"),
        "unserved": _("Still waiting at the end"),
        "waited_share": _("Waited at all"),
        "wait_mean": _("Mean wait"),
        "wait_p50": _("Wait p50"),
        "wait_p90": _("Wait p90"),
        "wait_p95": _("Wait p95"),
        "within_target_pct": _("Within target"),
        "occupancy": _("Occupancy"),
        "evenness": _("Evenness (1 = even)"),
        "by_step": _("Served by ladder step"),
        "agent": _("Agent"),
        "chart_histogram": _("Waits: conversations served after…"),
        "chart_depth": _("Queue depth over the period"),
        "seconds_short": _("%(n)s s"),
        "hour_short": _("%(n)s h"),
        "no_teams": _("Choose at least one team with arrivals."),
        "ladder_invalid": _("The ladder of %(team)s is not valid JSON."),
    }


@require_GET
@login_required
def simulation(request):
    if not request.user.is_supervisor:
        raise PermissionDenied(_("Only supervisors run simulations."))
    teams = list(Team.objects.order_by("name", "id").values(
        "id", "name", "distribution_mode", "sticky_days"))
    for team in teams:
        team["ladder"] = json.dumps(ladder_payload(ladder_of(team["id"])))
    members: dict[int, list[int]] = {}
    for agent_id, team_id in Membership.objects.values_list("agent_id", "team_id"):
        members.setdefault(agent_id, []).append(team_id)
    agents = [
        {"id": pk, "name": name or username, "capacity": capacity,
         "teams": sorted(members.get(pk, []))}
        for pk, name, username, capacity in User.objects.filter(
            is_active=True, pk__in=list(members)
        ).order_by("name", "username", "pk").values_list("pk", "name", "username", "capacity")
    ]
    today = timezone.localdate()
    context = {
        "teams": teams,
        "agents": agents,
        "modes": DistributionMode.choices,
        "defaults": {"from": (today - timedelta(days=1)).isoformat(),
                     "to": (today - timedelta(days=1)).isoformat()},
        "page": {"teams": teams, "agents": agents},
        "strings": page_strings(),
    }
    return render(request, "simulation/index.html", context)
