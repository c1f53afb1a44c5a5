"""Every admin page opens for an administrator and is refused to an agent.

Driven by the admin registry, so a model registered later without a way to build an example
row here fails loudly instead of going untested.
"""

import pytest
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.accounts.models import AgentChange, IntegrationClient, Role, User
from apps.conversations.models import Conversation
from apps.organizations.models import Contact, Organization, PreferentialRule
from apps.routing import services as routing
from apps.skills.models import (
    AgentSkill,
    LadderStep,
    LadderStepSkill,
    OrganizationRequirement,
    Skill,
)
from apps.teams.models import ConfigurationChange, RoutingSettings, Team
from apps.webchat.models import WebChat
from apps.webhooks import services as webhooks
from apps.webhooks.models import Delivery
from tests.factories import (
    AgentFactory,
    ContactFactory,
    IntegrationFactory,
    OrganizationFactory,
    RuleFactory,
    TeamFactory,
    UserFactory,
)
from tests.helpers import arrive
from tests.webchat.helpers import make_webchat

pytestmark = pytest.mark.django_db

REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.label)
PAGES = ("changelist", "add", "change")


def _conversation():
    agent = AgentFactory()
    team = TeamFactory(agents=[agent])
    conversation = arrive(f"page-{Conversation.objects.count()}", body="Olá", team=team)
    routing.claim_conversation(conversation_id=conversation.pk, agent=agent)
    routing.close_conversation(conversation_id=conversation.pk, actor=agent)
    return conversation


def _delivery():
    """A webhook delivery of an integration's conversation (never sent here)."""
    bot = IntegrationFactory()
    bot.webhook_url = "http://127.0.0.1:9/hooks"
    webhooks.set_new_secret(bot)
    bot.save()
    conversation = arrive(f"hook-{Delivery.objects.count()}", team=TeamFactory(), actor=bot)
    return Delivery.objects.filter(conversation=conversation).first()


BUILDERS = {
    Group: lambda: Group.objects.create(name="Auditors"),
    User: lambda: AgentFactory(),
    IntegrationClient: lambda: IntegrationFactory(),
    Organization: lambda: OrganizationFactory(
        parent=OrganizationFactory(name="Parent Co"), name="Child Co"
    ),
    Contact: lambda: ContactFactory(organization=OrganizationFactory()),
    PreferentialRule: lambda: RuleFactory(organization=OrganizationFactory()),
    Team: lambda: TeamFactory(agents=[AgentFactory()]),
    RoutingSettings: lambda: RoutingSettings.load(),
    Conversation: _conversation,
    Delivery: _delivery,
    AgentChange: lambda: routing.set_capacity(
        agent_id=AgentFactory().pk, capacity=9, actor=None
    ).changes.get(kind="capacity"),
    ConfigurationChange: lambda: _configuration_change(),
    Skill: lambda: Skill.objects.create(name=f"skill-{Skill.objects.count()}"),
    AgentSkill: lambda: AgentSkill.objects.create(
        agent=AgentFactory(), skill=Skill.objects.create(name=f"s{Skill.objects.count()}"),
        level=3,
    ),
    OrganizationRequirement: lambda: OrganizationRequirement.objects.create(
        organization=OrganizationFactory(),
        skill=Skill.objects.create(name=f"r{Skill.objects.count()}"), min_level=2,
    ),
    LadderStep: lambda: _ladder_step(),
    WebChat: lambda: make_webchat(teams=[("Vendas", TeamFactory())])[0],
}


def _ladder_step():
    step = LadderStep.objects.create(team=TeamFactory(), position=0, after_seconds=60,
                                     action="drop", all_skills=True)
    LadderStepSkill.objects.create(
        step=step, skill=Skill.objects.create(name=f"l{Skill.objects.count()}")
    )
    return step


def _configuration_change():
    from apps.teams.services import update_team

    update_team(team=TeamFactory(), first_reply_seconds=60)
    return ConfigurationChange.objects.latest("id")


def page_url(model, page, obj=None):
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}"
    return reverse(name, args=[quote(obj.pk)] if page == "change" else [])


@pytest.fixture
def superuser():
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def role_admin():
    """An administrator created through the API: the admin role, no Django staff flag."""
    return UserFactory(username="boss", role=Role.ADMIN, is_staff=False)


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_every_registered_model_can_be_exercised(model):
    assert model in BUILDERS, f"add a builder for {model._meta.label} to {__name__}"


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
@pytest.mark.parametrize("who", ["superuser", "role_admin"])
def test_admin_page_opens_for_administrators(client, request, who, model, page):
    user = request.getfixturevalue(who)
    obj = BUILDERS[model]()
    client.force_login(user)
    model_admin = admin.site._registry[model]
    url = page_url(model, page, obj)
    response = client.get(url, follow=True)
    if page == "add" and not model_admin.has_add_permission(response.wsgi_request):
        assert response.status_code == 403
        return
    assert response.status_code == 200, url
    assert response.redirect_chain == [] or model is RoutingSettings


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_admin_page_is_refused_to_agents(client, model, page):
    obj = BUILDERS[model]()
    agent = AgentFactory(username="plain-agent")
    supervisor = UserFactory(username="plain-supervisor", role=Role.SUPERVISOR)
    for user in (agent, supervisor):
        client.force_login(user)
        response = client.get(page_url(model, page, obj))
        assert response.status_code in (302, 403)
        if response.status_code == 302:
            assert response["Location"].startswith(reverse("admin:login"))


def test_anonymous_visitors_are_sent_to_the_login(client):
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_admin_login_accepts_role_admins_and_refuses_agents(client, role_admin):
    AgentFactory(username="just-agent")
    refused = client.post(
        reverse("admin:login"), {"username": "just-agent", "password": "secret-pass-1"}
    )
    assert refused.status_code == 200  # the form again, with an error
    assert not refused.wsgi_request.user.is_authenticated
    accepted = client.post(
        reverse("admin:login") + "?next=/admin/",
        {"username": "boss", "password": "secret-pass-1"},
    )
    assert accepted.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def test_admin_index_lists_the_atende_models(client, superuser):
    client.force_login(superuser)
    body = client.get(reverse("admin:index")).content.decode()
    for label in ("Preferential rules", "Teams", "Routing settings", "Conversations"):
        assert label in body


def test_routing_settings_changelist_is_the_single_page(client, superuser):
    client.force_login(superuser)
    response = client.get(reverse("admin:teams_routingsettings_changelist"))
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "admin:teams_routingsettings_change", args=[RoutingSettings.SINGLETON_ID]
    )
    team = TeamFactory(name="Sales")
    response = client.post(response["Location"], {"default_team": team.pk}, follow=True)
    assert response.status_code == 200
    assert RoutingSettings.load().default_team == team
    assert RoutingSettings.objects.count() == 1


def test_rule_changelist_shows_an_empty_state(client, superuser):
    client.force_login(superuser)
    url = reverse("admin:organizations_preferentialrule_changelist")
    body = client.get(url).content.decode()
    assert "No preferential rules exist yet." in body
    assert "Add one to send a client's conversations to their preferred agent." in body

    # A search that finds nothing is not "no rules": the usual "0 results" shows instead.
    RuleFactory(organization=OrganizationFactory(name="Acme"))
    body = client.get(url).content.decode()
    assert "No preferential rules exist yet." not in body
    assert "Acme" in body
    body = client.get(url, {"q": "nothing-like-this"}).content.decode()
    assert "No preferential rules exist yet." not in body


def test_rule_changelist_searches_targets_and_agents(client, superuser):
    client.force_login(superuser)
    carla = AgentFactory(username="carla", name="Carla Mendes")
    RuleFactory(organization=OrganizationFactory(name="Globex"), agent=carla)
    RuleFactory(contact=ContactFactory(name="Marina Costa"), agent=AgentFactory(name="Elisa"))
    url = reverse("admin:organizations_preferentialrule_changelist")
    for query, expected in (("Globex", 1), ("Marina", 1), ("Mendes", 1), ("carla", 1),
                            ("Elisa", 1), ("nobody", 0)):
        response = client.get(url, {"q": query})
        assert response.context["cl"].result_count == expected, query


CHANGELIST_GROWTH = {
    Conversation: _conversation,
    PreferentialRule: lambda: RuleFactory(contact=ContactFactory()),
    Contact: lambda: ContactFactory(organization=OrganizationFactory()),
    User: lambda: TeamFactory(agents=[AgentFactory()]),
    Team: lambda: TeamFactory(agents=[AgentFactory(), AgentFactory()]),
    Organization: lambda: OrganizationFactory(parent=OrganizationFactory()),
    Delivery: _delivery,
    IntegrationClient: lambda: IntegrationFactory(),
}


@pytest.mark.parametrize("model", list(CHANGELIST_GROWTH), ids=lambda m: m._meta.label)
def test_changelist_queries_do_not_grow_with_rows(client, superuser, model):
    client.force_login(superuser)
    url = page_url(model, "changelist")
    build = CHANGELIST_GROWTH[model]
    build()
    client.get(url)  # warm the session and content types
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for _ in range(4):
        build()
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)
