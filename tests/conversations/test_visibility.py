"""One rule of who may see a conversation: the selectors (API, pages, services), the
single-conversation check and the websocket groups agree for every kind of person and
every place a conversation can stand."""

import pytest

from apps.conversations.models import Conversation
from apps.inbox import groups
from apps.routing import selectors
from apps.routing import services as routing
from tests.factories import (
    AgentFactory,
    ContactFactory,
    IntegrationFactory,
    RuleFactory,
    SupervisorFactory,
    TeamFactory,
)
from tests.helpers import arrive

pytestmark = pytest.mark.django_db


@pytest.fixture
def floor():
    ana, bruno, paula = AgentFactory(name="Ana"), AgentFactory(name="Bruno"), AgentFactory(
        name="Paula", capacity=0
    )
    sales = TeamFactory(name="Sales", agents=[ana])
    support = TeamFactory(name="Support", agents=[bruno])
    reserved_contact = ContactFactory()
    RuleFactory(contact=reserved_contact, agent=paula, type="auto")
    places = {
        "waiting": arrive("v-waiting"),
        "queued in Sales": arrive("v-sales", team=sales),
        "queued in Support": arrive("v-support", team=support),
        "reserved for Paula in Support": arrive(contact=reserved_contact, team=support),
    }
    mine = arrive("v-mine", team=support)
    routing.assign_conversation(
        conversation_id=mine.pk, agent_id=ana.pk, actor=SupervisorFactory()
    )
    places["Support's, assigned to Ana"] = mine
    closed = arrive("v-closed", team=sales)
    routing.claim_conversation(conversation_id=closed.pk, agent=ana)
    routing.close_conversation(conversation_id=closed.pk, actor=ana)
    places["Sales', closed by Ana"] = closed
    people = {
        "Ana (Sales)": ana,
        "Bruno (Support)": bruno,
        "Paula (no team)": paula,
        "a supervisor": SupervisorFactory(),
        "an integration": IntegrationFactory(),
    }
    return places, people


EXPECTED = {
    "Ana (Sales)": {"waiting", "queued in Sales", "Support's, assigned to Ana",
                    "Sales', closed by Ana"},
    "Bruno (Support)": {"waiting", "queued in Support", "reserved for Paula in Support",
                        "Support's, assigned to Ana"},
    "Paula (no team)": {"waiting", "reserved for Paula in Support"},
    "a supervisor": {"waiting", "queued in Sales", "queued in Support",
                     "reserved for Paula in Support", "Support's, assigned to Ana",
                     "Sales', closed by Ana"},
    "an integration": set(),
}


def test_selectors_checks_and_websocket_groups_tell_the_same_story(floor):
    places, people = floor
    assert places["reserved for Paula in Support"].status == "reserved"
    for who, person in people.items():
        listed = set(
            selectors.conversations_visible_to(person).values_list("pk", flat=True)
        )
        joined = set(groups.groups_for(person))
        for where, conversation in places.items():
            conversation = Conversation.objects.get(pk=conversation.pk)
            by_list = conversation.pk in listed
            by_check = selectors.may_see(person, conversation)
            by_groups = bool(joined & groups.groups_seeing(conversation.placement))
            expected = where in EXPECTED[who]
            assert (by_list, by_check, by_groups) == (expected,) * 3, (who, where)
