"""Reads of skills and requirements, with fixed query counts, and eligibility as SQL.

An agent is eligible for a conversation when they meet every requirement still in force
(their level in the skill at least its minimum now). ``unmet_by(agent)`` is that rule as
a subquery, so that "the oldest conversation this agent can serve" is one indexed query.
"""

from collections import defaultdict

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from apps.core.errors import InvalidInput
from apps.skills.models import (
    MAX_LEVEL,
    MIN_LEVEL,
    AgentSkill,
    ConversationOverflow,
    ConversationRequirement,
    OrganizationRequirement,
    Skill,
)

Levels = dict[int, int]  # skill id -> level (an agent's) or minimum level (a requirement's)


def agents_skills(agent_ids) -> dict[int, Levels]:
    """Each agent's levels (one query)."""
    found: dict[int, Levels] = defaultdict(dict)
    for agent_id, skill_id, level in AgentSkill.objects.filter(
        agent_id__in=list(agent_ids)
    ).values_list("agent_id", "skill_id", "level"):
        found[agent_id][skill_id] = level
    return found


def requirements_in_force(conversation_ids) -> dict[int, Levels]:
    """Each conversation's requirements still in force (one query)."""
    found: dict[int, Levels] = defaultdict(dict)
    for conversation_id, skill_id, level in ConversationRequirement.objects.filter(
        conversation_id__in=list(conversation_ids), in_force=True
    ).values_list("conversation_id", "skill_id", "min_level"):
        found[conversation_id][skill_id] = level
    return found


def overflow_teams_of(conversation_ids) -> dict[int, list[int]]:
    found: dict[int, list[int]] = defaultdict(list)
    for conversation_id, team_id in ConversationOverflow.objects.filter(
        conversation_id__in=list(conversation_ids)
    ).values_list("conversation_id", "team_id"):
        found[conversation_id].append(team_id)
    return found


def requirements_for_contact(contact) -> Levels:
    """The requirements of the nearest organization node, going up from the contact's,
    that has any (one query; none without an organization)."""
    org = getattr(contact, "organization", None)
    if org is None:
        return {}
    rows = list(
        OrganizationRequirement.objects.filter(
            organization__tree_id=org.tree_id,
            organization__lft__lte=org.lft,
            organization__rght__gte=org.rght,
        )
        .order_by("-organization__level")
        .values_list("organization__level", "skill_id", "min_level")
    )
    if not rows:
        return {}
    nearest = rows[0][0]
    return {skill: level for node_level, skill, level in rows if node_level == nearest}


def parse_skill_names(spec) -> Levels:
    """``["english", {"skill": "billing", "min_level": 3}]`` (names) -> {skill id: level};
    an unknown skill or a bad level is a clear 400."""
    if not isinstance(spec, list):
        raise InvalidInput(
            _("skills is a list of skill names or {\"skill\": name, \"min_level\": 1-5}."),
            field="skills",
        )
    wanted: dict[str, int] = {}
    for item in spec:
        if isinstance(item, str):
            name, level = item, MIN_LEVEL
        elif isinstance(item, dict) and isinstance(item.get("skill"), str):
            name, level = item["skill"], item.get("min_level", MIN_LEVEL)
            if set(item) - {"skill", "min_level"}:
                raise InvalidInput(
                    _("A required skill has only skill and min_level."), field="skills"
                )
        else:
            raise InvalidInput(
                _("skills is a list of skill names or {\"skill\": name, \"min_level\": 1-5}."),
                field="skills",
            )
        if not isinstance(level, int) or isinstance(level, bool) or not (
            MIN_LEVEL <= level <= MAX_LEVEL
        ):
            raise InvalidInput(_("A minimum level is a whole number from 1 to 5."),
                               field="skills")
        wanted[name] = max(level, wanted.get(name, MIN_LEVEL))
    ids = dict(Skill.objects.filter(name__in=list(wanted)).values_list("name", "pk"))
    unknown = sorted(set(wanted) - set(ids))
    if unknown:
        raise InvalidInput(
            _("There is no skill named %(names)s.") % {"names": ", ".join(unknown)},
            field="skills",
        )
    return {ids[name]: level for name, level in wanted.items()}


def unmet_by(agent_ref) -> Exists:
    """A requirement in force of the outer conversation that the agent ``agent_ref`` (an
    expression: OuterRef, or a value) does not meet."""
    has_it = AgentSkill.objects.filter(
        agent_id=agent_ref, skill_id=OuterRef("skill_id"), level__gte=OuterRef("min_level")
    )
    return Exists(
        ConversationRequirement.objects.filter(
            conversation_id=OuterRef("pk"), in_force=True
        ).filter(~Exists(has_it))
    )


def requirement_rows(conversation_ids) -> dict[int, list[dict]]:
    """The API's ``requirements`` for each conversation (one query)."""
    found: dict[int, list[dict]] = defaultdict(list)
    for conversation_id, skill_id, name, level, in_force in (
        ConversationRequirement.objects.filter(conversation_id__in=list(conversation_ids))
        .order_by("skill__name")
        .values_list("conversation_id", "skill_id", "skill__name", "min_level", "in_force")
    ):
        found[conversation_id].append(
            {"skill": {"id": skill_id, "name": name}, "min_level": level, "in_force": in_force}
        )
    return found
