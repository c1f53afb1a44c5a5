"""The pages: the agents' inbox and the supervisors' view. Reads go through the routing
selectors; every change is made by the page's script through the REST API."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from apps.routing import selectors
from apps.teams.models import Team


def _me(user) -> dict:
    return {
        "id": user.pk,
        "name": user.display_name,
        "presence": user.presence,
        "is_supervisor": user.is_supervisor,
    }


def _agents() -> list[dict]:
    return [
        {
            "id": agent.pk,
            "username": agent.username,
            "name": agent.display_name,
            "presence": agent.presence,
            "open_count": agent.open_count,
            "capacity": agent.capacity,
        }
        for agent in selectors.agents_overview()
    ]


def page_strings() -> dict:
    """Texts the page's script shows, translated for the request's language."""
    return {
        "taken_by": _("Taken by %(name)s"),
        "assigned_to": _("Assigned to %(name)s"),
        "left_queue": _("%(contact)s was taken by %(name)s"),
        "moved_to": _("%(contact)s moved to %(team)s"),
        "closed": _("Closed"),
        "waiting": _("Waiting"),
        "queued_in": _("In the %(team)s queue"),
        "reserved_for": _("Reserved for %(name)s"),
        "no_conversations": _("No conversations here."),
        "pick_conversation": _("Choose a conversation."),
        "online": _("Online"),
        "away": _("Away"),
        "offline": _("Offline"),
        "go_away": _("Set away"),
        "go_online": _("Set online"),
        "disconnected": _("Reconnecting…"),
        "distributed": _("%(n)s assigned"),
        "error": _("Something went wrong. Try again."),
        "contact": _("Contact"),
        "you": _("You"),
        "assigned_ok": _("Assigned."),
    }


@require_GET
@login_required
def inbox(request):
    user = request.user
    return render(
        request,
        "inbox/index.html",
        {
            "me": _me(user),
            "counts": selectors.queue_counts_for(user),
            "teams": list(Team.objects.order_by("name").values("id", "name")),
            "agents": _agents(),
            "strings": page_strings(),
        },
    )


@require_GET
@login_required
def supervisor(request):
    user = request.user
    if not user.is_supervisor:
        raise PermissionDenied
    return render(
        request,
        "supervisor/index.html",
        {
            "me": _me(user),
            "counts": selectors.queue_counts_for(user),
            "agents": _agents(),
            "strings": page_strings(),
        },
    )
