"""One simulation request, start to end: traffic and people, the baseline and the scenario
through the engine, the figures (api.md "Simulations, exactly"; docs/simulation.md)."""

from datetime import datetime, time, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from apps.core.errors import InvalidInput
from apps.simulation import config, skill_setup, traffic
from apps.simulation.figures import summarise
from apps.simulation.skilled import SkilledSimulator
from apps.simulation.world import Setup

MAX_SECONDS = 31 * 86400
MAX_ARRIVALS = 2_000_000
REQUEST_KEYS = {"traffic", "roster", "scenario", "seed", "pick_up_seconds"}


def prepare(request: dict) -> tuple[Setup, Setup, list]:
    """Check a request and build (baseline, scenario, arrivals); InvalidInput says what is
    wrong. Reads the database (the configuration, a recorded period), never writes."""
    if not isinstance(request, dict) or set(request) - REQUEST_KEYS:
        raise InvalidInput(
            _("A simulation takes: %(keys)s.") % {"keys": ", ".join(sorted(REQUEST_KEYS))},
            fields={"request": [_("Unknown key.")]})
    seed = request.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InvalidInput(_("seed is a whole number."), fields={"seed": [_("Not a number.")]})
    pick_up = request.get("pick_up_seconds", 30)
    if isinstance(pick_up, bool) or not isinstance(pick_up, int | float) or not (
        0 <= pick_up <= 86400
    ):
        raise InvalidInput(_("pick_up_seconds is a number of seconds from 0 to 86400."),
                           fields={"pick_up_seconds": [_("Out of range.")]})
    teams = config.current_teams(float(pick_up))
    skill_setup.current_ladders(teams)
    source = request.get("traffic")
    if not isinstance(source, dict) or len(source) != 1 or not (
        set(source) <= {"synthetic", "history", "csv"}
    ):
        raise InvalidInput(
            _("traffic is {\"synthetic\": {...}}, {\"history\": {\"from\", \"to\"}} or "
              "{\"csv\": text}."), fields={"traffic": [_("Unknown traffic.")]})
    roster = request.get("roster")
    start = None
    if "synthetic" in source:
        seconds, arrivals = traffic.synthetic(_synthetic(source["synthetic"], teams), seed)
    elif "csv" in source:
        if not isinstance(source["csv"], str):
            raise InvalidInput(_("csv is the text of the file."), fields={"traffic": ["csv"]})
        arrivals = traffic.from_csv(source["csv"])
        seconds = max((a.at for a in arrivals), default=0.0)
    else:
        start, end, team_ids = _period(source["history"], teams)
        seconds = (end - start).total_seconds()
        arrivals, samples = traffic.from_history(start, end, team_ids, seed)
    if len(arrivals) > MAX_ARRIVALS:
        raise InvalidInput(_("At most %(n)s conversations per simulation.") % {"n": MAX_ARRIVALS})
    unknown = {a.team for a in arrivals if a.team is not None} - set(teams)
    if unknown:
        raise InvalidInput(_("Team %(team)s does not exist.") % {"team": min(unknown)},
                           fields={"traffic": [_("Unknown team.")]})
    if roster is not None:
        agents = config.roster_agents(roster, seconds, teams)
    elif start is not None:
        agents = config.recorded_people(start, start + timedelta(seconds=seconds))
    else:
        agents = config.current_members({a.team for a in arrivals}, seconds)
    if roster is None:
        skill_setup.current_levels(agents)
    baseline = Setup(teams=teams, agents=agents, seconds=seconds, seed=seed)
    if start is not None:
        baseline.start = start
        if source["history"].get("handle") == "by_agent":
            baseline.handle_samples = samples
    scenario = config.apply_scenario(baseline, request.get("scenario") or {})
    skill_setup.resolve(baseline, arrivals)
    skill_setup.resolve(scenario)
    return baseline, scenario, arrivals


def simulate(request: dict, *, progress=None) -> dict:
    """{"baseline": R, "scenario": R}; ``progress(fraction)`` is told along the way."""
    baseline, scenario, arrivals = prepare(request)
    results = {}
    for index, (name, setup) in enumerate((("baseline", baseline), ("scenario", scenario))):
        told = None if progress is None else (
            lambda f, index=index: progress((index + f) / 2))
        results[name] = summarise(SkilledSimulator(setup, arrivals, progress=told).run())
    return results


def _synthetic(spec, teams) -> dict:
    if not isinstance(spec, dict):
        raise InvalidInput(_("synthetic is {\"seconds\", \"teams\": [...]}."),
                           fields={"traffic": ["synthetic"]})
    seconds = spec.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not (
        0 < seconds <= MAX_SECONDS
    ):
        raise InvalidInput(_("seconds is the length of the period, up to 31 days."),
                           fields={"seconds": [_("Out of range.")]})
    entries = spec.get("teams")
    if not isinstance(entries, list) or not entries:
        raise InvalidInput(_("synthetic traffic names at least one team."),
                           fields={"teams": [_("Empty.")]})
    expected = seconds / 3600
    checked = []  # the request itself stays as sent: it is stored and read again
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("team") not in teams:
            raise InvalidInput(_("Each synthetic team names an existing team by id."),
                               fields={"teams": [_("Unknown team.")]})
        rates = entry.get("arrivals_per_hour")
        rates_list = rates if isinstance(rates, list) else [rates]
        if not rates_list or any(
            isinstance(r, bool) or not isinstance(r, int | float) or not 0 <= r <= 100_000
            for r in rates_list
        ):
            raise InvalidInput(_("arrivals_per_hour is a number (or one per hour) from 0 to "
                                 "100,000."), fields={"arrivals_per_hour": [_("Out of range.")]})
        if max(rates_list) * expected > MAX_ARRIVALS:
            raise InvalidInput(_("At most %(n)s conversations per simulation.")
                               % {"n": MAX_ARRIVALS})
        if entry.get("handle_seconds") is None:
            raise InvalidInput(_("handle_seconds is required."),
                               fields={"handle_seconds": [_("Required.")]})
        requirements = entry.get("requirements") or []
        if not isinstance(requirements, list):
            raise InvalidInput(_("requirements is a list."), fields={"requirements": ["list"]})
        checked.append({**entry, "requirements": [_requirement(r) for r in requirements]})
    return {"seconds": float(seconds), "teams": checked}


def _requirement(value) -> tuple[str, int]:
    if isinstance(value, str):
        return (value, 1)
    if isinstance(value, dict) and isinstance(value.get("skill"), str | int) and not (
        isinstance(value.get("skill"), bool)
    ):
        level = value.get("min_level", 1)
        if not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 5:
            raise InvalidInput(_("min_level is from 1 to 5."), fields={"min_level": ["1-5"]})
        return (value["skill"], level)
    raise InvalidInput(_("A requirement is a skill name or {\"skill\", \"min_level\"}."),
                       fields={"requirements": [_("Invalid.")]})


def _period(spec, teams) -> tuple[datetime, datetime, list[int] | None]:
    if not isinstance(spec, dict) or spec.get("handle", "recorded") not in (
        "recorded", "by_agent"
    ):
        raise InvalidInput(_("history is {\"from\", \"to\", \"teams\"?, \"handle\"?: "
                             "\"recorded\" | \"by_agent\"}."),
                           fields={"traffic": ["history"]})
    try:
        first, last = parse_date(str(spec.get("from"))), parse_date(str(spec.get("to")))
    except ValueError:
        first = last = None
    if first is None or last is None or last < first or (last - first).days > 31 or (
        first.year < 1970 or last.year > 2999
    ):
        raise InvalidInput(_("from and to are dates (YYYY-MM-DD), to not before from, at most "
                             "31 days apart."), fields={"from": [_("Invalid.")]})
    team_ids = spec.get("teams")
    if team_ids is not None and (not isinstance(team_ids, list) or any(
        t not in teams for t in team_ids
    )):
        raise InvalidInput(_("teams are ids of existing teams."),
                           fields={"teams": [_("Unknown team.")]})
    zone = timezone.get_current_timezone()
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
    return start, end, team_ids
