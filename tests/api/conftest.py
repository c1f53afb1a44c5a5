"""API test helpers: a client per principal (by token, as outside clients do) and a small
world with one conversation in every place an agent may or may not see."""

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from apps.accounts.models import IntegrationClient, User
from apps.accounts.services import issue_person_token
from apps.conversations.models import Conversation
from apps.routing import services as routing
from tests.factories import (
    AdminFactory,
    AgentFactory,
    ContactFactory,
    IntegrationFactory,
    OrganizationFactory,
    RuleFactory,
    SupervisorFactory,
    TeamFactory,
)
from tests.helpers import arrive

ROLES = ("anonymous", "agent", "supervisor", "admin", "integration")


def client_for(principal) -> APIClient:
    client = APIClient()
    if isinstance(principal, User):
        client.credentials(HTTP_AUTHORIZATION=f"Token {issue_person_token(user=principal)}")
    elif isinstance(principal, IntegrationClient):
        client.credentials(HTTP_AUTHORIZATION=f"Token {principal.raw_token}")
    return client


@dataclass
class World:
    agent: User
    other_agent: User
    supervisor: User
    admin: User
    integration: IntegrationClient
    other_integration: IntegrationClient
    team: object
    other_team: object
    empty_team: object
    waiting: Conversation
    queued: Conversation
    foreign: Conversation
    mine: Conversation
    organization: object
    contact: object
    rule: object

    def principal(self, role):
        return None if role == "anonymous" else getattr(self, role)

    def client(self, role) -> APIClient:
        return client_for(self.principal(role))


@pytest.fixture
def world(db) -> World:
    agent = AgentFactory(username="ana")
    other_agent = AgentFactory(username="bruno")
    supervisor = SupervisorFactory(username="sara")
    admin = AdminFactory(username="root")
    team = TeamFactory(name="Sales", agents=[agent])
    other_team = TeamFactory(name="Support", agents=[other_agent])
    # After-commit announcements are not run here (no live pushes, no background threads).
    waiting = arrive("wa:waiting")
    queued = arrive("wa:queued", team=team)
    foreign = arrive("wa:foreign", team=other_team)
    mine = arrive("wa:mine", team=team)
    routing.claim_conversation(conversation_id=mine.pk, agent=agent)
    organization = OrganizationFactory(name="Acme")
    contact = ContactFactory(name="Carla", external_id="crm:carla", organization=organization)
    rule = RuleFactory(organization=organization, agent=agent)
    return World(
        agent=agent, other_agent=other_agent, supervisor=supervisor, admin=admin,
        integration=IntegrationFactory(name="WhatsApp bot"),
        other_integration=IntegrationFactory(name="Webchat bot"),
        team=team, other_team=other_team, empty_team=TeamFactory(name="Empty"),
        waiting=waiting, queued=queued, foreign=foreign, mine=mine, organization=organization,
        contact=contact, rule=rule,
    )
