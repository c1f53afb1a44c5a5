"""How many SQL statements one routing decision costs (issue 14), counted as
django_assert_num_queries counts them: the transaction's own brackets (BEGIN/COMMIT, or
SAVEPOINT/RELEASE inside the test's transaction) included.

PostgreSQL, production's database, writes a new conversation with its first event and
message in one statement and takes an agent's capacity with the rotation touch in another
(data-modifying CTEs); SQLite (embedded mode) writes them one statement each."""

import pytest
from django.db import connection

from apps.accounts.models import Presence
from apps.conversations.models import Message, Status
from apps.conversations.services import receive_inbound_message
from apps.routing import services as routing
from apps.teams.models import DistributionMode, RoutingSettings
from tests.factories import AgentFactory, TeamFactory

pytestmark = pytest.mark.django_db


def on_postgres() -> bool:
    return connection.vendor == "postgresql"


# Open: the contact with its open conversation and rule (1), the team's online members
# (1), capacity taken and rotation touched (1 | 2), contact, conversation, event and
# message written (1 | 5), plus the transaction's two brackets.
NEW_CONVERSATION = 6 if on_postgres() else 11
NEW_CONVERSATION_KNOWN_CONTACT = 6 if on_postgres() else 10  # no contact to write
# Append: the contact with its open conversation (1), the message with the
# conversation's last-message update (1 | 2), plus the brackets.
APPENDED_MESSAGE = 4 if on_postgres() else 5


@pytest.fixture
def team():
    return TeamFactory(
        distribution_mode=DistributionMode.CAPACITY,
        agents=[AgentFactory(presence=Presence.ONLINE, capacity=10) for _ in range(3)],
    )


def test_a_new_contact_s_conversation_is_routed_in_six_statements(
    team, django_assert_num_queries
):
    receive_inbound_message(external_id="warm", body="Olá", team=team)
    with django_assert_num_queries(NEW_CONVERSATION):
        conversation, message, created = receive_inbound_message(
            external_id="new", body="Olá", team=team
        )
    conversation.refresh_from_db()
    assert created and conversation.status == Status.ASSIGNED
    assert conversation.assignee.memberships.filter(team=team).exists()
    assert conversation.assignee.open_count == 1
    assert conversation.last_message_id == message.pk
    assert conversation.contact.external_id == "new"
    assert conversation.events.get().to_assignee_id == conversation.assignee_id


def test_the_default_team_costs_no_statement_once_read(
    team, django_assert_num_queries, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # as the change's commit does
        RoutingSettings.objects.update_or_create(id=1, defaults={"default_team": team})
    receive_inbound_message(external_id="warm", body="Olá")
    with django_assert_num_queries(NEW_CONVERSATION):
        conversation, _message, _created = receive_inbound_message(external_id="new", body="Olá")
    assert conversation.team == team and conversation.status == Status.ASSIGNED


def test_a_changed_default_team_is_used_at_once(team):
    RoutingSettings.objects.update_or_create(id=1, defaults={"default_team": team})
    receive_inbound_message(external_id="first", body="Olá")
    other = TeamFactory(distribution_mode=DistributionMode.MANUAL)
    settings = RoutingSettings.load()
    settings.default_team = other
    settings.save()
    conversation, _message, _created = receive_inbound_message(external_id="second", body="Olá")
    assert (conversation.team, conversation.status) == (other, Status.QUEUED)
    other.distribution_mode = DistributionMode.CAPACITY
    other.save()
    other.memberships.create(agent=AgentFactory(presence=Presence.ONLINE))
    conversation, _message, _created = receive_inbound_message(external_id="third", body="Olá")
    assert (conversation.team, conversation.status) == (other, Status.ASSIGNED)


def test_a_known_contact_s_new_conversation_is_routed_in_six_statements(
    team, django_assert_num_queries
):
    receive_inbound_message(external_id="warm", body="Olá", team=team)
    earlier, _message, _created = receive_inbound_message(external_id="back", body="Olá",
                                                          team=team)
    routing.close_conversation(conversation_id=earlier.pk, actor=earlier.assignee)
    with django_assert_num_queries(NEW_CONVERSATION_KNOWN_CONTACT):
        conversation, _message, created = receive_inbound_message(
            external_id="back", body="De novo", team=team
        )
    assert created and conversation.pk != earlier.pk
    assert conversation.contact_id == earlier.contact_id
    assert conversation.status == Status.ASSIGNED


def test_an_appended_message_costs_four_statements(team, django_assert_num_queries):
    opened, _message, _created = receive_inbound_message(external_id="c", body="Olá", team=team)
    with django_assert_num_queries(APPENDED_MESSAGE):
        conversation, message, created = receive_inbound_message(
            external_id="c", body="Mais uma coisa", team=team
        )
    assert not created and conversation.pk == opened.pk
    opened.refresh_from_db()
    assert opened.last_message_id == message.pk
    assert list(Message.objects.filter(conversation=opened).values_list("body", flat=True)
                .order_by("id")) == ["Olá", "Mais uma coisa"]
