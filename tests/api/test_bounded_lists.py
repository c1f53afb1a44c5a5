"""contacts/, agents/ and a conversation's events are bounded: plain arrays as before, at
most ``?limit`` rows (default 100, at most 500), the next rows through the ``Link`` header
(contacts/, agents/: ``?offset``) or ``?before`` (events, newest first, like messages)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import User
from apps.conversations.models import Conversation, ConversationEvent
from apps.organizations.models import Contact
from tests.api.conftest import client_for
from tests.factories import AdminFactory, AgentFactory, IntegrationFactory
from tests.helpers import arrive

pytestmark = pytest.mark.django_db

V1 = "/api/v1/"


def next_link(response) -> str | None:
    found = re.search(r"<([^>]+)>;\s*rel=\"next\"", response.get("Link", ""))
    return found.group(1) if found else None


def walk(client, path) -> tuple[list[dict], list[int]]:
    rows, sizes, url = [], [], f"{V1}{path}"
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        page = response.json()
        assert isinstance(page, list)
        rows += page
        sizes.append(len(page))
        url = next_link(response)
    return rows, sizes


def test_contacts_come_in_bounded_pages_for_an_integration():
    integration = IntegrationFactory()
    contacts = Contact.objects.bulk_create(Contact(external_id=f"c-{i:04}", name=f"C {i:04}")
                                           for i in range(230))
    # An integration lists the contacts of its own conversations.
    Conversation.objects.bulk_create(Conversation(contact=c, integration=integration)
                                     for c in contacts)
    bot = client_for(integration)
    rows, sizes = walk(bot, "contacts/")
    assert sizes == [100, 100, 30]
    assert [r["external_id"] for r in rows] == [f"c-{i:04}" for i in range(230)]
    assert len(bot.get(f"{V1}contacts/?limit=500").json()) == 230
    assert len(bot.get(f"{V1}contacts/?limit=5000").json()) == 230  # capped at 500
    assert [r["external_id"] for r in bot.get(f"{V1}contacts/?limit=2&offset=3").json()] == [
        "c-0003", "c-0004"]
    assert bot.get(f"{V1}contacts/?external_id=c-0007").json()[0]["name"] == "C 0007"


def test_agents_come_in_bounded_pages():
    User.objects.bulk_create(User(username=f"a{i:04}") for i in range(120))
    rows, sizes = walk(client_for(AgentFactory(username="zz")), "agents/")
    assert sizes == [100, 21]
    assert len({r["id"] for r in rows}) == 121


def test_bad_bounds_are_400():
    bot = client_for(IntegrationFactory())
    for query in ("limit=0", "limit=-1", "limit=abc", "offset=-1", "offset=x", "limit=1.5"):
        response = bot.get(f"{V1}contacts/?{query}")
        assert response.status_code == 400, query
        assert response.json()["detail"]


@pytest.mark.parametrize("path", ["contacts/", "agents/"])
def test_bounds_beyond_a_bigint_are_400_not_500(path):
    client = client_for(AdminFactory())
    huge = str(2**63)  # one past the largest bigint
    for query in (f"offset={huge}", f"offset={10**30}", f"offset=1{'0' * 5000}",
                  f"limit={huge}", f"limit=1{'0' * 5000}"):
        response = client.get(f"{V1}{path}?{query}")
        assert response.status_code == 400, (query[:30], response.status_code)
        assert response.json()["detail"]
    assert client.get(f"{V1}{path}?offset={2**63 - 1}").json() == []  # the largest: nothing
    assert client.get(f"{V1}{path}?limit={2**63 - 1}").status_code == 200  # capped at 500


def test_a_huge_page_size_is_400_not_500():
    client = client_for(AdminFactory())
    response = client.get(f"{V1}conversations/?page_size=1{'0' * 5000}")
    assert response.status_code == 400


def test_the_history_gives_the_newest_events_oldest_first_and_the_rest_before():
    admin = AdminFactory()
    conversation = arrive("wa:history")
    first = conversation.events.get()
    ConversationEvent.objects.bulk_create(
        ConversationEvent(conversation=conversation, kind="routed", actor_kind="system",
                          from_status="waiting", to_status="waiting", reason_parts=[])
        for _ in range(149)
    )
    client = client_for(admin)
    newest = client.get(f"{V1}conversations/{conversation.pk}/events").json()
    assert len(newest) == 100
    ids = [e["id"] for e in newest]
    assert ids == sorted(ids)
    older = client.get(f"{V1}conversations/{conversation.pk}/events?before={ids[0]}").json()
    assert len(older) == 50
    assert older[0]["id"] == first.pk and older[-1]["id"] < ids[0]
    assert len(client.get(f"{V1}conversations/{conversation.pk}/events?limit=7").json()) == 7
    for query in ("limit=0", "before=abc", "limit=201x"):
        assert client.get(f"{V1}conversations/{conversation.pk}/events?{query}").status_code == 400


@pytest.mark.parametrize("path,role", [("contacts/", "integration"), ("agents/", "agent")])
def test_query_counts_do_not_grow(path, role):
    principal = IntegrationFactory() if role == "integration" else AgentFactory()
    client = client_for(principal)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"{V1}{path}").status_code == 200
        return len(captured)

    small = queries()
    Contact.objects.bulk_create(Contact(external_id=f"q-{i}") for i in range(300))
    User.objects.bulk_create(User(username=f"q{i}") for i in range(300))
    assert queries() == small
