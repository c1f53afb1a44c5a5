"""Selectors: queue counts and visibility, in a fixed number of queries."""

import pytest

from apps.conversations.models import Status
from apps.conversations.selectors import conversation_list_for, queue_counts_for
from apps.organizations.models import RuleType
from apps.routing.services import claim_conversation
from tests.factories import (
    AgentFactory,
    ContactFactory,
    IntegrationFactory,
    RuleFactory,
    SupervisorFactory,
    TeamFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def floor(arrive):
    """Two teams, an agent in one, conversations everywhere."""
    ana, bruno = AgentFactory(name="Ana", capacity=0), AgentFactory(name="Bruno")
    sales = TeamFactory(name="Sales", agents=[ana])
    support = TeamFactory(name="Support", agents=[bruno])
    waiting = [arrive() for _ in range(2)]
    in_sales = [arrive(team=sales) for _ in range(3)]
    in_support = [arrive(team=support) for _ in range(4)]
    mine = arrive()
    claim_conversation(conversation_id=mine.pk, agent=ana)
    contact = ContactFactory()
    RuleFactory(contact=contact, agent=ana, type=RuleType.AUTO)
    reserved = arrive(team=support, contact=contact)
    assert reserved.status == Status.RESERVED
    return {
        "ana": ana, "bruno": bruno, "sales": sales, "support": support, "waiting": waiting,
        "in_sales": in_sales, "in_support": in_support, "mine": mine, "reserved": reserved,
    }


def test_counts_for_an_agent(floor, django_assert_num_queries):
    with django_assert_num_queries(2):
        counts = queue_counts_for(floor["ana"])
    assert counts == {
        "waiting": 2,
        "teams": [{"id": floor["sales"].pk, "name": "Sales", "queued": 3}],
        "mine": 1,
        "reserved_for_me": 1,
    }


def test_a_supervisor_counts_every_team(floor, django_assert_num_queries):
    supervisor = SupervisorFactory()
    with django_assert_num_queries(2):
        counts = queue_counts_for(supervisor)
    assert [(t["name"], t["queued"]) for t in counts["teams"]] == [("Sales", 3), ("Support", 4)]


def test_agents_see_waiting_their_teams_their_own_and_reserved_for_them(floor):
    ana_sees = set(conversation_list_for(floor["ana"]).values_list("pk", flat=True))
    expected = {c.pk for c in floor["waiting"] + floor["in_sales"]}
    expected |= {floor["mine"].pk, floor["reserved"].pk}
    assert ana_sees == expected
    bruno_sees = set(conversation_list_for(floor["bruno"]).values_list("pk", flat=True))
    assert bruno_sees.isdisjoint(c.pk for c in floor["in_sales"])
    assert floor["mine"].pk not in bruno_sees
    assert not conversation_list_for(IntegrationFactory()).exists()


def test_listing_runs_one_query_whatever_the_number_of_rows(
    floor, arrive, django_assert_num_queries
):
    def rows():
        return [
            (c.contact.name, c.team and c.team.name, c.assignee, c.preferred_agent,
             c.last_message.body)
            for c in conversation_list_for(floor["ana"])
        ]

    with django_assert_num_queries(1):  # memberships are a subquery of the same statement
        before = rows()
    for _ in range(5):
        arrive(team=floor["sales"])
    with django_assert_num_queries(1):
        after = rows()
    assert len(after) == len(before) + 5
