"""The configuration a simulation runs: read once from the database (teams, members,
capacities), or from a roster, then changed by a scenario. Only copies change: nothing
here writes (docs/simulation.md)."""

import copy
from datetime import datetime

from django.utils.translation import gettext as _

from apps.accounts.models import Presence
from apps.core.errors import InvalidInput
from apps.simulation.world import DEFAULT_PICK_UP_SECONDS, AgentSetup, Setup, TeamSetup
from apps.teams import hours
from apps.teams.models import DistributionMode, Membership, Team

TEAM_FIELDS = {
    "distribution_mode", "members", "answer_target_seconds", "first_reply_seconds",
    "offline_requeue_seconds", "after_hours_team", "pick_up_seconds", "ladder", "sticky_days",
    "name",
}
AGENT_FIELDS = {"capacity", "skills", "teams", "online", "name"}
MAX_CAPACITY = 1000


def current_teams(pick_up_seconds: float = DEFAULT_PICK_UP_SECONDS) -> dict[int, TeamSetup]:
    """Every team as configured now (three queries)."""
    teams = Team.objects.prefetch_related("opening_hours", "closed_dates")
    found = {}
    for team in teams:
        schedule = hours.schedule_of(team)
        found[team.pk] = TeamSetup(
            id=team.pk, name=team.name, mode=team.distribution_mode,
            answer_target_seconds=team.answer_target_seconds,
            pick_up_seconds=pick_up_seconds, first_reply_seconds=team.first_reply_seconds,
            offline_requeue_seconds=team.offline_requeue_seconds,
            after_hours_team=team.after_hours_team_id,
            schedule=None if schedule.always_open else schedule,
        )
    return found


def current_members(team_ids, seconds: float) -> list[AgentSetup]:
    """The active members of ``team_ids`` as they are now, all online the whole period."""
    agents: dict[int, AgentSetup] = {}
    rows = Membership.objects.filter(team_id__in=list(team_ids), agent__is_active=True)
    for agent_id, name, username, capacity, team_id in rows.order_by("agent_id").values_list(
        "agent_id", "agent__name", "agent__username", "agent__capacity", "team_id"
    ):
        agent = agents.setdefault(
            agent_id, AgentSetup(agent_id, name or username, capacity, set(), {},
                                 [(0.0, seconds)])
        )
        agent.teams.add(team_id)
    return list(agents.values())


def recorded_people(start: datetime, end: datetime) -> list[AgentSetup]:
    """Who was online when, with which teams and capacity, from the history of people
    (``apps.reports.timeline.people_over``)."""
    from apps.reports.timeline import people_over

    agents = []
    for pk, timeline in people_over(start=start, end=end).items():
        online, teams, changes, capacity = [], set(), [], timeline.initial.capacity
        for since, until, state in timeline.segments():
            teams |= state.teams
            if state.capacity != capacity:
                changes.append(((since - start).total_seconds(), state.capacity))
                capacity = state.capacity
            if state.presence == Presence.ONLINE and state.is_active:
                span = ((since - start).total_seconds(), (until - start).total_seconds())
                if online and online[-1][1] == span[0]:
                    online[-1] = (online[-1][0], span[1])
                else:
                    online.append(span)
        if online and teams:
            agents.append(AgentSetup(pk, timeline.name, timeline.initial.capacity, teams, {},
                                     online, changes))
    return agents


def roster_agents(roster: dict, seconds: float, teams: dict) -> list[AgentSetup]:
    """A roster ({"agents": [{"name", "id"?, "teams", "capacity", "skills"?, "online"?}]})."""
    entries = roster.get("agents") if isinstance(roster, dict) else None
    if not isinstance(entries, list):
        raise InvalidInput(_("A roster is {\"agents\": [...]}."), fields={"roster": ["agents"]})
    agents: list[AgentSetup] = []
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise InvalidInput(_("Each agent of the roster is an object."))
        agent = AgentSetup(
            id=entry.get("id") if isinstance(entry.get("id"), int) else 10**9 + number,
            name=str(entry.get("name") or f"#{number}")[:255], capacity=1, teams=set(),
        )
        change_agent(agent, entry, teams, seconds, where=_("roster"))
        if not entry.get("online") and "online" not in entry:
            agent.online = [(0.0, seconds)]
        agents.append(agent)
    return agents


def apply_scenario(setup: Setup, scenario: dict) -> Setup:
    """A copy of ``setup`` with the scenario's changes (api.md "Simulations, exactly")."""
    if not isinstance(scenario, dict) or set(scenario) - {"teams", "agents"}:
        raise InvalidInput(_("A scenario has \"teams\" and \"agents\" (both optional)."),
                           fields={"scenario": [_("Unknown key.")]})
    changed = copy.deepcopy(setup)
    for key, changes in _mapping(scenario.get("teams"), "teams").items():
        team = changed.teams.get(int(key)) if str(key).isdigit() else None
        if team is None:
            raise InvalidInput(_("Team %(team)s does not exist.") % {"team": key},
                               fields={"scenario": [_("Unknown team.")]})
        change_team(team, changes, changed)
    for key, changes in _mapping(scenario.get("agents"), "agents").items():
        agent = next((a for a in changed.agents if a.name == key or str(a.id) == str(key)),
                     None)
        if agent is None:  # a new agent: "two more agents in the afternoon"
            if not isinstance(changes, dict) or not changes.get("teams"):
                raise InvalidInput(
                    _("Agent %(agent)s is not in the roster: a new agent needs teams.")
                    % {"agent": key}, fields={"scenario": [_("Unknown agent.")]})
            agent = AgentSetup(10**9 + 10**6 + len(changed.agents), str(key)[:255], 1, set(),
                               online=[(0.0, changed.seconds)])
            changed.agents.append(agent)
        change_agent(agent, changes, changed.teams, changed.seconds, where=str(key))
    return changed


def _mapping(value, name: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(_("The scenario's %(name)s are an object by id or name.")
                           % {"name": name}, fields={"scenario": [name]})
    return value


def _whole(value, *, low: int, high: int, field: str, nullable: bool = False):
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(
            _("%(field)s must be a whole number from %(low)s to %(high)s.")
            % {"field": field, "low": low, "high": high}, fields={field: [_("Out of range.")]})
    return value


def change_team(team: TeamSetup, changes: dict, setup: Setup) -> None:
    if not isinstance(changes, dict) or set(changes) - TEAM_FIELDS:
        raise InvalidInput(
            _("A team's changes may name: %(fields)s.")
            % {"fields": ", ".join(sorted(TEAM_FIELDS))},
            fields={"scenario": [_("Unknown team field.")]})
    if "distribution_mode" in changes:
        if changes["distribution_mode"] not in DistributionMode.values:
            raise InvalidInput(_("distribution_mode is manual, sequential or capacity."),
                               fields={"distribution_mode": [_("Unknown mode.")]})
        team.mode = changes["distribution_mode"]
    for name in ("answer_target_seconds", "first_reply_seconds", "offline_requeue_seconds"):
        if name in changes:
            setattr(team, name, _whole(changes[name], low=1, high=30 * 86400, field=name,
                                       nullable=name != "answer_target_seconds"))
    if "pick_up_seconds" in changes:
        team.pick_up_seconds = float(_whole(changes["pick_up_seconds"], low=0, high=86400,
                                            field="pick_up_seconds"))
    if "sticky_days" in changes:
        team.sticky_days = _whole(changes["sticky_days"], low=0, high=3650,
                                  field="sticky_days", nullable=True)
    if "after_hours_team" in changes:
        other = changes["after_hours_team"]
        if other is not None and (other not in setup.teams or other == team.id):
            raise InvalidInput(_("after_hours_team must be another existing team."),
                               fields={"after_hours_team": [_("Unknown team.")]})
        team.after_hours_team = other
    if "ladder" in changes:
        if not isinstance(changes["ladder"], list):
            raise InvalidInput(_("A ladder is a list of steps."), fields={"ladder": ["list"]})
        team.ladder = changes["ladder"]
    if "members" in changes:
        members = changes["members"]
        if not isinstance(members, list):
            raise InvalidInput(_("members is a list of agent ids or names."),
                               fields={"members": ["list"]})
        wanted = {str(m) for m in members}
        for agent in setup.agents:
            if str(agent.id) in wanted or agent.name in wanted:
                agent.teams.add(team.id)
            else:
                agent.teams.discard(team.id)


def change_agent(agent: AgentSetup, changes, teams: dict, seconds: float, *, where) -> None:
    if not isinstance(changes, dict) or set(changes) - AGENT_FIELDS - {"id"}:
        raise InvalidInput(
            _("%(agent)s: an agent's fields are %(fields)s.")
            % {"agent": where, "fields": ", ".join(sorted(AGENT_FIELDS))},
            fields={"agents": [_("Unknown agent field.")]})
    if "capacity" in changes:
        agent.capacity = _whole(changes["capacity"], low=0, high=MAX_CAPACITY, field="capacity")
        agent.capacity_changes = []
    if "teams" in changes:
        ids = changes["teams"]
        if not isinstance(ids, list) or any(t not in teams for t in ids):
            raise InvalidInput(_("%(agent)s: teams must be ids of existing teams.")
                               % {"agent": where}, fields={"teams": [_("Unknown team.")]})
        agent.teams = set(ids)
    if "skills" in changes:
        skills = changes["skills"]
        if not isinstance(skills, list) or not all(
            isinstance(s, dict) and isinstance(s.get("skill"), str | int)
            and not isinstance(s.get("skill"), bool) for s in skills
        ):
            raise InvalidInput(_("skills is [{\"skill\": name, \"level\": 1-5}]."),
                               fields={"skills": ["list"]})
        agent.skills = {
            s["skill"]: _whole(s.get("level", 1), low=1, high=5, field="level") for s in skills
        }
    if "online" in changes:
        agent.online = _intervals(changes["online"], seconds, where)


def _intervals(value, seconds: float, where) -> list[tuple[float, float]]:
    spans = []
    if not isinstance(value, list):
        value = [value]
    for span in value:
        ok = (isinstance(span, list | tuple) and len(span) == 2
              and all(isinstance(v, int | float) and not isinstance(v, bool) for v in span)
              and 0 <= span[0] <= span[1])
        if not ok:
            raise InvalidInput(_("%(agent)s: online is a list of [from, to] seconds.")
                               % {"agent": where}, fields={"online": [_("Invalid interval.")]})
        spans.append((float(span[0]), float(span[1])))
    merged: list[tuple[float, float]] = []
    for start, end in sorted(spans):  # overlapping spans are one stretch online
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        elif end > start:
            merged.append((start, end))
    return merged


ROSTER_COLUMNS = ("name", "teams", "capacity", "skills", "online")


def roster_from_csv(text: str) -> dict:
    """A roster file (docs/simulation.md): ``name``, ``teams`` ("3;4"), ``capacity``,
    ``skills`` ("english:3;billing"), ``online`` ("0-28800;30000-36000"; empty: the whole
    period). Returns the roster as the API takes it."""
    import csv
    import io

    reader = csv.DictReader(io.StringIO(text))
    missing = {"name", "teams", "capacity"} - set(reader.fieldnames or ())
    if missing:
        raise InvalidInput(_("The roster CSV lacks the columns: %(columns)s.")
                           % {"columns": ", ".join(sorted(missing))})
    agents = []
    for line, row in enumerate(reader, start=2):
        try:
            agent = {
                "name": row["name"],
                "teams": [int(t) for t in row["teams"].split(";") if t.strip()],
                "capacity": int(row["capacity"]),
            }
            skills = [s.strip() for s in (row.get("skills") or "").split(";") if s.strip()]
            agent["skills"] = [
                {"skill": s.partition(":")[0], "level": int(s.partition(":")[2] or 1)}
                for s in skills
            ]
            spans = [s.strip() for s in (row.get("online") or "").split(";") if s.strip()]
            if spans:
                agent["online"] = [[float(x) for x in s.split("-", 1)] for s in spans]
        except (TypeError, ValueError) as error:
            raise InvalidInput(_("Line %(line)s of the roster CSV: %(error)s")
                               % {"line": line, "error": error}) from error
        agents.append(agent)
    return {"agents": agents}
