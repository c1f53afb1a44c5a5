"""Skills through the API (api.md "Added for skills, the ladder..."): skills, agents'
levels with their history, organizations' requirements inherited down the tree, teams'
ladders and sticky days, and requirements named by inbound and route."""

import pytest

from apps.accounts.models import AgentChange, AgentChangeKind
from apps.conversations.models import Status
from apps.skills.models import AgentSkill, LadderStep, Skill
from apps.teams.models import ConfigurationChange, DistributionMode
from tests.api.conftest import client_for
from tests.factories import (
    AdminFactory,
    AgentFactory,
    IntegrationFactory,
    OrganizationFactory,
    SupervisorFactory,
    TeamFactory,
)

pytestmark = pytest.mark.django_db
V1 = "/api/v1/"


@pytest.fixture
def admin_user():
    return AdminFactory()


@pytest.fixture
def admin(admin_user):
    return client_for(admin_user)


@pytest.fixture
def english():
    return Skill.objects.create(name="english")


@pytest.fixture
def billing():
    return Skill.objects.create(name="billing")


def test_skills_are_listed_by_name_to_people_and_written_by_administrators(admin, english):
    assert admin.post(f"{V1}skills/", {"name": "billing"}, format="json").status_code == 201
    again = admin.post(f"{V1}skills/", {"name": "billing"}, format="json")
    assert again.status_code == 400 and "already exists" in str(again.json())
    agent = client_for(AgentFactory())
    assert [s["name"] for s in agent.get(f"{V1}skills/").json()] == ["billing", "english"]
    assert agent.post(f"{V1}skills/", {"name": "x"}, format="json").status_code == 403
    assert agent.patch(f"{V1}skills/{english.pk}/", {"name": "y"}, format="json").status_code \
        == 403


def test_deleting_a_skill_a_requirement_or_step_uses_is_a_conflict(admin, english, billing):
    team = TeamFactory()
    admin.patch(f"{V1}teams/{team.pk}/", {"ladder": [
        {"after_seconds": 60, "action": "drop", "skills": [english.pk]}]}, format="json")
    refused = admin.delete(f"{V1}skills/{english.pk}/")
    assert refused.status_code == 409
    assert Skill.objects.filter(pk=english.pk).exists()
    agent = AgentFactory()
    AgentSkill.objects.create(agent=agent, skill=billing, level=3)
    assert admin.delete(f"{V1}skills/{billing.pk}/").status_code == 204  # levels go with it
    assert not AgentSkill.objects.filter(agent=agent).exists()


def test_an_agents_skills_are_replaced_and_recorded_in_their_history(
    admin, admin_user, english, billing
):
    agent = AgentFactory()
    answer = admin.patch(f"{V1}agents/{agent.pk}/", {"skills": [
        {"skill": english.pk, "level": 3}, {"skill": billing.pk, "level": 1}]}, format="json")
    assert answer.status_code == 200
    assert answer.json()["skills"] == sorted(
        [{"skill": english.pk, "level": 3}, {"skill": billing.pk, "level": 1}],
        key=lambda s: s["skill"],
    )
    admin.patch(f"{V1}agents/{agent.pk}/", {"skills": [{"skill": english.pk, "level": 4}]},
                format="json")
    changes = list(AgentChange.objects.filter(agent=agent, kind=AgentChangeKind.SKILLS)
                   .order_by("at", "id"))
    assert [c.after for c in changes] == [
        sorted([{"skill": english.pk, "level": 3}, {"skill": billing.pk, "level": 1}],
               key=lambda s: s["skill"]),
        [{"skill": english.pk, "level": 4}],
    ]
    assert changes[1].before == changes[0].after and changes[1].actor == admin_user
    listed = admin.get(f"{V1}agents/").json()
    assert next(a for a in listed if a["id"] == agent.pk)["skills"] == [
        {"skill": english.pk, "level": 4}]


@pytest.mark.parametrize("skills", [
    [{"skill": 1, "level": 6}], [{"skill": 1, "level": 0}], [{"skill": 999999, "level": 2}],
    "english", [{"skill": 1}],
])
def test_bad_skills_change_nothing(admin, english, skills):
    agent = AgentFactory()
    AgentSkill.objects.create(agent=agent, skill=english, level=2)
    payload = [
        {**s, "skill": english.pk} if isinstance(s, dict) and s.get("skill") == 1 else s
        for s in skills
    ] if isinstance(skills, list) else skills
    answer = admin.patch(f"{V1}agents/{agent.pk}/", {"skills": payload}, format="json")
    assert answer.status_code == 400 and "detail" in answer.json()
    assert list(AgentSkill.objects.filter(agent=agent).values_list("level", flat=True)) == [2]
    assert not AgentChange.objects.filter(agent=agent, kind=AgentChangeKind.SKILLS).exists()


def test_an_organizations_requirements_are_inherited_by_the_nearest_node(
    admin, english, billing
):
    company = OrganizationFactory(name="ACME")
    sales = OrganizationFactory(name="Sales", parent=company)
    desk = OrganizationFactory(name="Desk", parent=sales)
    answer = admin.patch(f"{V1}organizations/{company.pk}/", {"required_skills": [
        {"skill": english.pk, "min_level": 2}]}, format="json")
    assert answer.status_code == 200
    assert answer.json()["required_skills"] == [{"skill": english.pk, "min_level": 2}]
    admin.patch(f"{V1}organizations/{sales.pk}/", {"required_skills": [
        {"skill": billing.pk}]}, format="json")
    bot = client_for(IntegrationFactory())
    team = TeamFactory(distribution_mode=DistributionMode.MANUAL)
    opened = bot.post(f"{V1}inbound", {
        "contact": {"external_id": "w:1", "organization": desk.pk}, "body": "hi",
        "team": team.pk}, format="json").json()
    assert opened["requirements"] == [
        {"skill": {"id": billing.pk, "name": "billing"}, "min_level": 1, "in_force": True}]
    other = bot.post(f"{V1}inbound", {
        "contact": {"external_id": "w:2", "organization": company.pk}, "body": "hi",
        "team": team.pk, "skills": [{"skill": "english", "min_level": 4}]}, format="json")
    assert other.json()["requirements"] == [
        {"skill": {"id": english.pk, "name": "english"}, "min_level": 4, "in_force": True}]
    assert other.json()["ladder_step"] == 0 and other.json()["next_step_at"] is None


def test_inbound_with_an_unknown_skill_is_refused_and_opens_nothing(english):
    bot = client_for(IntegrationFactory())
    answer = bot.post(f"{V1}inbound", {"contact": {"external_id": "w:9"}, "body": "hi",
                                       "skills": ["english", "klingon"]}, format="json")
    assert answer.status_code == 400 and "klingon" in str(answer.json())
    bad_level = bot.post(f"{V1}inbound", {"contact": {"external_id": "w:9"}, "body": "hi",
                                          "skills": [{"skill": "english", "min_level": 9}]},
                         format="json")
    assert bad_level.status_code == 400
    from apps.conversations.models import Conversation

    assert not Conversation.objects.exists()


def test_route_replaces_the_requirements(english, billing):
    bot = client_for(IntegrationFactory())
    team = TeamFactory()
    opened = bot.post(f"{V1}inbound", {"contact": {"external_id": "w:3"}, "body": "hi",
                                       "skills": ["english"]}, format="json").json()
    assert opened["status"] == Status.WAITING
    routed = client_for(SupervisorFactory()).post(
        f"{V1}conversations/{opened['id']}/route",
        {"team": team.pk, "skills": [{"skill": "billing", "min_level": 2}]}, format="json",
    )
    assert routed.status_code == 200
    assert routed.json()["requirements"] == [
        {"skill": {"id": billing.pk, "name": "billing"}, "min_level": 2, "in_force": True}]


def test_a_teams_ladder_and_sticky_days(admin, admin_user, english):
    team, suporte = TeamFactory(), TeamFactory(name="Suporte")
    ladder = [
        {"after_seconds": 60, "action": "drop", "skills": [english.pk]},
        {"after_seconds": 90, "action": "lower", "skills": None, "by": 1},
        {"after_seconds": 120, "action": "overflow", "team": suporte.pk},
        {"after_seconds": 300, "action": "drop", "skills": None},
    ]
    answer = admin.patch(f"{V1}teams/{team.pk}/", {"ladder": ladder, "sticky_days": 7},
                         format="json")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["ladder"] == ladder
    assert answer.json()["sticky_days"] == 7
    assert admin.get(f"{V1}teams/").json()[0]["ladder"] in (ladder, [])
    assert ConfigurationChange.objects.filter(team=team, field="ladder",
                                              actor=admin_user).exists()


@pytest.mark.parametrize(("ladder", "words"), [
    ([{"after_seconds": -1, "action": "drop"}], "negative"),
    ([{"after_seconds": 60, "action": "drop"}, {"after_seconds": 30, "action": "drop"}],
     "order"),
    ([{"after_seconds": 60, "action": "shout"}], "not an action"),
    ([{"after_seconds": 60, "action": "drop", "skills": [999999]}], "no skill"),
    ([{"after_seconds": 60, "action": "overflow", "team": "SELF"}], "itself"),
    ([{"after_seconds": 60, "action": "lower"}], "by"),
    ("steps", "list of at most"),
])
def test_a_bad_ladder_is_refused_with_a_sentence_and_changes_nothing(admin, ladder, words):
    team = TeamFactory()
    if isinstance(ladder, list):
        ladder = [{**s, "team": team.pk} if s.get("team") == "SELF" else s for s in ladder]
    answer = admin.patch(f"{V1}teams/{team.pk}/", {"ladder": ladder}, format="json")
    assert answer.status_code == 400
    assert words in str(answer.json())
    assert not LadderStep.objects.filter(team=team).exists()
