"""The figures of a simulated run (routing.md 10.5; docs/simulation.md defines each)."""

import bisect

from apps.reports.percentiles import percentile, share_pct
from apps.simulation.engine import Simulator
from apps.simulation.state import GONE

HISTOGRAM_EDGES = (0, 1, 15, 30, 60, 120, 300, 600)  # seconds; the last bin is open


def summarise(sim: Simulator) -> dict:
    """R of api.md "Simulations, exactly": overall, per team, per agent, and the charts."""
    by_team: dict[int, list] = {team_id: [] for team_id in sim.teams}
    for conv in sim.convs:
        if conv.team is not None:
            by_team[conv.team.id].append(conv)
    agents = [a for a in sim.agents.values() if a.cap_area > 0 or a.served]
    targets = {pk: team.s.answer_target_seconds for pk, team in sim.teams.items()}
    teams = []
    for pk, team in sorted(sim.teams.items()):
        members = [a for a in agents if any(t.id == pk for t in a.teams)]
        teams.append({
            "team": pk, "name": team.s.name,
            **figures(by_team[pk], targets, members),
            "queue_depth": [round(v, 2) for v in team.depth.means()],
        })
    depth = [0.0] * len(next(iter(sim.teams.values())).depth.buckets) if sim.teams else []
    for team in sim.teams.values():
        for index, value in enumerate(team.depth.means()):
            depth[index] += value
    size = next(iter(sim.teams.values())).depth.size if sim.teams else 0
    return {
        "overall": figures(sim.convs, targets, agents),
        "teams": teams,
        "agents": [
            {"id": a.id, "name": a.name, "served": a.served,
             "occupancy": round(a.load_area / a.cap_area, 4) if a.cap_area else None}
            for a in sorted(agents, key=lambda a: (a.name, a.id))
        ],
        "histogram": {"edges": list(HISTOGRAM_EDGES), "counts": histogram(sim.convs)},
        "queue_depth": {"bucket_seconds": round(size, 3), "overall": [round(v, 2) for v in depth]},
    }


def figures(convs, targets: dict[int, int], agents) -> dict:
    """F: conversations, served, abandoned, waits, within target, by ladder step."""
    waits = [c.wait for c in convs if c.wait is not None]
    served = len(waits)
    abandoned = sum(1 for c in convs if c.status == GONE)
    within = sum(
        1 for c in convs
        if c.wait is not None and c.wait <= targets.get(c.team.id if c.team else None, 0)
    )
    steps: list[int] = []
    for conv in convs:
        if conv.wait is not None:
            while len(steps) <= conv.step:
                steps.append(0)
            steps[conv.step] += 1
    return {
        "conversations": len(convs),
        "served": served,
        "abandoned": abandoned,
        "unserved": len(convs) - served - abandoned,
        "waited_share": round(sum(1 for w in waits if w > 0) / served, 4) if served else None,
        "wait_mean": round(sum(waits) / served, 2) if served else None,
        "wait_p50": rounded(percentile(waits, 0.5)),
        "wait_p90": rounded(percentile(waits, 0.9)),
        "wait_p95": rounded(percentile(waits, 0.95)),
        "within_target_pct": share_pct(within, served),
        "by_step": steps or [0],
        "occupancy": occupancy(agents),
        "evenness": evenness([a.served for a in agents]),
    }


def rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def occupancy(agents) -> float | None:
    """Load over capacity while online, all the agents together (0-1)."""
    capacity = sum(a.cap_area for a in agents)
    return round(sum(a.load_area for a in agents) / capacity, 4) if capacity else None


def evenness(counts: list[int]) -> float | None:
    """Jain's fairness index of the conversations each agent served: 1 when everyone
    served as many, 1/n when one agent served them all."""
    total = sum(counts)
    squares = sum(c * c for c in counts)
    return round(total * total / (len(counts) * squares), 4) if squares else None


def histogram(convs) -> list[int]:
    counts = [0] * len(HISTOGRAM_EDGES)
    for conv in convs:
        if conv.wait is not None:
            counts[bisect.bisect_right(HISTOGRAM_EDGES, conv.wait) - 1] += 1
    return counts
