"""A web chat customer's socket: who may connect, what they see, what they may do."""

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async

from apps.conversations.models import Conversation, Status
from apps.conversations.services import post_reply
from apps.organizations.models import Contact
from apps.routing import services as routing
from apps.skills.models import ConversationRequirement, Skill
from apps.webchat import services
from apps.webhooks import crypto
from apps.webhooks.models import Delivery
from tests.factories import AgentFactory, TeamFactory
from tests.webchat.helpers import (
    customer_socket,
    hello,
    identity,
    make_webchat,
    receive_until,
    welcomed,
)

pytestmark = pytest.mark.django_db(transaction=True)


def of(kind):
    return lambda event: event["type"] == kind


async def refusal(key, **kwargs):
    comm = customer_socket(key, **kwargs)
    ok, _ = await comm.connect(timeout=5)
    assert ok  # accepted only to say why
    event = await comm.receive_json_from(timeout=5)
    closed = await comm.receive_output(timeout=5)
    await comm.disconnect()
    return event, closed


def test_wrong_origin_unknown_or_disabled_key_are_refused_in_json():
    webchat, _secret = make_webchat()
    off, _ = make_webchat(name="Off", active=False)

    async def scenario():
        event, closed = await refusal(webchat.public_key, origin="https://evil.example")
        assert event["type"] == "refused" and event["code"] == "origin_not_allowed"
        assert closed == {"type": "websocket.close", "code": 4403}
        event, _ = await refusal(webchat.public_key, origin=None)
        assert event["code"] == "origin_not_allowed"
        event, _ = await refusal("wc_nope")
        assert event["code"] == "unknown_key"
        event, _ = await refusal(off.public_key, lang="pt-BR")
        assert event["code"] == "unknown_key"
        assert event["detail"] == "Não há chat do site ativo com essa chave."

    async_to_sync(scenario)()
    assert not Contact.objects.exists()


def test_anonymous_visitor_writes_is_answered_and_rates():
    ana = AgentFactory(name="Ana Souza", email="ana@example.com")
    team = TeamFactory(agents=[ana], name="Vendas")
    webchat, _secret = make_webchat(teams=[("Comprar", team)], greeting="Olá!")

    async def scenario():
        comm, welcome = await welcomed(webchat.public_key)
        assert welcome["greeting"] == "Olá!"
        assert welcome["teams"] == [
            {"choice": 0, "label": "Comprar", "team_open": True, "team_opens_at": None}
        ]
        session, state = await hello(comm)
        assert session["identified"] is False and session["visitor"]
        assert state["status"] == "none" and state["messages"] == []

        await comm.send_json_to({"type": "send", "body": "<b>Oi</b>", "choice": 0,
                                 "name": "Paula"})
        events = await receive_until(comm, of("state"))
        sent = next(e for e in events if e["type"] == "sent")
        assert sent["message"]["body"] == "<b>Oi</b>" and sent["message"]["from"] == "me"
        state = events[-1]
        assert state["status"] == Status.QUEUED and state["position"] == 1
        conversation_id = state["conversation"]

        await database_sync_to_async(routing.claim_conversation)(
            conversation_id=conversation_id, agent=ana)
        status = (await receive_until(comm, lambda e: e["type"] == "status"
                                      and e["status"] == "assigned"))[-1]
        assert status["agent"] == "Ana" and status["position"] is None

        await database_sync_to_async(post_reply)(
            conversation_id=conversation_id, author=ana, body="Olá, Paula")
        message = (await receive_until(comm, of("message")))[-1]["message"]
        assert message == {"id": message["id"], "from": "agent", "agent": "Ana",
                           "body": "Olá, Paula", "at": message["at"]}

        await database_sync_to_async(routing.close_conversation)(
            conversation_id=conversation_id, actor=ana)
        status = (await receive_until(comm, lambda e: e["type"] == "status"
                                      and e["status"] == "closed"))[-1]
        assert status["can_rate"] is True

        await comm.send_json_to({"type": "rate", "conversation": conversation_id, "score": 5,
                                 "comment": "Ótimo"})
        status = (await receive_until(comm, of("status")))[-1]
        assert status["rating"] == {"score": 5, "comment": "Ótimo"}
        assert status["can_rate"] is False
        await comm.send_json_to({"type": "rate", "conversation": conversation_id, "score": 1})
        error = (await receive_until(comm, of("error")))[-1]
        assert error["code"] == "already_rated"

        # A second tab with the same visitor id: the whole conversation.
        other, _ = await welcomed(webchat.public_key)
        _session, again = await hello(other, visitor=session["visitor"])
        assert [m["body"] for m in again["messages"]] == ["<b>Oi</b>", "Olá, Paula"]
        assert again["rating"]["score"] == 5
        await other.disconnect()
        await comm.disconnect()

    async_to_sync(scenario)()
    conversation = Conversation.objects.get()
    assert conversation.integration_id == webchat.integration_id
    assert conversation.team == team and conversation.rating_score == 5
    assert conversation.contact.name == "Paula"


def test_identified_customer_needs_the_right_hash():
    webchat, secret = make_webchat()

    async def scenario():
        comm, _ = await welcomed(webchat.public_key)
        await comm.send_json_to({"type": "hello", "identity": {
            "externalId": "cust-42", "hash": "0" * 64, "name": "Maria"}})
        events = await receive_until(comm, of("state"))
        assert events[0] == {"type": "refused", "code": "bad_hash",
                             "detail": events[0]["detail"]}
        session = next(e for e in events if e["type"] == "session")
        assert session["identified"] is False  # stays anonymous

        await comm.send_json_to({"type": "identify",
                                 "identity": identity(secret, "cust-42", name="Maria")})
        session = (await receive_until(comm, of("session")))[-1]
        assert session == {"type": "session", "visitor": None, "identified": True,
                           "name": "Maria"}
        await comm.send_json_to({"type": "send", "body": "Oi"})
        await receive_until(comm, of("state"))
        await comm.disconnect()

    async_to_sync(scenario)()
    contact = Contact.objects.get()
    assert contact.external_id == "cust-42" and contact.name == "Maria"


def test_position_moves_as_the_queue_moves():
    ana = AgentFactory(name="Ana")
    team = TeamFactory(agents=[ana])
    webchat, _ = make_webchat(teams=[("Vendas", team)])

    async def scenario():
        first, _ = await welcomed(webchat.public_key)
        second, _ = await welcomed(webchat.public_key, address="203.0.113.8")
        await hello(first)
        await hello(second)
        await first.send_json_to({"type": "send", "body": "1", "choice": 0})
        one = (await receive_until(first, of("state")))[-1]
        await second.send_json_to({"type": "send", "body": "2", "choice": 0})
        two = (await receive_until(second, of("state")))[-1]
        assert (one["position"], two["position"]) == (1, 2)
        await database_sync_to_async(routing.claim_conversation)(
            conversation_id=one["conversation"], agent=ana)
        moved = (await receive_until(second, lambda e: e["type"] == "status"
                                     and e["position"] == 1))[-1]
        assert moved["status"] == "queued"
        await first.disconnect()
        await second.disconnect()

    async_to_sync(scenario)()


def test_limits_refuse_and_change_nothing(settings):
    settings.WEBCHAT_MAX_MESSAGE_CHARS = 10
    settings.WEBCHAT_MESSAGES_PER_MINUTE_PER_ADDRESS = 2
    settings.WEBCHAT_CONNECTIONS_PER_ADDRESS = 2
    webchat, _ = make_webchat()

    async def scenario():
        comm, _ = await welcomed(webchat.public_key)
        await hello(comm)
        await comm.send_json_to({"type": "send", "body": "x" * 11})
        error = (await receive_until(comm, of("error")))[-1]
        assert error["field"] == "body"
        for body in ("one", "two"):
            await comm.send_json_to({"type": "send", "body": body})
            await receive_until(comm, of("sent"))
        await comm.send_json_to({"type": "send", "body": "three"})
        error = (await receive_until(comm, of("error")))[-1]
        assert error["code"] == "rate_limited"

        second, _ = await welcomed(webchat.public_key)
        event, closed = await refusal(webchat.public_key)
        assert event["code"] == "rate_limited" and closed["code"] == 4429
        await second.disconnect()
        third, _ = await welcomed(webchat.public_key)  # a closed socket frees its place
        await third.disconnect()
        await comm.disconnect()

    async_to_sync(scenario)()
    assert [m.body for m in Conversation.objects.get().messages.all()] == ["one", "two"]


def test_a_deleted_chat_revokes_its_integration():
    webchat, _ = make_webchat()
    services.delete_webchat(webchat=webchat)
    webchat.integration.refresh_from_db()
    assert webchat.integration.revoked_at is not None


def test_customers_see_only_their_own_and_the_site_hears_by_webhook():
    ana = AgentFactory(name="Ana")
    team = TeamFactory(agents=[ana])
    webchat, _ = make_webchat(teams=[("Vendas", team)])
    integration = webchat.integration
    integration.webhook_url = "http://127.0.0.1:9/atende"  # refused at once: never the network
    integration.webhook_secret = crypto.encrypt("whsec_test")
    integration.save()

    async def scenario():
        first, _ = await welcomed(webchat.public_key)
        other, _ = await welcomed(webchat.public_key, address="203.0.113.9")
        await hello(first)
        await hello(other)
        await first.send_json_to({"type": "send", "body": "mine", "choice": 0})
        mine = (await receive_until(first, of("state")))[-1]["conversation"]
        await database_sync_to_async(routing.claim_conversation)(
            conversation_id=mine, agent=ana)
        await database_sync_to_async(post_reply)(
            conversation_id=mine, author=ana, body="only for the first")
        await receive_until(first, of("message"))
        assert await other.receive_nothing(timeout=0.5)
        # Rating someone else's conversation: as if it did not exist.
        await other.send_json_to({"type": "rate", "conversation": mine, "score": 1})
        error = (await receive_until(other, of("error")))[-1]
        assert error["code"] == "not_found"
        await first.disconnect()
        await other.disconnect()

    async_to_sync(scenario)()
    sent = Delivery.objects.filter(integration=integration).values_list("type", flat=True)
    assert "message.created" in set(sent)


def test_a_second_tab_follows_the_conversation_the_first_opened(settings):
    settings.WEBCHAT_CONVERSATIONS_PER_MINUTE_PER_ADDRESS = 1
    webchat, _ = make_webchat()

    async def scenario():
        first, _ = await welcomed(webchat.public_key)
        session, _ = await hello(first)
        second, _ = await welcomed(webchat.public_key)
        await hello(second, visitor=session["visitor"])
        await first.send_json_to({"type": "send", "body": "from the first tab"})
        state = (await receive_until(second, of("state")))[-1]
        assert [m["body"] for m in state["messages"]] == ["from the first tab"]

        # Another visitor from the same address: over the new conversations' limit.
        stranger, _ = await welcomed(webchat.public_key)
        await hello(stranger)
        await stranger.send_json_to({"type": "send", "body": "me too"})
        error = (await receive_until(stranger, of("error")))[-1]
        assert error["code"] == "rate_limited"
        for comm in (first, second, stranger):
            await comm.disconnect()

    async_to_sync(scenario)()
    assert Conversation.objects.count() == 1


def test_a_flooding_socket_is_told_and_closed(settings):
    settings.WS_MESSAGE_BURST = 3
    settings.WS_MESSAGES_PER_SECOND = 0.01
    webchat, _ = make_webchat()

    async def scenario():
        comm, _ = await welcomed(webchat.public_key)
        await hello(comm)
        for _ in range(3):
            await comm.send_json_to({"type": "nonsense"})
        events = await receive_until(comm, of("refused"))
        assert events[-1]["code"] == "rate_limited"
        assert (await comm.receive_output(timeout=5))["code"] == 4429
        await comm.disconnect()

    async_to_sync(scenario)()


def test_a_choice_that_requires_a_skill_opens_a_conversation_requiring_it():
    english = Skill.objects.create(name="english")
    team = TeamFactory(name="Suporte")
    webchat, _ = make_webchat()
    services.update_webchat(webchat=webchat, teams_offered=[
        {"label": "Falar em inglês", "team": team.pk,
         "skills": ["english"]},
    ])

    async def scenario():
        comm, welcome = await welcomed(webchat.public_key)
        assert "skills" not in welcome["teams"][0]  # the customer is told the choice only
        await hello(comm)
        await comm.send_json_to({"type": "send", "body": "Hello", "choice": 0})
        await receive_until(comm, of("state"))
        await comm.disconnect()

    async_to_sync(scenario)()
    conversation = Conversation.objects.get()
    assert conversation.team == team
    assert list(ConversationRequirement.objects.filter(conversation=conversation)
                .values_list("skill", "min_level")) == [(english.pk, 1)]
