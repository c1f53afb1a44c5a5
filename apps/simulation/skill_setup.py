"""The skills side of a simulation's configuration (routing.md section 9): skills named
in a request resolved to ids, the current agents' levels, the teams' ladders and sticky
days, and the requirements a recorded conversation arrived with. Reads only."""

from django.utils.translation import gettext as _

from apps.core.errors import InvalidInput
from apps.simulation.world import Setup

MAX_LEVEL = 5


def skill_ids(keys) -> dict:
    """{name or id: id} for the skills named. A name Atende does not know yet is a skill of
    the simulated copy only ("what if two agents learned French?"), with an id of its own
    below zero; an unknown id is a 400."""
    from apps.skills.models import Skill

    keys = set(keys)
    if not keys:
        return {}
    names = {k for k in keys if isinstance(k, str)}
    ids = {k for k in keys if isinstance(k, int)}
    found = dict(Skill.objects.filter(name__in=names).values_list("name", "pk"))
    found.update((pk, pk) for pk in Skill.objects.filter(pk__in=ids).values_list("pk", flat=True))
    missing = sorted(str(k) for k in ids if k not in found)
    if missing:
        detail = _("There is no skill %(ids)s.") % {"ids": ", ".join(missing)}
        raise InvalidInput(detail, fields={"skills": [detail]})
    for number, name in enumerate(sorted(names - set(found)), start=1):
        found[name] = -number
    return found


def current_levels(agents) -> None:
    """Agents read from the database (not a roster) get their levels now."""
    from apps.skills.selectors import agents_skills

    levels = agents_skills(a.id for a in agents if a.id < 10**9)
    for agent in agents:
        if not agent.skills and agent.id in levels:
            agent.skills = dict(levels[agent.id])


def current_ladders(teams) -> None:
    from apps.skills.services import ladder_of
    from apps.teams.models import Team

    sticky = dict(Team.objects.filter(pk__in=list(teams)).values_list("pk", "sticky_days"))
    for pk, team in teams.items():
        team.ladder = list(ladder_of(pk))
        team.sticky_days = sticky.get(pk)


def resolve(setup: Setup, arrivals=None) -> None:
    """Names to ids, in place: agents' skills, ladders given as the API's lists,
    requirements of arrivals."""
    from apps.skills.services import Step, parse_ladder

    wanted = {k for a in setup.agents for k in a.skills}
    if arrivals is not None:
        wanted |= {k for a in arrivals for k, _level in a.requirements}
    ids = skill_ids(wanted)
    for agent in setup.agents:
        agent.skills = {ids[k]: level for k, level in agent.skills.items()}
    if arrivals is not None:
        for arrival in arrivals:
            if arrival.requirements:
                arrival.requirements = tuple((ids[k], level) for k, level in arrival.requirements)
    for pk, team in setup.teams.items():
        if team.ladder and not isinstance(team.ladder[0], Step):
            team.ladder = parse_ladder(team.ladder, team_id=pk)


def recorded_requirements(conversation_ids) -> dict[int, tuple]:
    """What each recorded conversation required when it arrived (before any step)."""
    from apps.skills.models import ConversationRequirement

    found: dict[int, list] = {}
    for conversation, skill, level in ConversationRequirement.objects.filter(
        conversation_id__in=list(conversation_ids)
    ).values_list("conversation_id", "skill_id", "original_level"):
        found.setdefault(conversation, []).append((skill, level))
    return {pk: tuple(sorted(levels)) for pk, levels in found.items()}


def uses_skills(setup: Setup, arrivals) -> bool:
    return any(t.ladder or t.sticky_days for t in setup.teams.values()) or any(
        a.skills for a in setup.agents) or any(a.requirements for a in arrivals)
