"""An integration sees and moves only the conversations its own ``inbound`` opened: every
path it may call answers 404 for any other one (another integration's, or one opened by
nobody's inbound), changes nothing and says nothing about it; ``contacts/`` lists only the
contacts of its own conversations. One rule decides it: apps.conversations.visibility."""

import pytest

from apps.conversations.models import Conversation, ConversationEvent, Message
from apps.routing import services as routing
from tests.api.conftest import client_for
from tests.factories import (
    AdminFactory,
    ContactFactory,
    IntegrationFactory,
    SupervisorFactory,
    TeamFactory,
)
from tests.helpers import arrive

pytestmark = pytest.mark.django_db

V1 = "/api/v1/"


@pytest.fixture
def two():
    ours, theirs = IntegrationFactory(name="Ours"), IntegrationFactory(name="Theirs")
    sales, support = TeamFactory(name="Sales"), TeamFactory(name="Support")
    boss = SupervisorFactory()
    own = arrive("wa:own", team=sales, actor=ours, body="mine")
    foreign_queued = arrive("wa:their-queued", team=sales, actor=theirs, body="secret")
    foreign_waiting = arrive("wa:their-waiting", actor=theirs, body="secret too")
    nobodys = arrive("wa:nobodys", team=sales, body="admin typed it")
    foreign_closed = arrive("wa:their-closed", team=sales, actor=theirs)
    routing.claim_conversation(conversation_id=foreign_closed.pk, agent=boss)
    routing.close_conversation(conversation_id=foreign_closed.pk, actor=boss)
    return {
        "ours": ours, "support": support, "own": own,
        "foreign": [foreign_queued, foreign_waiting, nobodys],
        "foreign_closed": foreign_closed,
    }


def state():
    return (
        list(Conversation.objects.order_by("pk").values_list(
            "pk", "status", "team_id", "assignee_id", "rating_score")),
        ConversationEvent.objects.count(),
    )


def calls(pk, support):
    """Every conversation path an integration may call, with a valid body."""
    return [
        ("get", f"conversations/{pk}/", None),
        ("get", f"conversations/{pk}/messages", None),
        ("get", f"conversations/{pk}/queue", None),
        ("post", f"conversations/{pk}/route", {"team": support.pk}),
        ("post", f"conversations/{pk}/rating", {"score": 5}),
    ]


def test_every_path_is_a_404_for_a_conversation_it_did_not_open(two):
    client = client_for(two["ours"])
    before = state()
    for conversation in [*two["foreign"], two["foreign_closed"]]:
        for method, path, body in calls(conversation.pk, two["support"]):
            response = getattr(client, method)(V1 + path, body, format="json")
            assert response.status_code == 404, (path, response.content)
            text = response.content.decode()
            assert "secret" not in text and "wa:their" not in text
    assert state() == before


def test_the_paths_it_may_not_call_stay_refused_for_every_conversation(two):
    client = client_for(two["ours"])
    before = state()
    for pk in (two["own"].pk, two["foreign"][0].pk):
        for verb in ("claim", "close", "transfer", "assign"):
            assert client.post(f"{V1}conversations/{pk}/{verb}", {}, format="json") \
                .status_code == 403
        assert client.post(f"{V1}conversations/{pk}/messages", {"body": "x"},
                           format="json").status_code == 403
    assert state() == before


def test_its_own_conversation_answers_and_moves(two):
    client = client_for(two["ours"])
    own = two["own"]
    assert client.get(f"{V1}conversations/{own.pk}/").status_code == 200
    assert client.get(f"{V1}conversations/{own.pk}/messages").json()[0]["body"] == "mine"
    moved = client.post(f"{V1}conversations/{own.pk}/route", {"team": two["support"].pk},
                        format="json")
    assert moved.status_code == 200, moved.content
    assert moved.json()["team"] == two["support"].pk


def test_contacts_lists_only_the_contacts_of_its_own_conversations(two):
    ContactFactory(name="Nobody's", external_id="crm:lonely")
    client = client_for(two["ours"])
    rows = client.get(f"{V1}contacts/").json()
    assert [r["external_id"] for r in rows] == ["wa:own"]
    assert client.get(f"{V1}contacts/", {"external_id": "wa:their-queued"}).json() == []
    # An administrator still lists them all.
    admin_rows = client_for(AdminFactory()).get(f"{V1}contacts/").json()
    assert len(admin_rows) == 6


def test_inbound_never_writes_into_or_answers_with_another_integrations_conversation(two):
    client = client_for(two["ours"])
    before = state(), Message.objects.count()
    for external_id in ("wa:their-queued", "wa:nobodys"):
        for extra in ({}, {"message_id": "m-1"}):
            response = client.post(f"{V1}inbound", {
                "contact": {"external_id": external_id}, "body": "let me in", **extra,
            }, format="json")
            assert response.status_code == 409, response.content
            text = response.content.decode()
            assert "secret" not in text and "admin typed it" not in text
            assert response.json()["detail"]
    assert (state(), Message.objects.count()) == before
    # Its own contact's conversation takes the message, as always.
    again = client.post(f"{V1}inbound", {"contact": {"external_id": "wa:own"}, "body": "more"},
                        format="json")
    assert again.status_code == 200 and again.json()["id"] == two["own"].pk
    # A closed conversation's contact starts a new one, which is its own.
    fresh = client.post(f"{V1}inbound", {"contact": {"external_id": "wa:their-closed"},
                                         "body": "hello again"}, format="json")
    assert fresh.status_code == 201
    assert client.get(f"{V1}conversations/{fresh.json()['id']}/").status_code == 200
