"""What the inbox reads: queues in queue order with a keyset to load more, search (closed
conversations too), bounded message pages and the contact card; constant query counts."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.conversations.services import post_reply
from apps.routing import services as routing
from tests.api.conftest import client_for
from tests.factories import (
    AgentFactory,
    ContactFactory,
    OrganizationFactory,
    RuleFactory,
    SupervisorFactory,
    TeamFactory,
)
from tests.helpers import arrive

V1 = "/api/v1/"


@pytest.fixture
def queue(db):
    """A team whose queue arrived out of id order: the newest id waited longest."""
    agent = AgentFactory(username="ana")
    star = AgentFactory(username="bia")
    team = TeamFactory(name="Vendas", agents=[agent, star])
    start = timezone.now() - timedelta(hours=1)
    rows = []
    for minutes in (50, 40, 30, 20, 10, 5, 1):  # ids ascending, waits descending
        with time_machine.travel(start + timedelta(minutes=60 - minutes), tick=False):
            rows.append(arrive(f"wa:q{minutes}", team=team))
    return agent, star, team, rows


def ids(response):
    return [row["id"] for row in response.json()["results"]]


def test_the_queue_lists_oldest_first_and_the_default_stays_newest_activity(queue):
    agent, _star, team, rows = queue
    client = client_for(agent)
    by_queue = client.get(f"{V1}conversations/", {"team": team.pk, "ordering": "queue"})
    assert by_queue.status_code == 200
    assert ids(by_queue) == [c.pk for c in sorted(rows, key=lambda c: (c.queued_at, c.pk))]
    default = client.get(f"{V1}conversations/", {"team": team.pk})
    assert ids(default) == [
        c.pk for c in sorted(rows, key=lambda c: (c.last_activity_at, c.pk), reverse=True)
    ]
    assert by_queue.json()["results"][0]["queued_at"] is not None


def test_the_callers_starred_conversations_come_first_in_queue_order(queue):
    _agent, star, team, rows = queue
    starred = ContactFactory(external_id="wa:starred")
    RuleFactory(contact=starred, agent=star)
    late = arrive(contact=starred, team=team)
    assert late.preferred_agent_id == star.pk
    listed = ids(client_for(star).get(f"{V1}conversations/", {"team": team.pk,
                                                              "ordering": "queue"}))
    assert listed[0] == late.pk
    assert ids(client_for(star).get(f"{V1}conversations/", {"preferred_agent": star.pk})) == [
        late.pk
    ]
    assert listed[1:] == ids(client_for(queue[0]).get(
        f"{V1}conversations/", {"team": team.pk, "ordering": "queue"}))[:-1]


def test_loading_more_after_the_last_row_skips_nobody_while_the_head_is_claimed(queue):
    agent, star, team, rows = queue
    client = client_for(agent)
    params = {"team": team.pk, "status": "queued", "ordering": "queue", "page_size": 3}
    seen = ids(client.get(f"{V1}conversations/", params))
    while True:
        # Someone else takes the two oldest meanwhile: page numbers would now skip two.
        for head in seen[:2]:
            routing.claim_conversation(conversation_id=head, agent=star)
        page = client.get(f"{V1}conversations/", {**params, "after": seen[-1]})
        assert page.status_code == 200
        if not ids(page):
            break
        seen += ids(page)
    in_queue_order = [c.pk for c in sorted(rows, key=lambda c: (c.queued_at, c.pk))]
    assert seen == in_queue_order


def test_after_an_unknown_or_invisible_row_is_a_400(queue):
    agent, _star, team, _rows = queue
    foreign = arrive("wa:foreign", team=TeamFactory())
    client = client_for(agent)
    for anchor in (foreign.pk, 10**12):
        answer = client.get(f"{V1}conversations/", {"ordering": "queue", "after": anchor})
        assert answer.status_code == 400
        assert "after" in answer.json() and answer.json()["detail"]
    for bad in ({"ordering": "oldest"}, {"after": "x"}, {"after": "0"}, {"q": "x" * 256}):
        answer = client.get(f"{V1}conversations/", bad)
        assert answer.status_code == 400, bad
        assert answer.json()["detail"]


def test_search_finds_closed_conversations_by_name_or_external_id(db):
    agent = AgentFactory()
    team = TeamFactory(agents=[agent])
    paula = ContactFactory(name="Paula Souza", external_id="whatsapp:+5511988887777")
    old = arrive(contact=paula, team=team)
    routing.claim_conversation(conversation_id=old.pk, agent=agent)
    routing.close_conversation(conversation_id=old.pk, actor=agent)
    other_team = arrive(
        contact=ContactFactory(name="Paula Lima", external_id="wa:lima"), team=TeamFactory()
    )
    arrive(contact=ContactFactory(name="Rita", external_id="wa:rita"), team=team)
    client = client_for(agent)
    by_name = client.get(f"{V1}conversations/", {"q": "paula"})
    assert ids(by_name) == [old.pk]  # not the other team's Paula
    assert by_name.json()["results"][0]["status"] == "closed"
    assert ids(client.get(f"{V1}conversations/", {"q": "88887777"})) == [old.pk]
    supervisor = client_for(SupervisorFactory())
    assert set(ids(supervisor.get(f"{V1}conversations/", {"q": "PAULA"}))) == {
        old.pk, other_team.pk,
    }
    assert ids(client.get(f"{V1}conversations/", {"q": "paula", "open": "true"})) == []
    assert ids(supervisor.get(f"{V1}conversations/", {"q": "paula", "open": "true"})) == [
        other_team.pk
    ]
    assert ids(client.get(f"{V1}conversations/", {"open": "false"})) == [old.pk]


@pytest.mark.parametrize(("params", "grow_in_the_past"), [
    ({"ordering": "queue"}, False),
    ({"ordering": "queue", "after": "{anchor}"}, False),
    # Rows after the anchor in activity order are older ones.
    ({"ordering": "activity", "after": "{anchor}", "q": "wa"}, True),
])
def test_queue_lists_run_constant_queries(queue, django_assert_num_queries, params,
                                          grow_in_the_past):
    agent, _star, team, rows = queue
    client = client_for(agent)
    params = {k: str(v).format(anchor=rows[3].pk) for k, v in params.items()}
    client.get(f"{V1}conversations/", params)  # warm: the heartbeat
    # token + user, (anchor), count, page, then the queued rows' places: positions (one
    # window query), the team's online room and its recent pace
    expected = (4 if "after" in params else 3) + 3
    with django_assert_num_queries(expected):
        small = client.get(f"{V1}conversations/", params)
    moment = timezone.now() - timedelta(days=1 if grow_in_the_past else -1)
    with time_machine.travel(moment, tick=False):
        for n in range(5):
            arrive(f"wa:more{n}", team=team)
    with django_assert_num_queries(expected):
        large = client.get(f"{V1}conversations/", params)
    assert small.status_code == large.status_code == 200
    assert large.json()["count"] == small.json()["count"] + 5


# --------------------------------------------------------------------------- messages


@pytest.fixture
def long_thread(db):
    agent = AgentFactory()
    team = TeamFactory(agents=[agent])
    conversation = arrive("wa:long", team=team, body="first")
    routing.claim_conversation(conversation_id=conversation.pk, agent=agent)
    for n in range(1, 250):
        post_reply(conversation_id=conversation.pk, author=agent, body=f"m{n}")
    return agent, conversation


def bodies(response):
    return [m["body"] for m in response.json()]


def test_messages_are_the_newest_hundred_oldest_first(long_thread):
    agent, conversation = long_thread
    client = client_for(agent)
    url = f"{V1}conversations/{conversation.pk}/messages"
    newest = client.get(url)
    assert newest.status_code == 200
    assert bodies(newest) == [f"m{n}" for n in range(150, 250)]
    assert newest["X-Has-Older"] == "true"
    older = client.get(url, {"before": newest.json()[0]["id"], "limit": 200})
    assert bodies(older) == ["first"] + [f"m{n}" for n in range(1, 150)]
    assert older["X-Has-Older"] == "false"
    assert bodies(client.get(url, {"limit": 2})) == ["m248", "m249"]


@pytest.mark.parametrize("bad", [
    {"limit": "201"}, {"limit": "0"}, {"limit": "-1"}, {"limit": "ten"}, {"before": "0"},
    {"before": "1.5"}, {"before": str(2**64)},
])
def test_bad_message_pages_are_a_400_with_detail(long_thread, bad):
    agent, conversation = long_thread
    answer = client_for(agent).get(f"{V1}conversations/{conversation.pk}/messages", bad)
    assert answer.status_code == 400
    assert answer.json()["detail"]


def test_message_pages_run_constant_queries(long_thread, django_assert_num_queries):
    agent, conversation = long_thread
    client = client_for(agent)
    url = f"{V1}conversations/{conversation.pk}/messages"
    client.get(url)
    for params in ({}, {"limit": 200}, {"before": 50, "limit": 10}):
        with django_assert_num_queries(3):  # token + user, visible?, messages
            assert client.get(url, params).status_code == 200


# --------------------------------------------------------------------------- contact card


@pytest.fixture
def customer(db):
    agent = AgentFactory(name="Ana")
    diego = AgentFactory(name="Diego", presence="offline")  # the auto rule routes normally
    team = TeamFactory(agents=[agent])
    globex = OrganizationFactory(name="Globex")
    brasil = OrganizationFactory(name="Globex Brasil", parent=globex)
    compras = OrganizationFactory(name="Compras", parent=brasil, kind="department")
    contact = ContactFactory(name="Marta", email="marta@globex.example", phone="+55 11 5555",
                             external_id="wa:marta", organization=compras)
    RuleFactory(organization=globex, agent=diego, type="auto")
    earlier = []
    for _ in range(2):
        old = arrive(contact=contact, team=team)
        routing.claim_conversation(conversation_id=old.pk, agent=agent)
        routing.close_conversation(conversation_id=old.pk, actor=agent)
        earlier.append(old)
    elsewhere = arrive(contact=contact, team=TeamFactory(agents=[diego]))
    routing.claim_conversation(conversation_id=elsewhere.pk, agent=diego)
    routing.close_conversation(conversation_id=elsewhere.pk, actor=diego)
    current = arrive(contact=contact, team=team, channel="whatsapp")
    return agent, contact, current, earlier, elsewhere


def test_the_contact_card_tells_who_the_customer_is(customer):
    agent, contact, current, earlier, elsewhere = customer
    card = client_for(agent).get(f"{V1}conversations/{current.pk}/contact")
    assert card.status_code == 200
    body = card.json()
    assert (body["name"], body["email"], body["phone"], body["external_id"], body["channel"]) \
        == ("Marta", "marta@globex.example", "+55 11 5555", "wa:marta", "whatsapp")
    assert [n["name"] for n in body["organization_path"]] == [
        "Globex", "Globex Brasil", "Compras",
    ]
    assert body["preferred_agent"]["name"] == "Diego"
    assert body["preferred_agent"]["type"] == "auto"
    # Earlier conversations the agent may see, newest first; not the other team's.
    assert [c["id"] for c in body["conversations"]] == [earlier[1].pk, earlier[0].pk]
    supervisor = client_for(SupervisorFactory()).get(f"{V1}conversations/{current.pk}/contact")
    assert elsewhere.pk in [c["id"] for c in supervisor.json()["conversations"]]


def test_the_contact_card_of_an_invisible_conversation_is_a_404(customer):
    *_rest, elsewhere = customer
    outsider = AgentFactory()
    assert client_for(outsider).get(
        f"{V1}conversations/{elsewhere.pk}/contact").status_code == 404
    assert client_for(None).get(f"{V1}conversations/{elsewhere.pk}/contact").status_code == 401


def test_the_contact_card_runs_constant_queries(customer, django_assert_num_queries):
    agent, contact, current, _earlier, _elsewhere = customer
    client = client_for(agent)
    url = f"{V1}conversations/{current.pk}/contact"
    client.get(url)
    # token + user, the conversation, organization path, rule, other conversations
    with django_assert_num_queries(5):
        small = client.get(url)
    deeper = OrganizationFactory(name="Deeper", parent=contact.organization)
    contact.organization = deeper
    contact.save()
    routing.close_conversation(conversation_id=current.pk, actor=SupervisorFactory())
    for _ in range(3):
        more = arrive(contact=contact, team=current.team)
        routing.close_conversation(conversation_id=more.pk, actor=SupervisorFactory())
    with django_assert_num_queries(5):
        large = client.get(url)
    assert len(large.json()["organization_path"]) == len(small.json()["organization_path"]) + 1
    assert len(large.json()["conversations"]) == len(small.json()["conversations"]) + 3
