"""The simulator's speed (issue 21): 100,000 simulated conversations with 200 agents
(four capacity teams of 50, lognormal handle times, customers who give up), run by
``manage.py simulate`` in a child process on an embedded SQLite configuration; this
process never imports Django. Prints the time per configuration (the command runs the
baseline and the scenario: two passes over the same traffic; target under 60 s each) and
the child's peak memory (resource.getrusage), beside a tiny run's for reference. Prints
figures, never asserts.

    python benchmarks/simulation_bench.py

BENCH_SIM_CONVERSATIONS (default 100,000) sets the traffic's size.
"""

import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONVERSATIONS = int(os.environ.get("BENCH_SIM_CONVERSATIONS", "100000"))
TEAMS, AGENTS, HOURS = 4, 200, 8
TEAMS_SQL = """
import json
from apps.teams.models import Team
ids = [Team.objects.create(name=f"Fila {n}", distribution_mode="capacity").pk for n in range(4)]
print(json.dumps(ids))
"""


def manage(env, *args, input_text=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          input=input_text, capture_output=True, text=True, check=True)


def request(team_ids, conversations: int) -> dict:
    per_team_hour = conversations / HOURS / len(team_ids)
    seconds = HOURS * 3600
    agents = []
    for n in range(AGENTS):
        online = [[0, seconds]] if n % 4 else ([[0, seconds / 2]] if n % 8 else [[seconds / 2,
                                                                                  seconds]])
        agents.append({"name": f"agent{n}", "teams": [team_ids[n % len(team_ids)]],
                       "capacity": 6, "online": online})
    return {
        "traffic": {"synthetic": {"seconds": seconds, "teams": [
            {"team": team, "arrivals_per_hour": per_team_hour,
             "handle_seconds": {"distribution": "lognormal", "mean": 280, "sd": 200},
             "patience_seconds": {"distribution": "exponential", "mean": 600}}
            for team in team_ids]}},
        "roster": {"agents": agents},
        "scenario": {"agents": {f"agent{n}": {"capacity": 7} for n in range(0, AGENTS, 2)}},
        "seed": 1,
    }


def simulate(env, body: dict, folder: Path) -> tuple[float, float, dict]:
    path = folder / "request.json"
    path.write_text(json.dumps(body))
    started = time.monotonic()
    done = manage(env, "simulate", str(path), "--json")
    wall = time.monotonic() - started
    found = re.search(r"([\d.]+) s\s*$", done.stderr.strip())
    engine = float(found.group(1)) if found else wall
    return wall, engine, json.loads(done.stdout)


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        env = {key: value for key, value in os.environ.items()
               if key not in ("DATABASE_URL", "REDIS_URL")}
        env.update(SQLITE_PATH=str(folder / "sim.sqlite3"),
                   SECRET_KEY=env.get("SECRET_KEY", "bench-simulation-" + "x" * 40))
        manage(env, "migrate", "--noinput", "-v0")
        team_ids = json.loads(manage(env, "shell", input_text=TEAMS_SQL).stdout.strip()
                              .splitlines()[-1])
        simulate(env, request(team_ids, 100), folder)
        tiny_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        wall, engine, result = simulate(env, request(team_ids, CONVERSATIONS), folder)
        peak_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    base, scenario = result["baseline"]["overall"], result["scenario"]["overall"]
    print(f"Simulator: {base['conversations']:,} conversations, {AGENTS} agents in {TEAMS} "
          f"capacity teams, {HOURS} h, baseline and scenario (manage.py simulate, a child "
          f"process):")
    print(f"  {engine / 2:.1f} s per configuration ({engine:.1f} s for both; the command's "
          f"wall time {wall:.1f} s with Django's start; target under 60 s per 100,000)")
    print(f"  peak memory of the child {peak_rss:.0f} MB (the largest child before it, "
          f"migrate or a 100-conversation run: "
          f"{tiny_rss:.0f} MB)")
    print(f"  baseline: served {base['served']:,}, abandoned {base['abandoned']:,}, wait p90 "
          f"{base['wait_p90']} s; scenario (half the agents at 7): served "
          f"{scenario['served']:,}, wait p90 {scenario['wait_p90']} s\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
