"""The estimate of a conversation that requires skills counts only the agents eligible at
its current step (routing.md 9.7): its team's online members who meet every requirement in
force, with their capacity and room; the team's recent pace is scaled to their share of
the members online. Three queries for a whole list, only when something on it requires
skills. (Members of teams a ladder overflowed to are not counted: a conservative
estimate.)"""

from collections import defaultdict
from dataclasses import replace

from apps.accounts.models import Presence
from apps.skills import selectors as skill_selectors
from apps.teams.models import Membership


def eligible_paces(conversations, paces: dict) -> dict[int, tuple]:
    """{conversation id: (TeamPace of the eligible, how many are eligible online)} for the
    queued ``conversations`` with requirements in force."""
    wanted = [c for c in conversations if c.has_requirements]
    if not wanted:
        return {}
    needs = skill_selectors.requirements_in_force([c.pk for c in wanted])
    wanted = [c for c in wanted if needs.get(c.pk)]
    if not wanted:
        return {}
    members: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for team_id, agent_id, capacity, load in Membership.objects.filter(
        team_id__in={c.team_id for c in wanted}, agent__presence=Presence.ONLINE,
        agent__is_active=True,
    ).values_list("team_id", "agent_id", "agent__capacity", "agent__open_count"):
        members[team_id].append((agent_id, capacity, load))
    levels = skill_selectors.agents_skills(
        {a for rows in members.values() for a, _c, _l in rows}
    )
    found = {}
    for c in wanted:
        pace = paces.get(c.team_id)
        if pace is None:
            continue
        able = [
            (capacity, load) for agent_id, capacity, load in members.get(c.team_id, ())
            if all(levels.get(agent_id, {}).get(s, 0) >= m for s, m in needs[c.pk].items())
        ]
        share = len(able) / pace.online if pace.online else 0
        found[c.pk] = (
            replace(
                pace, online=len(able), slots=sum(cap for cap, _load in able),
                free=sum(max(cap - load, 0) for cap, load in able),
                assigned=round(pace.assigned * share),
            ),
            len(able),
        )
    return found
