"""No input, however malformed, gives a 500: every bad input is a 4xx with a detail and
changes nothing."""

import pytest

from tests.api.test_permissions import snapshot

V1 = "/api/v1/"

BAD_IDS = ["abc", 99_999, -1, 0, 1e40, 1.5, [1], {"id": 1}, True, None, "", 2**64, "1e3"]

# (role, method, path(world), bad payload)
CASES = []
for bad in BAD_IDS:
    CASES += [
        ("supervisor", "post", lambda w: f"conversations/{w.queued.pk}/assign", {"agent": bad}),
        ("supervisor", "post", lambda w: f"conversations/{w.queued.pk}/route", {"team": bad}),
        ("agent", "post", lambda w: f"conversations/{w.mine.pk}/transfer", {"team": bad}),
        ("agent", "post", lambda w: f"conversations/{w.mine.pk}/transfer", {"agent": bad}),
        ("admin", "put", lambda w: "routing-settings", {"default_team": bad}
         if bad is not None else {"default_team": "x"}),
        ("admin", "post", lambda w: "teams/", {"name": "T", "members": [bad]}),
        ("admin", "post", lambda w: "organizations/", {"name": "O", "parent": bad}
         if bad is not None else {"name": "O", "parent": "x"}),
        ("admin", "post", lambda w: "preferential-rules/",
         {"contact": bad, "agent": 1, "type": "auto"}),
        ("integration", "post", lambda w: "inbound",
         {"contact": {"external_id": "x", "organization": bad}, "body": "hi", "team": bad}
         if bad is not None else {"contact": None, "body": "hi"}),
    ]

LONG = "x" * 256
CASES += [
    ("agent", "post", lambda w: f"conversations/{w.mine.pk}/messages", {"body": ""}),
    ("agent", "post", lambda w: f"conversations/{w.mine.pk}/messages", {"body": "   "}),
    ("agent", "post", lambda w: f"conversations/{w.mine.pk}/messages", {"body": "x" * 10_001}),
    ("agent", "post", lambda w: f"conversations/{w.mine.pk}/messages", {"body": 5}),
    ("agent", "post", lambda w: f"conversations/{w.mine.pk}/messages", {}),
    ("agent", "post", lambda w: f"conversations/{w.mine.pk}/transfer", {}),
    ("agent", "post", lambda w: f"conversations/{w.mine.pk}/transfer",
     {"team": 1, "agent": 1}),
    ("agent", "put", lambda w: "me/presence", {"status": "sleeping"}),
    ("agent", "put", lambda w: "me/presence", {}),
    ("admin", "post", lambda w: "agents/", {"username": LONG}),
    ("admin", "post", lambda w: "agents/", {"username": "ana"}),  # taken
    ("admin", "post", lambda w: "agents/", {"username": "z", "email": "ana@example.com"}),
    ("admin", "post", lambda w: "agents/", {"username": "z", "name": LONG}),
    ("admin", "post", lambda w: "agents/", {"username": "z", "capacity": 10_001}),
    ("admin", "post", lambda w: "agents/", {"username": "z", "capacity": -1}),
    ("admin", "post", lambda w: "agents/", {"username": "z", "role": "god"}),
    ("admin", "post", lambda w: "agents/", {"username": "z", "password": "short"}),
    ("admin", "patch", lambda w: f"agents/{w.agent.pk}/", {"capacity": "many"}),
    ("admin", "patch", lambda w: f"agents/{w.agent.pk}/", {"capacity": 1e40}),
    ("admin", "patch", lambda w: f"agents/{w.admin.pk}/", {"is_active": False}),
    ("admin", "delete", lambda w: f"agents/{w.admin.pk}/", None),
    ("admin", "post", lambda w: "teams/", {"name": "Sales"}),  # taken
    ("admin", "post", lambda w: "teams/", {"name": LONG}),
    ("admin", "post", lambda w: "teams/", {"name": "T", "distribution_mode": "random"}),
    ("admin", "post", lambda w: "teams/", {"name": "T", "members": 5}),
    ("admin", "post", lambda w: "organizations/", {"name": "O", "kind": "planet"}),
    ("admin", "patch", lambda w: f"organizations/{w.organization.pk}/",
     lambda w: {"parent": w.organization.pk}),
    ("admin", "post", lambda w: "contacts/", {"external_id": "crm:carla"}),  # taken
    ("admin", "post", lambda w: "contacts/", {"external_id": LONG}),
    ("admin", "post", lambda w: "contacts/", {"external_id": "e", "email": "not-an-email"}),
    ("admin", "post", lambda w: "contacts/", {"external_id": "e", "phone": LONG}),
    ("admin", "post", lambda w: "preferential-rules/", {"agent": 1, "type": "auto"}),
    ("admin", "post", lambda w: "preferential-rules/",
     lambda w: {"organization": w.organization.pk, "contact": w.contact.pk,
                "agent": w.agent.pk, "type": "auto"}),
    ("admin", "post", lambda w: "preferential-rules/",  # the organization has an active rule
     lambda w: {"organization": w.organization.pk, "agent": w.agent.pk, "type": "auto"}),
    ("admin", "post", lambda w: "preferential-rules/",
     lambda w: {"contact": w.contact.pk, "agent": w.agent.pk, "type": "sometimes"}),
    ("admin", "post", lambda w: "integrations/", {"name": ""}),
    ("admin", "post", lambda w: "integrations/", {"name": LONG}),
    ("integration", "post", lambda w: "inbound", {"contact": {"external_id": LONG},
                                                  "body": "hi"}),
    ("integration", "post", lambda w: "inbound", {"contact": {"external_id": ""},
                                                  "body": "hi"}),
    ("integration", "post", lambda w: "inbound", {"contact": {"external_id": "e"}, "body": ""}),
    ("integration", "post", lambda w: "inbound", {"contact": "e", "body": "hi"}),
    ("integration", "post", lambda w: "inbound", {"contact": {"external_id": "e",
                                                  "email": "nope"}, "body": "hi"}),
    ("integration", "post", lambda w: "inbound", {"contact": {"external_id": "e"},
                                                  "body": "hi", "channel": LONG}),
    ("supervisor", "get", lambda w: "conversations/?status=lost", None),
    ("supervisor", "get", lambda w: "conversations/?team=abc", None),
    ("supervisor", "get", lambda w: "conversations/?assignee=-4", None),
    ("supervisor", "get", lambda w: "conversations/?contact=99999999999999999999999", None),
    ("agent", "get", lambda w: "organizations/?parent=abc", None),
    ("admin", "get", lambda w: "contacts/?organization=x", None),
]


@pytest.mark.parametrize(("role", "method", "path", "payload"), CASES)
def test_bad_payloads_are_400_and_change_nothing(world, role, method, path, payload):
    client = world.client(role)
    if callable(payload):
        payload = payload(world)
    before = snapshot()
    response = getattr(client, method)(V1 + path(world), payload, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["detail"]
    assert snapshot() == before


RAW_BODIES = ["[1, 2]", '"text"', "not json", "{", "null", "42", '{"body": "\\ud800"}']


@pytest.mark.parametrize("raw", RAW_BODIES)
@pytest.mark.parametrize(("role", "path"), [
    ("agent", lambda w: f"conversations/{w.mine.pk}/messages"),
    ("integration", lambda w: "inbound"),
    ("admin", lambda w: "teams/"),
    ("supervisor", lambda w: f"conversations/{w.queued.pk}/assign"),
])
def test_bodies_that_are_not_a_json_object_are_400(world, role, path, raw):
    client = world.client(role)
    before = snapshot()
    response = client.post(V1 + path(world), raw, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["detail"]
    assert snapshot() == before


def test_a_body_that_is_not_json_at_all_is_415(world):
    response = world.client("agent").post(f"{V1}conversations/{world.mine.pk}/messages",
                                          "body=hi", content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["detail"]


@pytest.mark.parametrize("path", [
    "conversations/99999999999999999999999/",
    "conversations/99999999999999999999999/claim",
    "conversations/123456789012345678/",
    "conversations/-1/",
    "conversations/abc/",
    "agents/99999/",
    "teams/99999/distribute",
    "conversations/99999/claim",
    "conversations/99999/messages",
    "nothing-here",
    "agents",  # collections end with a slash
    "me/presence/",  # actions do not
])
def test_unknown_ids_and_paths_are_json_404(world, path):
    response = world.client("admin").get(V1 + path)
    if path.endswith(("claim", "distribute")):
        response = world.client("admin").post(V1 + path)
    assert response.status_code == 404, response.content
    assert response.json()["detail"]
