"""The pages: the agents' inbox, the supervisors' view and the error pages. Reads go through
the routing selectors; every change is made by the page's script through the REST API."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_GET

from apps.accounts.models import Presence
from apps.accounts.selectors import agents_overview
from apps.conversations.models import EventKind, Status
from apps.conversations.selectors import queue_counts_for
from apps.conversations.visibility import script_table
from apps.core.time import iso
from apps.floor.stats import floor_stats
from apps.organizations.models import RuleType
from apps.teams.hours import team_state
from apps.teams.models import Membership, Team

# Channels the inbox names in words; any other channel is shown as it is stored.
CHANNELS = {
    "whatsapp": "WhatsApp", "webchat": gettext_lazy("Web chat"), "email": gettext_lazy("Email"),
    "telegram": "Telegram", "instagram": "Instagram", "phone": gettext_lazy("Phone"),
    "sms": "SMS", "bot": gettext_lazy("Bot"),
}


def _presence_label(value: str) -> str:
    return str(Presence(value).label) if value in Presence.values else value


def _me(user) -> dict:
    return {
        "id": user.pk,
        "name": user.display_name,
        "presence": user.presence,
        "presence_label": _presence_label(user.presence),
        "is_supervisor": user.is_supervisor,
        "is_admin": user.is_admin,
    }


def _agents() -> list[dict]:
    """Every active person, with their role and teams (the supervisor's assign lists put a
    conversation's team members first and leave administrators out)."""
    teams: dict[int, list[int]] = {}
    for agent_id, team_id in Membership.objects.order_by("team_id").values_list(
        "agent_id", "team_id"
    ):
        teams.setdefault(agent_id, []).append(team_id)
    return [
        {
            "id": agent.pk,
            "username": agent.username,
            "name": agent.display_name,
            "role": agent.role,
            "teams": teams.get(agent.pk, []),
            "presence": agent.presence,
            "presence_label": _presence_label(agent.presence),
            "open_count": agent.open_count,
            "capacity": agent.capacity,
        }
        for agent in agents_overview()
    ]


def page_strings() -> dict:
    """Texts the pages' scripts show, translated for the request's language (the scripts
    are plain ES modules: they get their texts from the page, one catalogue for all)."""
    strings = {
        # Where a conversation stands.
        "taken_by": _("Taken by %(name)s"),
        "assigned_to": _("Assigned to %(name)s"),
        "assigned_to_you": _("Assigned to you"),
        "reserved_for": _("Reserved for %(name)s"),
        "reserved_for_you": _("Reserved for you"),
        "queued_in": _("In the %(team)s queue"),
        "waiting": _("Waiting"),
        "closed": _("Closed"),
        "left_queue": _("%(contact)s was taken by %(name)s"),
        "moved_to": _("%(contact)s moved to %(team)s"),
        "out_of_sight": _(
            "This conversation is no longer yours to act on (%(where)s)."
        ),
        # Lists.
        "no_conversations": _("No conversations here."),
        "pick_conversation": _("Choose a conversation."),
        "loading": _("Loading…"),
        "load_more": _("Show more"),
        "search_results": _("Search: %(q)s"),
        "unread": _("Unread"),
        "waiting_for": _("Waiting for"),
        "last_activity": _("Last activity"),
        "preferred_agent_is": _("Preferred agent: %(name)s"),
        "wait_seconds": _("%(n)s s"),
        "wait_minutes": _("%(n)s min"),
        "wait_hours": _("%(h)s h %(m)s min"),
        "wait_days": _("%(d)s d %(h)s h"),
        # Time rules (routing.md 8): countdowns tick in the page; %(time)s is "2:31".
        "time_left": _("%(time)s left"),
        "reply_within": _("Reply within %(time)s"),
        "reply_due_title": _(
            "Reply before the time runs out, or the conversation goes to another agent."
        ),
        "reserved_title": _(
            "When the time runs out the conversation goes to its team, still starred."
        ),
        "team_closed": pgettext("a team", "Closed"),
        "team_closed_opens": pgettext("a team", "Closed · opens %(when)s"),
        "handed_over": _(
            "%(contact)s was taken back into %(team)s: no reply within %(time)s."
        ),
        # The thread.
        "older_messages": _("Show older messages"),
        "no_messages": _("No messages yet."),
        "agent": _("Agent"),
        "contact": _("Contact"),
        "you": _("You"),
        # Actions.
        "choose_target": _("Choose where…"),
        "teams": _("Teams"),
        "agents": _("Agents"),
        "transfer_anyway": _("Transfer anyway"),
        "assign_anyway": _("Assign anyway"),
        "agent_away": _("%(name)s is away: they may not answer soon."),
        "agent_offline": _("%(name)s is offline: they will not see it until they come back."),
        "agent_full": _(
            "%(name)s already has %(load)s open conversations (limit %(capacity)s)."
        ),
        "confirm_close": _("Close the conversation with %(contact)s?"),
        "close_it": _("Close it"),
        "confirm_ok": _("Yes, go ahead"),
        "error": _("Something went wrong. Try again."),
        "network_error": _("The server could not be reached. Try again in a moment."),
        # Work that announces itself.
        "announce_assigned": _("New conversation for you: %(contact)s"),
        "announce_reserved": _("%(contact)s is reserved for you"),
        "new_work": _("Atende: new conversation"),
        "announce_queued": _("New in %(team)s: %(contact)s"),
        "queue_alert_off": _("Alert me of new conversations in %(team)s"),
        "queue_alert_on": _("Alerting you of new conversations in %(team)s (press to stop)"),
        "sound_on": _("Sound: on"),
        "sound_off": _("Sound: off"),
        "notifications_on": _("Desktop notifications are on."),
        "notifications_blocked": _(
            "Desktop notifications are blocked: allow them in the browser's site settings."
        ),
        "notifications_unsupported": _("This browser has no desktop notifications."),
        # Presence and the connection.
        "online": _("Online"),
        "away": _("Away"),
        "offline": _("Offline"),
        "reconnecting": _("Reconnecting…"),
        "session_ended": _("Your session has ended."),
        "session_ended_detail": _("Taking you to the sign-in page…"),
        "access_changed": _("Your access has changed."),
        "access_changed_detail": _("Reloading the page…"),
        "access_changed_again": _("Reload the page or sign in again to go on."),
        "too_many_connections": _("Too many connections."),
        "too_many_connections_detail": _(
            "Close Atende in other tabs or windows. Trying again in %(n)s s."
        ),
        "live_paused": _("Live updates are paused."),
        "live_paused_detail": _(
            "The server cannot push changes right now: what you see here may be out of date "
            "until they resume."
        ),
        "go_away": _("Set away"),
        "go_online": _("Set online"),
        # The contact panel.
        "name": _("Name"),
        "organization": _("Organization"),
        "email": _("Email"),
        "phone": _("Phone"),
        "channel": _("Channel"),
        "external_id": _("External id"),
        "preferred_agent": _("Preferred agent"),
        "earlier_conversations": _("Earlier conversations"),
        "no_earlier": _("No earlier conversations."),
        # The supervisor page.
        "team": _("Team"),
        "in_queue": _("In queue"),
        "distribute": _("Distribute"),
        "distributed": _("%(n)s assigned; %(stayed)s still queued"),
        # Asked before distributing (the floor's confirmation, from GET teams/{id}/distribute).
        "distribute_ask": _("Distribute the queue of %(team)s now?"),
        "distribute_will_assign": _("To be assigned now: %(n)s (%(who)s)."),
        "distribute_will_stay": _(
            "To stay queued: %(n)s (nobody online has room for them; limits are never "
            "passed)."
        ),
        "distribute_nothing": _("Nobody online has room: %(n)s still queued."),
        "distribute_yes": _("Distribute"),
        "presence": _("Presence"),
        "load": _("Load"),
        "where": _("Where"),
        "assign_to": _("Assign to"),
        "assign": _("Assign"),
        "assign_label": _("Agent to assign %(contact)s to"),
        "choose_agent": _("Choose an agent…"),
        "assign_members": _("Members of %(team)s"),
        "assign_others": _("Other people"),
        "assign_people": _("People"),
        "assigned_ok": _("%(contact)s assigned to %(name)s."),
        "showing_n": _("(%(n)s)"),
        "showing_n_more": _("(%(n)s shown, more below)"),
        # The floor (the supervisor page's team cards).
        "floor_waiting_now": _("waiting now"),
        "floor_oldest": _("oldest:"),
        "floor_nobody": _("nobody waiting"),
        "floor_reserved": _("Reserved"),
        "floor_release_in": _("next released in"),
        "floor_assigned": _("Being answered"),
        "floor_agents": _("Agents"),
        "floor_last_hour": _("Last hour"),
        "floor_assigned_hour": _("Taken"),
        "floor_median": _("Median wait"),
        "floor_within": _("Within target"),
        "floor_target": _("target %(target)s"),
        "floor_open": _("Open"),
        "floor_closed": _("Closed"),
        "floor_closed_until": _("Closed · opens %(when)s"),
        "floor_chart": _(
            "Queue over the last hour (highest: %(max)s queued, %(reserved)s reserved)"),
        "floor_chart_queued": _("Queued: %(n)s"),
        "floor_chart_reserved": _("Reserved: %(n)s"),
        "floor_past_target": _("Waiting past the target now: %(n)s"),
        "floor_load_not_online": _("away or offline: %(n)s"),
        "floor_show": _("Conversations"),
        "floor_updated": _("Figures as of %(time)s"),
        "floor_team_title": _("Open conversations in %(team)s"),
        "floor_released_in": _("released in"),
        "read": _("Read"),
        "read_label": _("Read the conversation with %(contact)s"),
        "reader_title": _("Conversation with %(contact)s"),
    }
    strings.update({f"status_{value}": str(label) for value, label in Status.choices})
    strings.update({f"kind_{value}": str(label) for value, label in EventKind.choices})
    strings.update({f"rule_{value}": str(label) for value, label in RuleType.choices})
    strings.update({f"channel_{key}": str(label) for key, label in CHANNELS.items()})
    return strings


def _teams() -> list[dict]:
    """Every team with whether it is open now and when that changes (``open_now``,
    ``opens_at``, ``closes_at`` as the teams API gives them): three queries for any number
    of teams."""
    now = timezone.now()
    rows = []
    for team in Team.objects.order_by("name").prefetch_related("opening_hours", "closed_dates"):
        state = team_state(team, now)
        rows.append({
            "id": team.pk, "name": team.name, "open_now": state.open,
            "opens_at": iso(state.opens_at), "closes_at": iso(state.closes_at),
        })
    return rows


def _page_context(user) -> dict:
    return {
        "me": _me(user),
        "counts": queue_counts_for(user),
        "teams": _teams(),
        "agents": _agents(),
        "strings": page_strings(),
    }


@require_GET
@login_required
def inbox(request):
    context = _page_context(request.user)
    # Who sees what, as the script applies it (made from the rule itself).
    context["visibility"] = script_table()
    return render(request, "inbox/index.html", context)


@require_GET
@login_required
def supervisor(request):
    if not request.user.is_supervisor:
        raise PermissionDenied
    context = _page_context(request.user)
    context["stats"] = floor_stats()
    return render(request, "supervisor/index.html", context)
