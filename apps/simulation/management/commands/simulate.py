"""``manage.py simulate request.json``: a "what if" in the terminal (docs/simulation.md).

The request is the JSON of ``POST /api/v1/simulations/``; ``--traffic-csv``,
``--roster-csv`` and ``--scenario`` replace its parts from files. Prints the baseline and
the scenario side by side, overall and per team (``--json``: the API's figures)."""

import json
import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.core.errors import DomainError
from apps.simulation import config, runner

ROWS = (
    ("conversations", "conversations"), ("served", "served"), ("abandoned", "abandoned"),
    ("unserved", "still waiting at the end"), ("waited_share", "share that waited"),
    ("wait_mean", "wait mean (s)"), ("wait_p50", "wait p50 (s)"), ("wait_p90", "wait p90 (s)"),
    ("wait_p95", "wait p95 (s)"), ("within_target_pct", "within target (%)"),
    ("occupancy", "occupancy"), ("evenness", "evenness (1 = even)"), ("by_step", "by step"),
)
BAR = 30


class Command(BaseCommand):
    help = "Replay traffic through the current configuration and a scenario, side by side."

    def add_arguments(self, parser):
        parser.add_argument("request", nargs="?", help="JSON file: the API's request body")
        parser.add_argument("--traffic-csv", help="CSV of arrivals (docs/simulation.md)")
        parser.add_argument("--roster-csv", help="CSV of agents (docs/simulation.md)")
        parser.add_argument("--scenario", help="JSON file: the scenario's changes")
        parser.add_argument("--seed", type=int)
        parser.add_argument("--json", action="store_true", help="print the figures as JSON")

    def handle(self, *args, **options):
        request = self._read_json(options["request"]) if options["request"] else {}
        if options["traffic_csv"]:
            request["traffic"] = {"csv": Path(options["traffic_csv"]).read_text()}
        if options["roster_csv"]:
            try:
                request["roster"] = config.roster_from_csv(
                    Path(options["roster_csv"]).read_text())
            except DomainError as refused:
                raise CommandError(refused.detail) from refused
        if options["scenario"]:
            request["scenario"] = self._read_json(options["scenario"])
        if options["seed"] is not None:
            request["seed"] = options["seed"]
        started = time.monotonic()
        try:
            result = runner.simulate(request, progress=self._bar)
        except DomainError as refused:
            raise CommandError(refused.detail) from refused
        self._bar(1.0)
        sys.stderr.write(f"  {time.monotonic() - started:.2f} s\n")
        if options["json"]:
            self.stdout.write(json.dumps(result, indent=2))
            return
        self._table("Overall", result["baseline"]["overall"], result["scenario"]["overall"])
        scenario_teams = {t["team"]: t for t in result["scenario"]["teams"]}
        for team in result["baseline"]["teams"]:
            if team["conversations"] or scenario_teams[team["team"]]["conversations"]:
                self._table(f"Team {team['team']} {team['name']}", team,
                            scenario_teams[team["team"]])

    def _read_json(self, name: str):
        try:
            return json.loads(Path(name).read_text())
        except (OSError, ValueError) as error:
            raise CommandError(f"{name}: {error}") from error

    def _bar(self, fraction: float) -> None:
        done = int(BAR * fraction)
        sys.stderr.write(f"\r[{'#' * done}{'.' * (BAR - done)}] {fraction * 100:5.1f}%")
        sys.stderr.flush()

    def _table(self, title: str, baseline: dict, scenario: dict) -> None:
        self.stdout.write(f"\n{title}")
        self.stdout.write(f"  {'':28}{'baseline':>14}{'scenario':>14}")
        for key, label in ROWS:
            self.stdout.write(f"  {label:28}{_shown(baseline.get(key)):>14}"
                              f"{_shown(scenario.get(key)):>14}")


def _shown(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return "/".join(str(v) for v in value)
    return str(value)
