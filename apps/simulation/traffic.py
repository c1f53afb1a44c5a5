"""Traffic for a simulation: synthetic (Poisson arrivals per hour and team, drawn handle
and patience times, a seed), a CSV file, or a recorded period of Atende's own history.
Every source gives the same thing: ``Arrival``s in order of time (docs/simulation.md)."""

import csv
import io
import math
import random
from datetime import datetime

from django.utils.translation import gettext as _

from apps.core.errors import InvalidInput
from apps.simulation.world import Arrival

CSV_COLUMNS = ("at", "team", "handle_seconds", "patience_seconds", "requirements", "contact")
DISTRIBUTIONS = ("exponential", "lognormal", "fixed")


def sampler(spec: dict | None, rng: random.Random, *, field: str):
    """A function drawing seconds from ``spec`` ({"distribution": "exponential", "mean"},
    {"distribution": "lognormal", "mean", "sd"} or {"distribution": "fixed", "value"});
    None gives None (nobody gives up)."""
    if spec is None:
        return lambda: None
    if not isinstance(spec, dict) or spec.get("distribution") not in DISTRIBUTIONS:
        raise InvalidInput(
            _("%(field)s needs a distribution: exponential, lognormal or fixed.")
            % {"field": field}, fields={field: [_("Unknown distribution.")]},
        )
    kind = spec["distribution"]
    names = {"exponential": ("mean",), "lognormal": ("mean", "sd"), "fixed": ("value",)}[kind]
    values = {}
    for name in names:
        value = spec.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float) or not (
            0 <= value <= 10**7 and math.isfinite(value)
        ):
            raise InvalidInput(
                _("%(field)s: %(name)s must be a number of seconds from 0 to 10,000,000.")
                % {"field": field, "name": name}, fields={field: [_("Give %s.") % name]},
            )
        values[name] = float(value)
    if kind == "fixed":
        return lambda: values["value"]
    mean = values["mean"]
    if mean <= 0:
        return lambda: 0.0
    if kind == "exponential":
        return lambda: rng.expovariate(1.0 / mean)
    sigma2 = math.log(1 + (values["sd"] / mean) ** 2)
    mu, sigma = math.log(mean) - sigma2 / 2, math.sqrt(sigma2)
    return lambda: rng.lognormvariate(mu, sigma)


def synthetic(spec: dict, seed: int) -> tuple[float, list[Arrival]]:
    """Poisson arrivals: ``arrivals_per_hour`` a number, or one number per hour of the period
    (repeated when shorter). Returns (seconds of the period, arrivals in order)."""
    rng = random.Random(seed)
    seconds = spec["seconds"]
    arrivals: list[Arrival] = []
    for entry in spec["teams"]:
        rates = entry["arrivals_per_hour"]
        rates = rates if isinstance(rates, list) else [rates]
        handle = sampler(entry.get("handle_seconds"), rng, field="handle_seconds")
        patience = sampler(entry.get("patience_seconds"), rng, field="patience_seconds")
        requirements = tuple(entry.get("requirements") or ())
        hours = math.ceil(seconds / 3600)
        for hour in range(hours):
            rate = rates[hour % len(rates)]
            end = min((hour + 1) * 3600, seconds)
            t = hour * 3600.0
            while rate > 0:
                t += rng.expovariate(rate / 3600.0)
                if t >= end:
                    break
                arrivals.append(Arrival(t, entry["team"], handle(), patience(), requirements))
    arrivals.sort(key=lambda a: a.at)
    return float(seconds), arrivals


def from_csv(text: str) -> list[Arrival]:
    """Rows of CSV_COLUMNS (docs/simulation.md): ``at`` seconds from the start, ``team`` an
    id, ``handle_seconds``, ``patience_seconds`` (empty: never gives up), ``requirements``
    ("english:2;billing"), ``contact`` (any key, optional)."""
    reader = csv.DictReader(io.StringIO(text))
    missing = {"at", "team", "handle_seconds"} - set(reader.fieldnames or ())
    if missing:
        raise InvalidInput(
            _("The traffic CSV lacks the columns: %(columns)s.")
            % {"columns": ", ".join(sorted(missing))}
        )
    arrivals = []
    for line, row in enumerate(reader, start=2):
        try:
            patience = (row.get("patience_seconds") or "").strip()
            arrivals.append(Arrival(
                float(row["at"]), int(row["team"]), float(row["handle_seconds"]),
                float(patience) if patience else None,
                parse_requirements(row.get("requirements") or ""),
                hash(row["contact"]) if row.get("contact") else None,
            ))
        except (TypeError, ValueError) as error:
            raise InvalidInput(
                _("Line %(line)s of the traffic CSV: %(error)s") % {"line": line, "error": error}
            ) from error
    arrivals.sort(key=lambda a: a.at)
    return arrivals


def parse_requirements(text: str) -> tuple:
    """"english:2;billing" -> (("english", 2), ("billing", 1))."""
    found = []
    for item in filter(None, (part.strip() for part in text.split(";"))):
        name, _sep, level = item.partition(":")
        found.append((name.strip(), int(level) if level else 1))
    return tuple(found)


def from_history(start: datetime, end: datetime, team_ids: list[int] | None,
                 seed: int) -> tuple[list[Arrival], dict]:
    """The conversations that arrived in [start, end): their team, how long the agent took
    (assignment to close), and, for those closed before anyone answered, when the customer
    gave up. One without a recorded handle time (never served, still open) gets one drawn
    from its team's recorded ones. Also returns each agent's recorded handle times per
    team ({(agent, team): [seconds]}), to draw from instead."""
    from apps.conversations.models import Conversation

    rows = Conversation.objects.filter(created_at__gte=start, created_at__lt=end)
    if team_ids:
        rows = rows.filter(team_id__in=team_ids)
    rows = rows.order_by("created_at", "id").values_list(
        "created_at", "team_id", "assigned_at", "closed_at", "first_reply_at", "contact_id",
        "assignee_id", "id",
    )
    rng = random.Random(seed)
    recorded: dict[int, list[float]] = {}
    by_agent: dict[tuple[int, int], list[float]] = {}
    pending = []
    for created, team, assigned, closed, replied, contact, agent, pk in rows.iterator(
        chunk_size=5000
    ):
        at = (created - start).total_seconds()
        handle = (closed - assigned).total_seconds() if assigned and closed else None
        gave_up = closed is not None and replied is None and assigned is None
        patience = (closed - created).total_seconds() if gave_up else None
        if handle is not None:
            recorded.setdefault(team, []).append(handle)
            by_agent.setdefault((agent, team), []).append(handle)
        pending.append([at, team, handle, patience, contact, pk])
    rules = rules_of({row[4] for row in pending})
    arrivals = []
    from apps.simulation.skill_setup import recorded_requirements

    required = recorded_requirements(row[5] for row in pending)
    for at, team, handle, patience, contact, pk in pending:
        if handle is None:
            sample = recorded.get(team) or [0.0]
            handle = rng.choice(sample)
        arrivals.append(Arrival(at, team, handle, patience, required.get(pk, ()), contact,
                                rules.get(contact)))
    return arrivals, by_agent


def rules_of(contact_ids) -> dict[int, tuple]:
    """The preferential rule that applies to each contact now (the nearest one going up the
    organization tree), as (type, agent id, reservation limit): three queries."""
    from apps.organizations.models import Contact, PreferentialRule
    from apps.organizations.selectors import with_applicable_rule
    from apps.routing.services.time_rules import reservation_limit

    applicable = dict(
        with_applicable_rule(Contact.objects.filter(pk__in=list(contact_ids)))
        .exclude(applicable_rule_id=None).values_list("pk", "applicable_rule_id")
    )
    rules = PreferentialRule.objects.in_bulk(set(applicable.values()))
    return {
        contact: (rules[rule].type, rules[rule].agent_id, reservation_limit(rules[rule]))
        for contact, rule in applicable.items()
    }
