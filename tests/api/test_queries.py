"""Every list endpoint answers in a fixed number of queries, however many rows it lists."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.conversations.services import post_reply
from apps.routing import services as routing
from tests.api.conftest import arrive, client_for
from tests.factories import (
    AgentFactory,
    ContactFactory,
    IntegrationFactory,
    OrganizationFactory,
    RuleFactory,
    TeamFactory,
)

V1 = "/api/v1/"


def grow(world, n):
    """n more rows of every kind a list shows."""
    for _ in range(n):
        agent = AgentFactory()
        TeamFactory(agents=[agent, world.agent])
        parent = OrganizationFactory()
        OrganizationFactory(parent=parent)
        contact = ContactFactory(organization=parent)
        RuleFactory(contact=contact, agent=agent)
        IntegrationFactory()
        # Opened by the integration's inbound: a contact its contacts/ lists too.
        conversation = arrive(contact.external_id, team=world.team, actor=world.integration)
        arrive(contact.external_id, body="more")
        routing.claim_conversation(conversation_id=conversation.pk, agent=world.agent)
        routing.transfer_conversation(conversation_id=conversation.pk, actor=world.agent,
                                      agent_id=agent.pk)
        # More history and messages on the agent's own conversation, by several people.
        post_reply(conversation_id=world.mine.pk, author=world.agent, body="reply")
        post_reply(conversation_id=world.mine.pk, author=world.supervisor, body="note")
        routing.assign_conversation(conversation_id=world.mine.pk, agent_id=agent.pk,
                                    actor=world.supervisor)
        routing.assign_conversation(conversation_id=world.mine.pk, agent_id=world.agent.pk,
                                    actor=world.admin)


class Ids:
    class mine:  # noqa: N801 - stands for world.mine in test ids
        pk = "{id}"


LISTS = [
    # (path(world), role, queries): authentication (token + user: 1) and heartbeat (0, it is
    # fresh), then the list's own queries.
    # count, page (visibility is a subquery), then for the page's queued and waiting ones:
    # positions (one window query), the teams' online room and recent pace
    (lambda w: "conversations/", "agent", 6),
    (lambda w: "conversations/", "supervisor", 6),
    (lambda w: "agents/", "agent", 3),  # agents, their skills
    # teams, memberships, opening hours, closed dates, ladder steps (their skills: one more
    # when any team has steps)
    (lambda w: "teams/", "agent", 6),
    (lambda w: "organizations/", "agent", 3),  # nodes, their required skills
    (lambda w: "contacts/", "admin", 2),
    (lambda w: "contacts/", "integration", 2),  # integration token: one query
    (lambda w: "preferential-rules/", "admin", 2),
    (lambda w: "integrations/", "admin", 2),
    (lambda w: f"conversations/{w.mine.pk}/messages", "agent", 3),  # visible?, messages
    (lambda w: f"conversations/{w.mine.pk}/events", "agent", 3),  # visible?, events
    (lambda w: "me/queues", "agent", 3),  # teams, counts
    (lambda w: "conversations/?ordering=queue", "agent", 6),  # as conversations/
]


@pytest.mark.parametrize(("path", "role", "queries"), LISTS,
                         ids=[f"{path(Ids())}-{role}" for path, role, _ in LISTS])
def test_list_queries_do_not_grow_with_rows(world, django_assert_num_queries, path, role,
                                            queries):
    client = world.client(role)
    client.get(V1 + path(world))  # warm: the first request may record a heartbeat
    with django_assert_num_queries(queries):
        small = client.get(V1 + path(world))
    assert small.status_code == 200
    grow(world, 3)
    with django_assert_num_queries(queries):
        large = client.get(V1 + path(world))
    assert large.status_code == 200
    assert len(large.content) > len(small.content)


def test_the_admin_token_is_one_query(world):
    client = client_for(world.admin)
    client.get(f"{V1}me/")
    with CaptureQueriesContext(connection) as queries:
        client.get(f"{V1}me/")
    assert len(queries) == 2  # the token with its person, then their skills


# POST inbound from an integration: its token (1), the routing decision
# (tests/routing/test_statements.py: 6 for a new conversation, 4 for an appended message on
# PostgreSQL), the webhook snapshot of the new conversation's event (1: it belongs to the
# integration). The answer reads nothing more: the assignee comes back from the capacity
# take, the team's hours from the process's configuration cache.
INBOUND_NEW = 8 if connection.vendor == "postgresql" else 13
INBOUND_APPENDED = 5 if connection.vendor == "postgresql" else 6


def test_inbound_statements(db, django_assert_num_queries, django_capture_on_commit_callbacks):
    from apps.accounts.models import Presence
    from apps.teams.models import DistributionMode, RoutingSettings

    agent = AgentFactory(presence=Presence.ONLINE)
    team = TeamFactory(agents=[agent], distribution_mode=DistributionMode.CAPACITY)
    with django_capture_on_commit_callbacks(execute=True):  # as the change's commit does
        RoutingSettings.objects.update_or_create(id=1, defaults={"default_team": team})
    client = client_for(IntegrationFactory())
    client.post(f"{V1}inbound", {"contact": {"external_id": "warm"}, "body": "Oi"},
                format="json")
    with django_assert_num_queries(INBOUND_NEW):
        new = client.post(f"{V1}inbound", {"contact": {"external_id": "c1"}, "body": "Oi"},
                          format="json")
    assert new.status_code == 201
    assert (new.json()["status"], new.json()["assignee_name"]) == ("assigned",
                                                                   agent.display_name)
    assert new.json()["team_open"] is True
    with django_assert_num_queries(INBOUND_APPENDED):
        again = client.post(f"{V1}inbound", {"contact": {"external_id": "c1"}, "body": "E aí?"},
                            format="json")
    assert again.status_code == 200
    assert again.json()["id"] == new.json()["id"]
    assert again.json()["last_message"]["body"] == "E aí?"
