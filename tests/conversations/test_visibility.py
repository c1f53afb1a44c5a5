"""One rule of who may see a conversation: the selectors (API, pages, services), the
single-conversation check and the websocket groups agree for every kind of person and
every place a conversation can stand. An integration sees the conversations its inbound
opened and nothing else; it joins no websocket group (it follows them by webhooks)."""

import pytest

from apps.conversations import selectors
from apps.conversations.models import Conversation
from apps.inbox import groups
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
    bot, other_bot = IntegrationFactory(name="WhatsApp"), IntegrationFactory(name="Webchat")
    places["the bot's, queued in Sales"] = arrive("v-bot-sales", team=sales, actor=bot)
    places["the bot's, in Waiting"] = arrive("v-bot-waiting", actor=bot)
    bots_closed = arrive("v-bot-closed", team=support, actor=bot)
    routing.claim_conversation(conversation_id=bots_closed.pk, agent=bruno)
    routing.close_conversation(conversation_id=bots_closed.pk, actor=bruno)
    places["the bot's, Support's, closed by Bruno"] = bots_closed
    closed = arrive("v-closed", team=sales)
    routing.claim_conversation(conversation_id=closed.pk, agent=ana)
    routing.close_conversation(conversation_id=closed.pk, actor=ana)
    places["Sales', closed by Ana"] = closed
    people = {
        "Ana (Sales)": ana,
        "Bruno (Support)": bruno,
        "Paula (no team)": paula,
        "a supervisor": SupervisorFactory(),
        "the bot": bot,
        "another bot": other_bot,
    }
    return places, people


BOTS = {"the bot's, queued in Sales", "the bot's, in Waiting",
        "the bot's, Support's, closed by Bruno"}

EXPECTED = {
    "Ana (Sales)": {"waiting", "queued in Sales", "Support's, assigned to Ana",
                    "Sales', closed by Ana", "the bot's, queued in Sales",
                    "the bot's, in Waiting"},
    "Bruno (Support)": {"waiting", "queued in Support", "reserved for Paula in Support",
                        "Support's, assigned to Ana", "the bot's, in Waiting",
                        "the bot's, Support's, closed by Bruno"},
    "Paula (no team)": {"waiting", "reserved for Paula in Support", "the bot's, in Waiting"},
    "a supervisor": {"waiting", "queued in Sales", "queued in Support",
                     "reserved for Paula in Support", "Support's, assigned to Ana",
                     "Sales', closed by Ana", *BOTS},
    "the bot": BOTS,
    "another bot": set(),
}
WITHOUT_WEBSOCKET = {"the bot", "another bot"}  # integrations follow by webhooks


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
            assert (by_list, by_check) == (expected, expected), (who, where)
            assert by_groups == (expected and who not in WITHOUT_WEBSOCKET), (who, where)


def test_an_integration_reads_its_own_conversations_through_the_api_and_no_others(floor):
    from tests.api.conftest import client_for

    places, people = floor
    bot = people["the bot"]
    client = client_for(bot)  # by its token, as a connector calls
    for where, conversation in places.items():
        detail = client.get(f"/api/v1/conversations/{conversation.pk}/")
        messages = client.get(f"/api/v1/conversations/{conversation.pk}/messages")
        if where in BOTS:
            assert detail.status_code == 200, where
            assert detail.json()["integration"] == bot.pk
            assert [m["body"] for m in messages.json()] == ["Olá, preciso de ajuda"]
        else:
            assert (detail.status_code, messages.status_code) == (404, 404), where
            assert detail.json() == client.get("/api/v1/conversations/999999/").json()
    assert client.get("/api/v1/conversations/").status_code == 403
    own = places["the bot's, in Waiting"]
    assert client.get(f"/api/v1/conversations/{own.pk}/events").status_code == 403
