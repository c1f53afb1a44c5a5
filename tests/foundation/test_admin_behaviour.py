"""What the admin does beyond showing pages: rule validation in words, capacity and presence
through the routing services, integration tokens shown once, teams that distribute."""

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from apps.accounts.models import IntegrationClient, Presence, User, hash_token
from apps.conversations.models import Conversation, EventKind, Status
from apps.organizations.models import PreferentialRule, RuleType
from apps.routing.invariants import check_invariants
from apps.teams.models import DistributionMode, Membership
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

pytestmark = pytest.mark.django_db

RULE_ADD = reverse("admin:organizations_preferentialrule_add")


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def form_errors(response) -> list[str]:
    form = response.context["adminform"].form
    return [str(message) for messages in form.errors.values() for message in messages]


def rule_data(**fields):
    data = {"organization": "", "contact": "", "agent": "", "type": RuleType.QUEUE,
            "active": "on"}
    data.update({key: ("" if value is None else value) for key, value in fields.items()})
    return data


# --------------------------------------------------------------------------- rules


def test_rule_with_both_targets_is_refused_in_words(admin_client):
    agent = AgentFactory()
    response = admin_client.post(RULE_ADD, rule_data(
        organization=OrganizationFactory().pk, contact=ContactFactory().pk, agent=agent.pk
    ))
    assert response.status_code == 200
    assert form_errors(response) == [
        "Choose either an organization or a contact as the rule's target, not both: clear "
        "one of the two fields."
    ]
    assert not PreferentialRule.objects.exists()


def test_rule_without_target_is_refused_in_words(admin_client):
    response = admin_client.post(RULE_ADD, rule_data(agent=AgentFactory().pk))
    assert response.status_code == 200
    assert form_errors(response) == ["Choose the rule's target: an organization or a contact."]
    assert not PreferentialRule.objects.exists()


def test_second_active_rule_for_a_target_is_refused_in_words(admin_client):
    organization = OrganizationFactory(name="Acme")
    RuleFactory(organization=organization, agent=AgentFactory(name="Diego"))
    response = admin_client.post(RULE_ADD, rule_data(
        organization=organization.pk, agent=AgentFactory().pk, type=RuleType.AUTO
    ))
    assert response.status_code == 200
    assert form_errors(response) == [
        "Acme already has an active rule (preferred agent Diego). Edit that rule, or save this "
        "one as inactive."
    ]
    assert PreferentialRule.objects.count() == 1


def test_second_active_rule_for_a_contact_is_refused(admin_client):
    contact = ContactFactory(name="Marina")
    RuleFactory(contact=contact)
    response = admin_client.post(RULE_ADD, rule_data(contact=contact.pk, agent=AgentFactory().pk))
    assert response.status_code == 200
    assert "Marina already has an active rule" in form_errors(response)[0]


def test_an_inactive_second_rule_and_editing_the_active_one_are_fine(admin_client):
    organization = OrganizationFactory()
    rule = RuleFactory(organization=organization)
    other = AgentFactory()
    response = admin_client.post(RULE_ADD, rule_data(
        organization=organization.pk, agent=other.pk, active=None
    ))
    assert response.status_code == 302
    assert PreferentialRule.objects.filter(organization=organization).count() == 2

    change = reverse("admin:organizations_preferentialrule_change", args=[rule.pk])
    response = admin_client.post(change, rule_data(
        organization=organization.pk, agent=other.pk, type=RuleType.AUTO
    ))
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.agent, rule.type, rule.active) == (other, RuleType.AUTO, True)


def test_rule_added_in_the_admin_routes_the_next_conversation(admin_client):
    agent = AgentFactory()
    organization = OrganizationFactory()
    contact = ContactFactory(organization=organization)
    response = admin_client.post(RULE_ADD, rule_data(
        organization=organization.pk, agent=agent.pk, type=RuleType.AUTO
    ))
    assert response.status_code == 302
    conversation = arrive(contact=contact, body="Oi")
    assert (conversation.status, conversation.assignee) == (Status.ASSIGNED, agent)


def test_rule_can_be_deleted(admin_client):
    rule = RuleFactory(contact=ContactFactory())
    url = reverse("admin:organizations_preferentialrule_delete", args=[rule.pk])
    assert admin_client.get(url).status_code == 200
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not PreferentialRule.objects.exists()


# --------------------------------------------------------------------------- agents


def user_form(user, **changes):
    data = {
        "username": user.username, "name": user.name, "first_name": "", "last_name": "",
        "email": user.email, "role": user.role, "capacity": user.capacity,
        "presence": user.presence, "is_active": "on" if user.is_active else "",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


def test_raising_capacity_in_the_admin_lets_distribution_run(
    admin_client, django_capture_on_commit_callbacks
):
    agent = AgentFactory(capacity=1)
    team = TeamFactory(distribution_mode=DistributionMode.CAPACITY, agents=[agent])
    for n in range(3):
        arrive(f"cap-{n}", body="Oi", team=team)
    assert Conversation.objects.filter(status=Status.QUEUED).count() == 2

    url = reverse("admin:accounts_user_change", args=[agent.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, user_form(agent, capacity=3))
    assert response.status_code == 302, form_errors(response)
    agent.refresh_from_db()
    assert (agent.capacity, agent.open_count) == (3, 3)
    assert not Conversation.objects.filter(status=Status.QUEUED).exists()
    assert check_invariants() == []


def test_capacity_out_of_bounds_is_a_form_error(admin_client):
    agent = AgentFactory()
    url = reverse("admin:accounts_user_change", args=[agent.pk])
    for bad in (-1, 10_001, "lots"):
        response = admin_client.post(url, user_form(agent, capacity=bad))
        assert response.status_code == 200
        assert form_errors(response)
    agent.refresh_from_db()
    assert agent.capacity == 5


def test_admin_edit_never_overwrites_the_load_counter(admin_client):
    agent = AgentFactory()
    team = TeamFactory(distribution_mode=DistributionMode.CAPACITY, agents=[agent])
    url = reverse("admin:accounts_user_change", args=[agent.pk])
    stale_form = user_form(agent, name="Renamed")  # read before the assignment below
    arrive("load-1", body="Oi", team=team)
    response = admin_client.post(url, stale_form)
    assert response.status_code == 302
    agent.refresh_from_db()
    assert (agent.name, agent.open_count) == ("Renamed", 1)
    assert check_invariants() == []


def test_setting_an_agent_away_in_the_admin_releases_their_reservations(
    admin_client, django_capture_on_commit_callbacks
):
    agent = AgentFactory(capacity=0)
    team = TeamFactory(distribution_mode=DistributionMode.MANUAL)
    contact = ContactFactory()
    RuleFactory(contact=contact, agent=agent, type=RuleType.AUTO)
    conversation = arrive(
        external_id=contact.external_id, body="Oi", team=team
    )
    assert conversation.status == Status.RESERVED

    url = reverse("admin:accounts_user_change", args=[agent.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, user_form(agent, presence=Presence.AWAY))
    assert response.status_code == 302
    conversation.refresh_from_db()
    agent.refresh_from_db()
    assert agent.presence == Presence.AWAY
    assert (conversation.status, conversation.team) == (Status.QUEUED, team)
    assert conversation.events.filter(kind=EventKind.RELEASED).exists()


def test_a_superuser_is_an_administrator():
    user = UserFactory(is_superuser=True, is_staff=True)
    user.refresh_from_db()
    assert user.role == "admin" and user.is_admin


# --------------------------------------------------------------------------- integrations


def test_new_integration_token_is_shown_once_and_stored_hashed(admin_client):
    response = admin_client.post(
        reverse("admin:accounts_integrationclient_add"), {"name": "WhatsApp bot"}, follow=True
    )
    assert response.status_code == 200
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    shown = [re.search(r"(int_\S+)\.", text) for text in texts]
    tokens = [match.group(1) for match in shown if match]
    assert len(tokens) == 1
    client = IntegrationClient.objects.get(name="WhatsApp bot")
    assert client.token_hash == hash_token(tokens[0])
    assert client.token_prefix == tokens[0][:8]
    change = admin_client.get(
        reverse("admin:accounts_integrationclient_change", args=[client.pk])
    )
    assert tokens[0] not in change.content.decode()


def test_revoke_action_revokes_tokens(admin_client):
    bots = [IntegrationFactory(), IntegrationFactory()]
    response = admin_client.post(
        reverse("admin:accounts_integrationclient_changelist"),
        {"action": "revoke", "_selected_action": [bots[0].pk]},
    )
    assert response.status_code == 302
    bots[0].refresh_from_db()
    bots[1].refresh_from_db()
    assert bots[0].revoked_at is not None
    assert bots[1].revoked_at is None


# --------------------------------------------------------------------------- teams, conversations


def empty_inline(prefix: str) -> dict:
    return {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}


def test_adding_an_online_member_to_a_capacity_team_drains_its_queue(
    admin_client, django_capture_on_commit_callbacks
):
    team = TeamFactory(distribution_mode=DistributionMode.CAPACITY)
    for n in range(2):
        arrive(f"team-{n}", body="Oi", team=team)
    agent = AgentFactory()
    url = reverse("admin:teams_team_change", args=[team.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {
            "name": team.name, "distribution_mode": DistributionMode.CAPACITY,
            "timezone": "UTC", "answer_target_seconds": "60",
            "memberships-TOTAL_FORMS": "1", "memberships-INITIAL_FORMS": "0",
            "memberships-MIN_NUM_FORMS": "0", "memberships-MAX_NUM_FORMS": "1000",
            "memberships-0-agent": agent.pk, "memberships-0-team": team.pk,
            **empty_inline("opening_hours"), **empty_inline("closed_dates"),
        })
    assert response.status_code == 302
    assert Membership.objects.filter(team=team, agent=agent).exists()
    assert Conversation.objects.filter(assignee=agent, status=Status.ASSIGNED).count() == 2
    assert check_invariants() == []


def test_close_action_closes_through_the_service(admin_client):
    agent = AgentFactory()
    team = TeamFactory(distribution_mode=DistributionMode.CAPACITY, agents=[agent])
    conversation = arrive("closing", body="Oi", team=team)
    response = admin_client.post(
        reverse("admin:conversations_conversation_changelist"),
        {"action": "close_selected", "_selected_action": [conversation.pk]},
    )
    assert response.status_code == 302
    conversation.refresh_from_db()
    agent.refresh_from_db()
    assert conversation.status == Status.CLOSED
    assert agent.open_count == 0
    assert conversation.events.filter(kind=EventKind.CLOSED).exists()


def test_conversation_change_page_is_read_only(admin_client):
    agent = AgentFactory()
    team = TeamFactory(distribution_mode=DistributionMode.CAPACITY, agents=[agent])
    conversation = arrive("ro", body="Olá!", team=team)
    url = reverse("admin:conversations_conversation_change", args=[conversation.pk])
    page = admin_client.get(url)
    body = page.content.decode()
    assert "Olá!" in body
    assert "By capacity" in body  # the history's reason
    admin_client.post(url, {"status": Status.CLOSED, "assignee": ""})
    conversation.refresh_from_db()
    assert conversation.status == Status.ASSIGNED


def test_adding_an_agent_in_the_admin(admin_client):
    response = admin_client.post(reverse("admin:accounts_user_add"), {
        "username": "gabi", "name": "Gabi Lopes", "email": "gabi@example.com",
        "role": "supervisor", "capacity": 7, "password1": "a-long-pass-123",
        "password2": "a-long-pass-123",
    })
    assert response.status_code == 302
    gabi = User.objects.get(username="gabi")
    assert (gabi.role, gabi.capacity, gabi.open_count) == ("supervisor", 7, 0)
    assert gabi.check_password("a-long-pass-123")
    assert admin_client.get(
        reverse("admin:accounts_user_change", args=[gabi.pk])
    ).status_code == 200
