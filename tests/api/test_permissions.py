"""Who may call what: every endpoint x every role. Refused requests (401 without credentials,
403 for a role that may not) change nothing at all. An integration reads only the
conversations its inbound opened: any other is a 404, as for one that does not exist."""

import pytest

from apps.accounts.models import IntegrationClient, PersonToken, User
from apps.conversations.models import Conversation, ConversationEvent, Message
from apps.organizations.models import Contact, Organization, PreferentialRule
from apps.routing import services as routing
from apps.skills.models import Skill
from apps.teams.models import Membership, RoutingSettings, Team
from apps.webchat.models import WebChat
from apps.webchat.services import create_webchat
from apps.webhooks.models import Delivery
from tests.api.conftest import ROLES, arrive

V1 = "/api/v1/"

PEOPLE = {"agent": 200, "supervisor": 200, "admin": 200, "integration": 403}
EVERYONE = {"agent": 200, "supervisor": 200, "admin": 200, "integration": 200}
NOT_ITS_OWN = {**PEOPLE, "integration": 404}
SUPERVISORS = {"agent": 403, "supervisor": 200, "admin": 200, "integration": 403}


def admin_only(status):
    return {"agent": 403, "supervisor": 403, "admin": status, "integration": 403}


def admin_and_integration(status):
    return {"agent": 403, "supervisor": 403, "admin": status, "integration": status}


# (name, method, path(world), body(world) or None, expected status by role)
ENDPOINTS = [
    ("agents list", "get", lambda w: "agents/", None, PEOPLE),
    ("agents create", "post", lambda w: "agents/",
     lambda w: {"username": "newbie", "password": "a-long-password-9"}, admin_only(201)),
    ("agent detail", "get", lambda w: f"agents/{w.other_agent.pk}/", None, admin_only(200)),
    ("agent update", "patch", lambda w: f"agents/{w.other_agent.pk}/",
     lambda w: {"capacity": 7, "name": "Bruno B."}, admin_only(200)),
    ("agent deactivate", "delete", lambda w: f"agents/{w.other_agent.pk}/", None,
     admin_only(204)),
    ("me", "get", lambda w: "me/", None, PEOPLE),
    ("presence", "get", lambda w: "me/presence", None, PEOPLE),
    ("presence set", "put", lambda w: "me/presence", lambda w: {"status": "away"}, PEOPLE),
    ("queues", "get", lambda w: "me/queues", None, PEOPLE),
    ("teams list", "get", lambda w: "teams/", None, PEOPLE),
    ("teams create", "post", lambda w: "teams/",
     lambda w: {"name": "New team", "members": [w.agent.pk]}, admin_only(201)),
    ("team detail", "get", lambda w: f"teams/{w.team.pk}/", None, admin_only(200)),
    ("team update", "patch", lambda w: f"teams/{w.team.pk}/",
     lambda w: {"distribution_mode": "sequential"}, admin_only(200)),
    ("team delete", "delete", lambda w: f"teams/{w.empty_team.pk}/", None, admin_only(204)),
    ("team distribute", "post", lambda w: f"teams/{w.team.pk}/distribute", None, SUPERVISORS),
    ("team distribute preview", "get", lambda w: f"teams/{w.team.pk}/distribute", None,
     SUPERVISORS),
    ("floor stats", "get", lambda w: "stats/teams", None, SUPERVISORS),
    ("teams report", "get", lambda w: "reports/teams", None, SUPERVISORS),
    ("agents report", "get", lambda w: "reports/agents", None, PEOPLE),
    ("ratings report", "get", lambda w: "reports/ratings", None, PEOPLE),
    ("skills list", "get", lambda w: "skills/", None, PEOPLE),
    ("skills create", "post", lambda w: "skills/", lambda w: {"name": "billing"},
     admin_only(201)),
    ("skill detail", "get", lambda w: f"skills/{w.skill.pk}/", None, admin_only(200)),
    ("skill update", "patch", lambda w: f"skills/{w.skill.pk}/", lambda w: {"name": "inglês"},
     admin_only(200)),
    ("skill delete", "delete", lambda w: f"skills/{w.skill.pk}/", None, admin_only(204)),
    ("organizations list", "get", lambda w: "organizations/", None, PEOPLE),
    ("organizations create", "post", lambda w: "organizations/",
     lambda w: {"name": "Globex", "parent": w.organization.pk}, admin_only(201)),
    ("organization detail", "get", lambda w: f"organizations/{w.organization.pk}/", None,
     admin_only(200)),
    ("organization update", "patch", lambda w: f"organizations/{w.organization.pk}/",
     lambda w: {"name": "Acme Inc"}, admin_only(200)),
    ("organization delete", "delete", lambda w: f"organizations/{w.organization.pk}/", None,
     admin_only(204)),
    ("contacts list", "get", lambda w: "contacts/", None, admin_and_integration(200)),
    ("contacts create", "post", lambda w: "contacts/",
     lambda w: {"external_id": "crm:new", "name": "New"}, admin_and_integration(201)),
    ("contact detail", "get", lambda w: f"contacts/{w.contact.pk}/", None, admin_only(200)),
    ("contact update", "patch", lambda w: f"contacts/{w.contact.pk}/",
     lambda w: {"phone": "+55 11 5555"}, admin_only(200)),
    ("contact delete", "delete", lambda w: f"contacts/{w.contact.pk}/", None, admin_only(204)),
    ("rules list", "get", lambda w: "preferential-rules/", None, admin_only(200)),
    ("rules create", "post", lambda w: "preferential-rules/",
     lambda w: {"contact": w.contact.pk, "agent": w.agent.pk, "type": "auto"}, admin_only(201)),
    ("rule detail", "get", lambda w: f"preferential-rules/{w.rule.pk}/", None, admin_only(200)),
    ("rule update", "patch", lambda w: f"preferential-rules/{w.rule.pk}/",
     lambda w: {"active": False}, admin_only(200)),
    ("rule delete", "delete", lambda w: f"preferential-rules/{w.rule.pk}/", None,
     admin_only(204)),
    ("integrations list", "get", lambda w: "integrations/", None, admin_only(200)),
    ("integrations create", "post", lambda w: "integrations/", lambda w: {"name": "Telegram"},
     admin_only(201)),
    ("integration revoke", "delete", lambda w: f"integrations/{w.other_integration.pk}/", None,
     admin_only(204)),
    ("integration detail", "get", lambda w: f"integrations/{w.other_integration.pk}/", None,
     admin_only(200)),
    ("integration update", "patch", lambda w: f"integrations/{w.other_integration.pk}/",
     lambda w: {"name": "Webchat", "active": False}, admin_only(200)),
    ("webchats list", "get", lambda w: "webchats/", None, admin_only(200)),
    ("webchats create", "post", lambda w: "webchats/", lambda w: {"name": "Loja"},
     admin_only(201)),
    ("webchat detail", "get", lambda w: f"webchats/{w.webchat.pk}/", None, admin_only(200)),
    ("webchat update", "patch", lambda w: f"webchats/{w.webchat.pk}/",
     lambda w: {"greeting": "Oi!"}, admin_only(200)),
    ("webchat delete", "delete", lambda w: f"webchats/{w.webchat.pk}/", None, admin_only(204)),
    ("integration deliveries", "get",
     lambda w: f"integrations/{w.integration.pk}/deliveries", None, admin_only(200)),
    ("routing settings", "get", lambda w: "routing-settings", None, PEOPLE),
    ("routing settings set", "put", lambda w: "routing-settings",
     lambda w: {"default_team": w.team.pk}, admin_only(200)),
    ("inbound", "post", lambda w: "inbound",
     lambda w: {"contact": {"external_id": "wa:someone"}, "body": "Hi"},
     admin_and_integration(201)),
    ("conversations list", "get", lambda w: "conversations/", None, PEOPLE),
    ("overflow work", "get", lambda w: "conversations/overflow", None, PEOPLE),
    ("conversation detail", "get", lambda w: f"conversations/{w.waiting.pk}/", None,
     NOT_ITS_OWN),
    ("own conversation detail", "get", lambda w: f"conversations/{w.owned.pk}/", None,
     EVERYONE),
    ("claim", "post", lambda w: f"conversations/{w.waiting.pk}/claim", None, PEOPLE),
    ("assign", "post", lambda w: f"conversations/{w.queued.pk}/assign",
     lambda w: {"agent": w.agent.pk}, SUPERVISORS),
    ("transfer", "post", lambda w: f"conversations/{w.mine.pk}/transfer",
     lambda w: {"team": w.other_team.pk}, PEOPLE),
    # An integration routes only the conversations it opened.
    ("route", "post", lambda w: f"conversations/{w.queued.pk}/route",
     lambda w: {"team": w.other_team.pk},
     {"agent": 403, "supervisor": 200, "admin": 200, "integration": 404}),
    ("route its own", "post", lambda w: f"conversations/{w.owned.pk}/route",
     lambda w: {"team": w.other_team.pk},
     {"agent": 403, "supervisor": 200, "admin": 200, "integration": 200}),
    ("close", "post", lambda w: f"conversations/{w.mine.pk}/close", None, PEOPLE),
    ("messages", "get", lambda w: f"conversations/{w.mine.pk}/messages", None, NOT_ITS_OWN),
    ("own messages", "get", lambda w: f"conversations/{w.owned.pk}/messages", None, EVERYONE),
    ("reply in its own", "post", lambda w: f"conversations/{w.owned.pk}/messages",
     lambda w: {"body": "Bot speaking"}, {**PEOPLE, "agent": 403, "supervisor": 201,
                                          "admin": 201}),
    ("reply", "post", lambda w: f"conversations/{w.mine.pk}/messages",
     lambda w: {"body": "On it"}, {**PEOPLE, "agent": 201, "supervisor": 201, "admin": 201}),
    ("events", "get", lambda w: f"conversations/{w.mine.pk}/events", None, PEOPLE),
    ("revoke my token", "delete", lambda w: "me/token", None,
     {**PEOPLE, "agent": 204, "supervisor": 204, "admin": 204}),
    ("ws ticket", "post", lambda w: "ws-ticket", None,
     {**PEOPLE, "agent": 201, "supervisor": 201, "admin": 201}),
    # An integration reads the queue only of conversations it opened (not this one).
    ("queue", "get", lambda w: f"conversations/{w.waiting.pk}/queue", None,
     {**PEOPLE, "integration": 404}),
    ("contact card", "get", lambda w: f"conversations/{w.mine.pk}/contact", None, PEOPLE),
    # Only the integration relays its customer's rating.
    ("rating", "post", lambda w: f"conversations/{w.owned_closed.pk}/rating",
     lambda w: {"score": 5}, {**PEOPLE, "agent": 403, "supervisor": 403, "admin": 403,
                              "integration": 201}),
]
# Allowed, yet nothing in the database changes: a ticket lives in the cache for 30 s.
CACHE_ONLY = {"ws ticket"}


def snapshot() -> dict:
    """Everything a request could change (except heartbeats and sign-in times)."""
    return {
        "users": list(User.objects.order_by("pk").values_list(
            "pk", "username", "name", "email", "role", "capacity", "presence", "is_active",
            "open_count", "password")),
        "teams": list(Team.objects.order_by("pk").values_list("pk", "name", "distribution_mode")),
        "memberships": list(Membership.objects.order_by("pk").values_list(
            "team_id", "agent_id", "last_assigned_at")),
        "organizations": list(Organization.objects.order_by("pk").values_list(
            "pk", "name", "kind", "parent_id", "tree_id", "lft", "rght")),
        "contacts": list(Contact.objects.order_by("pk").values_list(
            "pk", "name", "email", "phone", "external_id", "organization_id")),
        "rules": list(PreferentialRule.objects.order_by("pk").values_list(
            "pk", "organization_id", "contact_id", "agent_id", "type", "active")),
        "integrations": list(IntegrationClient.objects.order_by("pk").values_list(
            "pk", "name", "token_hash", "revoked_at", "webhook_url", "webhook_secret",
            "active")),
        "settings": list(RoutingSettings.objects.values_list("pk", "default_team_id")),
        "conversations": list(Conversation.objects.order_by("pk").values_list(
            "pk", "status", "team_id", "assignee_id", "preferred_agent_id", "closed_at",
            "last_message_id", "updated_at")),
        "messages": Message.objects.count(),
        "events": ConversationEvent.objects.count(),
        "tokens": PersonToken.objects.count(),
        "deliveries": Delivery.objects.count(),
        "skills": list(Skill.objects.order_by("pk").values_list("pk", "name")),
        "webchats": list(WebChat.objects.order_by("pk").values_list(
            "pk", "name", "greeting", "secret", "active")),
    }


@pytest.fixture
def world(world):
    """The API world plus a conversation the integration's inbound opened (queued in the
    agent's team, not assigned: the agent may see it but not reply)."""
    world.owned = arrive("wa:owned", team=world.team, actor=world.integration)
    world.owned_closed = arrive("wa:owned-closed", team=world.team, actor=world.integration)
    routing.claim_conversation(conversation_id=world.owned_closed.pk, agent=world.supervisor)
    routing.close_conversation(conversation_id=world.owned_closed.pk, actor=world.supervisor)
    world.skill = Skill.objects.create(name="english")
    world.webchat, _secret = create_webchat(name="Shop", allowed_origins=["https://shop.example"])
    return world


CASES = [
    pytest.param(endpoint, role, id=f"{endpoint[0]}-{role}")
    for endpoint in ENDPOINTS
    for role in ROLES
]


@pytest.mark.parametrize(("endpoint", "role"), CASES)
def test_who_may_call_what(world, endpoint, role):
    name, method, path, body, expected_by_role = endpoint
    expected = 401 if role == "anonymous" else expected_by_role[role]
    client = world.client(role)
    before = snapshot()
    kwargs = {"format": "json"} if body else {}
    data = body(world) if body else None
    response = getattr(client, method)(V1 + path(world), data, **kwargs)
    assert response.status_code == expected, response.content
    if expected in (401, 403, 404):
        assert "detail" in response.json()
        assert snapshot() == before, f"refused {name} changed something"
    elif method != "get" and name not in CACHE_ONLY:
        assert snapshot() != before, f"allowed {name} changed nothing"


def test_every_route_of_the_api_is_in_the_table():
    """A new endpoint cannot slip in without saying who may call it."""
    from config.api_urls import v1

    routes = set()

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
                continue
            view = pattern.callback.view_class
            route = (prefix + str(pattern.pattern)).replace("<id:pk>", "{id}")
            for method in view.http_method_names:
                if method not in ("options", "head") and hasattr(view, method):
                    routes.add((method, route))

    walk(v1)
    table = {(method, path(_Ids())) for _, method, path, _, _ in ENDPOINTS}
    assert routes - {("post", "auth/token")} == table


class _Ids:
    """Stands for the world in ENDPOINTS: every object's id renders as ``{id}``."""

    pk = "{id}"

    def __getattr__(self, name):
        return self
