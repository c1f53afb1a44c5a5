"""Skills configuration: agents' levels, organizations' requirements and teams' ladders.

Each writer is one transaction; changing an agent's skills writes a row of the history of
people (``apps.accounts.history.record_skills_change``), changing a team's ladder a row of
the history of configuration. What follows a ladder change for conversations already
queued is the routing engine's (``apps.routing.services.ladder.ladder_changed``).
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from apps.accounts.history import record_skills_change
from apps.core.errors import InvalidInput
from apps.core.limits import MAX_ID, MAX_WAIT_SECONDS
from apps.skills.models import (
    MAX_LEVEL,
    MIN_LEVEL,
    AgentSkill,
    LadderStep,
    LadderStepSkill,
    OrganizationRequirement,
    Skill,
    StepAction,
)
from apps.teams import config_cache

MAX_STEPS = 50


def skills_of(agent_id: int) -> list[dict]:
    """``[{"skill": id, "level": n}]`` by skill id: as the history and the API write them."""
    return [
        {"skill": skill, "level": level}
        for skill, level in AgentSkill.objects.filter(agent_id=agent_id)
        .order_by("skill_id")
        .values_list("skill_id", "level")
    ]


def _check_level(level, *, field: str) -> int:
    if not isinstance(level, int) or isinstance(level, bool) or not (
        MIN_LEVEL <= level <= MAX_LEVEL
    ):
        raise InvalidInput(_("A level is a whole number from 1 to 5."), field=field)
    return level


def _existing_skills(ids) -> dict[int, Skill]:
    found = Skill.objects.in_bulk(set(ids))
    missing = sorted(set(ids) - set(found))
    if missing:
        raise InvalidInput(
            _("There is no skill %(ids)s.") % {"ids": ", ".join(map(str, missing))},
            field="skills",
        )
    return found


def set_agent_skills(*, agent_id: int, levels: dict[int, int], actor) -> list[dict]:
    """Make the agent's skills exactly ``levels`` (skill id -> 1-5), recorded in the
    history of people. Returns them as ``skills_of`` does."""
    for level in levels.values():
        _check_level(level, field="skills")
    with transaction.atomic():
        _existing_skills(levels)
        before = skills_of(agent_id)
        AgentSkill.objects.filter(agent_id=agent_id).exclude(skill_id__in=list(levels)).delete()
        current = {row["skill"]: row["level"] for row in before}
        for skill_id, level in sorted(levels.items()):
            if skill_id not in current:
                AgentSkill.objects.create(agent_id=agent_id, skill_id=skill_id, level=level)
            elif current[skill_id] != level:
                AgentSkill.objects.filter(agent_id=agent_id, skill_id=skill_id).update(
                    level=level
                )
        after = skills_of(agent_id)
        record_skills_change(agent_id=agent_id, before=before, after=after, actor=actor)
    return after


def requirements_of_organization(organization_id: int) -> list[dict]:
    return [
        {"skill": skill, "min_level": level}
        for skill, level in OrganizationRequirement.objects.filter(
            organization_id=organization_id
        )
        .order_by("skill_id")
        .values_list("skill_id", "min_level")
    ]


def set_organization_requirements(*, organization_id: int, levels: dict[int, int]) -> None:
    """Make the node's required skills exactly ``levels`` (skill id -> minimum level);
    its contacts and those of the nodes below without their own inherit them."""
    for level in levels.values():
        _check_level(level, field="required_skills")
    with transaction.atomic():
        _existing_skills(levels)
        OrganizationRequirement.objects.filter(organization_id=organization_id).delete()
        OrganizationRequirement.objects.bulk_create(
            OrganizationRequirement(organization_id=organization_id, skill_id=s, min_level=m)
            for s, m in sorted(levels.items())
        )


# --------------------------------------------------------------------------- the ladder


@dataclass(frozen=True)
class Step:
    """One ladder step as the engine reads it (``skills`` empty with ``all_skills``:
    every requirement)."""

    after_seconds: int
    action: str
    skills: frozenset[int] = frozenset()
    all_skills: bool = False
    by: int | None = None
    team_id: int | None = None


def ladder_of(team_id: int) -> tuple[Step, ...]:
    """The team's steps in order: two queries the first time per configuration version."""
    return config_cache.remembered(("ladder", team_id), lambda: _read_ladder(team_id))


def _read_ladder(team_id: int) -> tuple[Step, ...]:
    steps = list(LadderStep.objects.filter(team_id=team_id).order_by("position"))
    links: dict[int, set[int]] = {}
    for step_id, skill_id in LadderStepSkill.objects.filter(
        step__team_id=team_id
    ).values_list("step_id", "skill_id"):
        links.setdefault(step_id, set()).add(skill_id)
    return tuple(
        Step(
            after_seconds=s.after_seconds, action=s.action,
            skills=frozenset(links.get(s.pk, ())), all_skills=s.all_skills, by=s.by,
            team_id=s.overflow_team_id,
        )
        for s in steps
    )


def steps_from_rows(rows) -> tuple[Step, ...]:
    """Steps from LadderStep rows whose ``skills`` were prefetched (lists of teams)."""
    return tuple(
        Step(
            after_seconds=s.after_seconds, action=s.action,
            skills=frozenset(skill.pk for skill in s.skills.all()), all_skills=s.all_skills,
            by=s.by, team_id=s.overflow_team_id,
        )
        for s in sorted(rows, key=lambda row: row.position)
    )


def ladder_payload(steps) -> list[dict]:
    """The API's ``ladder``."""
    payload = []
    for s in steps:
        row = {"after_seconds": s.after_seconds, "action": s.action}
        if s.action == StepAction.DROP:
            row["skills"] = None if s.all_skills else sorted(s.skills)
        elif s.action == StepAction.LOWER:
            row["skills"] = sorted(s.skills) or None
            row["by"] = s.by
        else:
            row["team"] = s.team_id
        payload.append(row)
    return payload


def parse_ladder(raw, *, team_id: int | None) -> list[Step]:
    """Validate a ladder as the API sends it; every refusal is a sentence saying why."""
    from apps.teams.models import Team  # teams' models import nothing of ours

    if not isinstance(raw, list) or len(raw) > MAX_STEPS:
        raise InvalidInput(
            _("A ladder is a list of at most %(max)s steps.") % {"max": MAX_STEPS},
            field="ladder",
        )
    steps: list[Step] = []
    previous = -1
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise InvalidInput(
                _("Step %(n)s is not an object.") % {"n": number}, field="ladder"
            )
        after = item.get("after_seconds")
        if not isinstance(after, int) or isinstance(after, bool):
            raise InvalidInput(
                _("Step %(n)s needs after_seconds, a whole number of seconds.") % {"n": number},
                field="ladder",
            )
        if after < 0:
            raise InvalidInput(
                _("Step %(n)s: a time cannot be negative.") % {"n": number}, field="ladder"
            )
        if after > MAX_WAIT_SECONDS:
            raise InvalidInput(
                _("Step %(n)s: at most %(max)s seconds (30 days).")
                % {"n": number, "max": MAX_WAIT_SECONDS}, field="ladder",
            )
        if after < previous:
            raise InvalidInput(
                _("Step %(n)s comes after %(after)s s but the step before it after %(before)s "
                  "s: list the steps in order of time.")
                % {"n": number, "after": after, "before": previous}, field="ladder",
            )
        previous = after
        action = item.get("action")
        if action not in StepAction.values:
            raise InvalidInput(
                _("Step %(n)s: “%(action)s” is not an action; use drop, lower or overflow.")
                % {"n": number, "action": action}, field="ladder",
            )
        skills = item.get("skills")
        if skills is not None and (
            not isinstance(skills, list) or len(skills) > 1000
            or not all(isinstance(s, int) and not isinstance(s, bool) for s in skills)
        ):
            raise InvalidInput(
                _("Step %(n)s: skills is a list of skill ids, or null.") % {"n": number},
                field="ladder",
            )
        if skills:
            found = set(Skill.objects.filter(
                pk__in=[s for s in skills if 0 < s <= MAX_ID]
            ).values_list("pk", flat=True))
            missing = sorted(set(skills) - found)
            if missing:
                raise InvalidInput(
                    _("Step %(n)s: there is no skill %(ids)s.")
                    % {"n": number, "ids": ", ".join(map(str, missing))}, field="ladder",
                )
        if action == StepAction.DROP:
            steps.append(Step(after, action, frozenset(skills or ()), all_skills=not skills))
        elif action == StepAction.LOWER:
            by = item.get("by")
            if not isinstance(by, int) or isinstance(by, bool) or not 1 <= by <= MAX_LEVEL:
                raise InvalidInput(
                    _("Step %(n)s: lower needs by, a whole number from 1 to 5.") % {"n": number},
                    field="ladder",
                )
            steps.append(Step(after, action, frozenset(skills or ()), by=by))
        else:
            target = item.get("team")
            if not isinstance(target, int) or isinstance(target, bool) or not (
                0 < target <= MAX_ID and Team.objects.filter(pk=target).exists()
            ):
                raise InvalidInput(
                    _("Step %(n)s: overflow needs team, the id of an existing team.")
                    % {"n": number}, field="ladder",
                )
            if target == team_id:
                raise InvalidInput(
                    _("Step %(n)s: a team cannot overflow to itself.") % {"n": number},
                    field="ladder",
                )
            steps.append(Step(after, action, team_id=target))
    return steps


def store_ladder(*, team_id: int, steps: list[Step]) -> None:
    """Replace the team's steps (inside the caller's transaction)."""
    LadderStep.objects.filter(team_id=team_id).delete()
    for position, s in enumerate(steps):
        row = LadderStep.objects.create(
            team_id=team_id, position=position, after_seconds=s.after_seconds,
            action=s.action, all_skills=s.all_skills, by=s.by, overflow_team_id=s.team_id,
        )
        LadderStepSkill.objects.bulk_create(
            LadderStepSkill(step=row, skill_id=skill) for skill in sorted(s.skills)
        )
    config_cache.configuration_changed()
