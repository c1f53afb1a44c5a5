"""What an outside client can do knowing only api.md: provision, feed, serve, close."""

from rest_framework.test import APIClient

from apps.routing.invariants import check_invariants
from tests.factories import AdminFactory

V1 = "/api/v1/"


def token_client(username, password) -> APIClient:
    client = APIClient()
    response = client.post(f"{V1}auth/token", {"username": username, "password": password},
                           format="json")
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client


def test_provision_feed_claim_reply_transfer_close(transactional_db):
    """Real commits (transactional_db), so every after-commit effect runs as in production."""
    AdminFactory(username="boss")
    admin = token_client("boss", "secret-pass-1")

    def ok(response, status=200):
        assert response.status_code == status, response.content
        return response.json() if response.content else None

    # Provision people, teams, the organization tree, contacts and a rule.
    ana = ok(admin.post(f"{V1}agents/", {"username": "ana", "name": "Ana", "email":
             "ana@example.com", "password": "a-long-password-1", "capacity": 3},
             format="json"), 201)
    bia = ok(admin.post(f"{V1}agents/", {"username": "bia", "password": "a-long-password-2",
             "role": "agent"}, format="json"), 201)
    assert ana["role"] == "agent" and ana["capacity"] == 3 and ana["presence"] == "offline"
    sales = ok(admin.post(f"{V1}teams/", {"name": "Sales", "distribution_mode": "manual",
               "members": [ana["id"], bia["id"]]}, format="json"), 201)
    support = ok(admin.post(f"{V1}teams/", {"name": "Support", "distribution_mode":
                 "capacity", "members": [bia["id"]]}, format="json"), 201)
    assert sales["members"] == sorted([ana["id"], bia["id"]])
    acme = ok(admin.post(f"{V1}organizations/", {"name": "Acme", "kind": "organization"},
              format="json"), 201)
    billing = ok(admin.post(f"{V1}organizations/", {"name": "Billing", "kind": "department",
                 "parent": acme["id"]}, format="json"), 201)
    assert billing["parent"] == acme["id"]
    vip = ok(admin.post(f"{V1}contacts/", {"name": "Vera", "external_id": "wa:vera",
             "organization": billing["id"]}, format="json"), 201)
    rule = ok(admin.post(f"{V1}preferential-rules/", {"organization": acme["id"],
              "agent": ana["id"], "type": "queue"}, format="json"), 201)
    assert rule["active"] is True and rule["contact"] is None
    ok(admin.put(f"{V1}routing-settings", {"default_team": sales["id"]}, format="json"))
    created = ok(admin.post(f"{V1}integrations/", {"name": "WhatsApp"}, format="json"), 201)
    bot = APIClient()
    bot.credentials(HTTP_AUTHORIZATION=f"Token {created['token']}")

    # The channel feeds conversations.
    first = ok(bot.post(f"{V1}inbound", {"contact": {"external_id": "wa:vera"},
               "body": "Hi", "channel": "whatsapp"}, format="json"), 201)
    assert first["status"] == "queued" and first["team"] == sales["id"]
    assert first["preferred_agent"] == ana["id"] and first["preferred_type"] == "queue"
    again = ok(bot.post(f"{V1}inbound", {"contact": {"external_id": "wa:vera"},
               "body": "Anyone?"}, format="json"), 200)
    assert again["id"] == first["id"] and again["last_message"]["body"] == "Anyone?"
    other = ok(bot.post(f"{V1}inbound", {"contact": {"external_id": "wa:new", "name": "Nil",
               "email": "nil@example.com"}, "body": "Hello"}, format="json"), 201)
    contacts = ok(bot.get(f"{V1}contacts/"))
    assert {c["external_id"] for c in contacts} == {"wa:vera", "wa:new"}
    assert vip["id"] in {c["id"] for c in contacts}

    # Agents serve.
    ana_client = token_client("ana", "a-long-password-1")
    ok(ana_client.put(f"{V1}me/presence", {"status": "online"}, format="json"))
    assert ok(ana_client.get(f"{V1}me/presence")) == {"status": "online"}
    counts = ok(ana_client.get(f"{V1}me/queues"))
    assert counts["teams"] == [{"id": sales["id"], "name": "Sales", "queued": 2}]
    listed = ok(ana_client.get(f"{V1}conversations/", {"status": "queued"}))
    assert [c["id"] for c in listed["results"]] == [other["id"], first["id"]]
    claimed = ok(ana_client.post(f"{V1}conversations/{first['id']}/claim"))
    assert claimed["status"] == "assigned" and claimed["assignee"] == ana["id"]
    reply = ok(ana_client.post(f"{V1}conversations/{first['id']}/messages",
               {"body": "How can I help?"}, format="json"), 201)
    assert reply["sender"] == "agent" and reply["author"]["id"] == ana["id"]
    messages = ok(ana_client.get(f"{V1}conversations/{first['id']}/messages"))
    assert [m["body"] for m in messages] == ["Hi", "Anyone?", "How can I help?"]

    moved = ok(ana_client.post(f"{V1}conversations/{first['id']}/transfer",
               {"team": support["id"]}, format="json"))
    assert moved["team"] == support["id"] and moved["status"] == "queued"  # bia offline
    bia_client = token_client("bia", "a-long-password-2")
    ok(bia_client.put(f"{V1}me/presence", {"status": "online"}, format="json"))
    # Coming online distributes the capacity team's backlog to bia.
    now = ok(bia_client.get(f"{V1}conversations/{first['id']}/"))
    assert now["status"] == "assigned" and now["assignee"] == bia["id"]
    closed = ok(bia_client.post(f"{V1}conversations/{first['id']}/close"))
    assert closed["status"] == "closed" and closed["closed_at"]

    history = ok(admin.get(f"{V1}conversations/{first['id']}/events"))
    kinds = [e["kind"] for e in history]
    assert kinds[0] == "queued" and kinds[-1] == "closed"
    assert "claimed" in kinds and "transferred" in kinds
    assert history[0]["from"] is None
    assert history[-1]["actor"] == {"kind": "agent", "id": bia["id"], "name": "bia"}
    assert history[-1]["from"] == {"status": "assigned", "team": support["id"],
                                   "assignee": bia["id"]}

    # Deprovision: the deactivated agent can no longer use her token.
    ok(admin.delete(f"{V1}agents/{bia['id']}/"), 204)
    assert bia_client.get(f"{V1}me/").status_code == 401
    ok(admin.delete(f"{V1}integrations/{created['id']}/"), 204)
    assert bot.get(f"{V1}contacts/").status_code == 401
    assert check_invariants() == []
