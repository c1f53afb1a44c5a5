import pytest

from apps.skills.models import AgentSkill, Skill


@pytest.fixture
def skill():
    """``skill("english")``: the skill of that name (created once)."""
    return lambda name: Skill.objects.get_or_create(name=name)[0]


@pytest.fixture
def give():
    """``give(agent, english=3, billing=1)``: the agent's levels."""

    def _give(agent, **levels):
        for name, level in levels.items():
            AgentSkill.objects.update_or_create(
                agent=agent, skill=Skill.objects.get_or_create(name=name)[0],
                defaults={"level": level},
            )
        return agent

    return _give


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """``with committed():`` runs what the change registers for after its commit (the
    distribution a freed capacity enqueues, in eager mode)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
