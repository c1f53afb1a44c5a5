"""Why a conversation moved, stored as codes and parameters and rendered in the reader's
language.

A history event keeps its reason as a list of parts, each ``{"code": ..., "params": {...}}``.
The code names a sentence of ``SENTENCES``; the parameters fill it in. A parameter may itself
be a part (a nested phrase such as where a rule came from), and a few parameters name
something with a translated label (a presence). Rendering happens when someone reads the
history, in their language, so a supervisor reading in Portuguese sees Portuguese whatever
language the system wrote in.
"""

from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_noop as N_

from apps.accounts.models import Presence

Part = dict  # {"code": str, "params": dict}

SENTENCES: dict[str, str] = {
    # Where a new conversation goes (routing.md section 1).
    "no_rule": N_("No preferential rule applies."),
    "bot_chose_team": N_("The bot chose team %(team)s."),
    "default_team": N_("No team was named: the default team %(team)s."),
    "no_default_team": N_("No team was named and there is no default team."),
    "no_team_waiting": N_("No team and no default team: it waits in Waiting."),
    # Preferential rules (section 4) and where they came from.
    "source_contact": N_("contact %(contact)s"),
    "source_organization": N_("organization %(organization)s"),
    "source_inherited": N_("organization %(organization)s (inherited by %(node)s)"),
    "auto_rule_assigned": N_(
        "Automatic preferential rule on %(source)s: %(agent)s is online with free capacity, "
        "so it went straight to them."
    ),
    "auto_rule_reserved": N_(
        "Automatic preferential rule on %(source)s: %(agent)s is online but at their limit "
        "(%(load)s/%(capacity)s), so it waits reserved for them."
    ),
    "auto_rule_not_online": N_(
        "Automatic preferential rule on %(source)s names %(agent)s, who is %(presence)s: "
        "normal routing."
    ),
    "queue_rule_starred": N_("Queue preferential rule on %(source)s: starred for %(agent)s."),
    # Distribution inside a team (section 2).
    "team_manual": N_("Team %(team)s distributes by manual claim: it waits in the team queue."),
    "team_nobody_online": N_("No member of team %(team)s is online: it waits in the team queue."),
    "team_all_full": N_(
        "Every online member of team %(team)s is at their limit (%(loads)s): it waits in the "
        "team queue."
    ),
    "preferred_has_room": N_(
        "%(agent)s is the preferred agent and is online with free capacity "
        "(%(load)s/%(capacity)s)."
    ),
    "preferred_in_rotation": N_(
        "%(agent)s is the preferred agent and is online with free capacity."
    ),
    "by_capacity": N_(
        "By capacity among online members %(loads)s: %(agent)s had the most free capacity "
        "(%(free)s)."
    ),
    "by_capacity_tied": N_(
        "By capacity among online members %(loads)s: %(agent)s had the most free capacity "
        "(%(free)s) (tie broken by least recently assigned)."
    ),
    "by_rotation": N_("Sequential rotation among online members %(members)s: %(agent)s was next."),
    "backlog_preferred": N_(
        "Backlog distribution: %(agent)s is the preferred agent, online with free capacity "
        "(%(load)s/%(capacity)s)."
    ),
    "backlog_by_capacity": N_(
        "Backlog distribution (capacity, oldest first) among %(online)s online members: "
        "%(agent)s had the most free capacity (%(free)s of %(capacity)s)."
    ),
    "backlog_by_rotation": N_(
        "Backlog distribution (rotation) among %(online)s online members: %(agent)s was next."
    ),
    "backlog_by_rotation_within_limits": N_(
        "Backlog distribution (rotation, within limits) among %(online)s online members: "
        "%(agent)s was next with room (%(free)s of %(capacity)s free)."
    ),
    "distributed_on_demand": N_("Distributed on demand by %(actor)s."),
    "reserved_freed_capacity": N_(
        "Reserved for %(agent)s by an automatic preferential rule; they freed capacity "
        "(%(load)s/%(capacity)s before), so it went to them."
    ),
    "reservation_released": N_(
        "The preferred agent %(agent)s is %(presence)s: the reservation was released into "
        "normal routing."
    ),
    # People's moves (section 3).
    "routed_by": N_("%(actor)s routed it to team %(team)s."),
    "claimed_from_waiting": N_("%(agent)s took it from Waiting (ATENDER)."),
    "claimed_reserved": N_("%(agent)s took it reserved for them (ATENDER)."),
    "claimed_from_team": N_("%(agent)s took it from the %(team)s queue (ATENDER)."),
    "supervisor_assigned": N_("Supervisor %(supervisor)s assigned it to %(agent)s."),
    "supervisor_reassigned": N_(
        "Supervisor %(supervisor)s assigned it to %(agent)s (it was with %(previous)s)."
    ),
    "transferred_to_agent": N_("%(actor)s transferred it to %(agent)s."),
    "transferred_to_team": N_("%(actor)s transferred it to team %(team)s."),
    "closed_by": N_("%(actor)s closed it."),
    "rated": N_("The customer rated it %(score)s of 5."),
    # Time rules (docs/time-rules.md). %(limit)s is a number of seconds, read as a duration.
    "reservation_limit": N_("It waits for them at most %(limit)s."),
    "auto_rule_busy_no_wait": N_(
        "Automatic preferential rule on %(source)s: %(agent)s is online but at their limit "
        "(%(load)s/%(capacity)s) and conversations do not wait for a busy agent: normal "
        "routing, starred for them."
    ),
    "reservation_expired": N_(
        "%(agent)s did not become free within %(limit)s: released into %(team)s, still "
        "starred for them."
    ),
    "reservation_expired_waiting": N_(
        "%(agent)s did not become free within %(limit)s: released into Waiting, still "
        "starred for them."
    ),
    "no_reply_handed_over": N_(
        "%(agent)s did not reply within %(limit)s: taken back into %(team)s, and it will not "
        "go back to them automatically."
    ),
    "deactivated_given_back": N_(
        "%(agent)s was deactivated and can no longer answer: back into %(team)s."
    ),
    "deactivated_given_back_waiting": N_(
        "%(agent)s was deactivated and can no longer answer: back to Waiting."
    ),
    "offline_requeued": N_(
        "%(agent)s has been offline for %(limit)s: back into %(team)s for someone online."
    ),
    "team_closed_after_hours": N_(
        "Team %(team)s is closed (it opens %(opens)s): its after-hours team %(after)s takes "
        "new conversations."
    ),
    "team_closed_no_opening": N_(
        "Team %(team)s is closed with no opening ahead: its after-hours team %(after)s takes "
        "new conversations."
    ),
    # Skills, the last agent and the ladder (routing.md section 9). %(after)s is seconds.
    "requires": N_("It requires %(requirements)s."),
    "among_eligible": N_(
        "Requiring %(requirements)s: %(eligible)s of %(online)s online qualify. %(then)s"
    ),
    "team_none_eligible": N_(
        "No online member of team %(team)s with room has %(requirements)s: it waits in the "
        "team queue."
    ),
    "returning_contact": N_(
        "Returning contact: last served by %(agent)s, who is online with free capacity."
    ),
    "backlog_for_agent": N_(
        "Backlog distribution: %(agent)s became available (%(load)s/%(capacity)s) and this is "
        "the oldest conversation they can serve."
    ),
    "step_drop": N_(
        "After %(after)s nobody had taken it with %(requirements)s required: %(dropped)s no "
        "longer required."
    ),
    "step_lower": N_(
        "After %(after)s nobody had taken it with %(requirements)s required: minimum levels "
        "lowered by %(by)s (now %(now)s)."
    ),
    "step_overflow": N_(
        "After %(after)s nobody in %(team)s had taken it: the online members of %(overflow)s "
        "may take it too."
    ),
    "step_unchanged": N_(
        "After %(after)s the ladder's step %(step)s (%(action)s) changed nothing: passed."
    ),
    # Names without a person behind them.
    "the_system": N_("the system"),
}

# Parameters that carry a stored value whose label is translated when rendered.
_LABELLED_PARAMS = ("presence", "action")
# Parameters that carry a number of seconds, rendered as a duration ("5 minutes").
_DURATION_PARAMS = ("limit", "after")


def part(code: str, **params) -> Part:
    """One sentence of a reason. Unknown codes are a programming error, caught at once."""
    if code not in SENTENCES:
        raise KeyError(f"unknown reason code {code!r}")
    return {"code": code, "params": params}


def text(value: str) -> Part:
    """A reason written as plain text (history from before reasons had codes)."""
    return {"code": "text", "params": {"text": value}}


def render(parts) -> str:
    """The reason in the active language."""
    return " ".join(filter(None, (render_part(p) for p in parts or ())))


def render_part(item: Part) -> str:
    code = item.get("code")
    params = item.get("params") or {}
    if code not in SENTENCES:
        return str(params.get("text", ""))
    values = {key: _render_param(key, value) for key, value in params.items()}
    return gettext(SENTENCES[code]) % values


def _render_param(key: str, value):
    if isinstance(value, dict) and "code" in value:
        return render_part(value)
    if key == "action" and isinstance(value, str):
        from apps.skills.models import StepAction  # skills' models import nothing of ours

        return str(StepAction(value).label).lower() if value in StepAction.values else value
    if key in _LABELLED_PARAMS and isinstance(value, str):
        return str(Presence(value).label).lower() if value in Presence.values else value
    if key in _DURATION_PARAMS and isinstance(value, int | float):
        return duration(int(value))
    return value


def duration(seconds: int) -> str:
    """A number of seconds as people say it, in the active language: "90 seconds",
    "5 minutes", "1 hour 30 minutes", "2 days"."""
    days, rest = divmod(max(int(seconds), 0), 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if not (days or hours) and minutes < 2 and secs:
        return ngettext("%(n)d second", "%(n)d seconds", minutes * 60 + secs) % {
            "n": minutes * 60 + secs
        }
    pieces = [
        ngettext("%(n)d day", "%(n)d days", days) % {"n": days} if days else "",
        ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours} if hours else "",
        ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes} if minutes else "",
        ngettext("%(n)d second", "%(n)d seconds", secs) % {"n": secs} if secs else "",
    ]
    return " ".join(p for p in pieces if p) or ngettext(
        "%(n)d second", "%(n)d seconds", 0
    ) % {"n": 0}
