"""Behaviour of the admin-owned resources and the conversation actions beyond permissions."""


import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.accounts.models import Presence, User
from apps.conversations.models import Status
from apps.organizations.models import Organization
from apps.routing.invariants import check_invariants
from apps.teams.models import Membership
from tests.api.conftest import arrive, client_for
from tests.factories import (
    AgentFactory,
    ContactFactory,
    OrganizationFactory,
    RuleFactory,
    TeamFactory,
)

V1 = "/api/v1/"


def test_claim_race_loser_gets_409_with_the_assignee(world):
    first = world.client("agent").post(f"{V1}conversations/{world.waiting.pk}/claim")
    assert first.status_code == 200 and first.json()["assignee"] == world.agent.pk
    second = world.client("other_agent").post(f"{V1}conversations/{world.waiting.pk}/claim")
    assert second.status_code == 409
    body = second.json()
    assert body["detail"]
    assert body["assignee"] == {"id": world.agent.pk, "username": "ana", "name": "Ana"}
    again = world.client("agent").post(f"{V1}conversations/{world.waiting.pk}/claim")
    assert again.status_code == 200  # claiming what you already have is fine


def test_assign_transfer_route_close(world):
    supervisor = world.client("supervisor")
    assigned = supervisor.post(f"{V1}conversations/{world.queued.pk}/assign",
                               {"agent": world.other_agent.pk}, format="json").json()
    assert assigned["status"] == "assigned" and assigned["assignee"] == world.other_agent.pk
    moved = world.client("agent").post(f"{V1}conversations/{world.mine.pk}/transfer",
                                       {"agent": world.other_agent.pk}, format="json").json()
    assert moved["assignee"] == world.other_agent.pk
    its_own = arrive("wa:bot-opened", actor=world.integration)  # waiting, the bot's own
    routed = world.client("integration").post(f"{V1}conversations/{its_own.pk}/route",
                                              {"team": world.team.pk}, format="json")
    assert routed.status_code == 200 and routed.json()["status"] == "queued"
    refused = supervisor.post(f"{V1}conversations/{world.mine.pk}/route",
                              {"team": world.team.pk}, format="json")
    assert refused.status_code == 409  # assigned: transfer it instead
    closed = supervisor.post(f"{V1}conversations/{world.mine.pk}/close")
    assert closed.json()["status"] == "closed"
    twice = supervisor.post(f"{V1}conversations/{world.mine.pk}/close")
    assert twice.status_code == 409
    reply = supervisor.post(f"{V1}conversations/{world.mine.pk}/messages", {"body": "late"},
                            format="json")
    assert reply.status_code == 409
    assert check_invariants() == []


def test_distribute_returns_how_many(world):
    world.team.distribution_mode = "capacity"
    world.team.save()
    response = world.client("supervisor").post(f"{V1}teams/{world.team.pk}/distribute")
    agent = world.agent
    assert response.json() == {
        "assigned": 1, "stayed": 0,
        "agents": [{"id": agent.pk, "name": agent.display_name, "assigned": 1}],
    }


def test_agent_capacity_and_deactivation(world):
    admin = world.client("admin")
    patched = admin.patch(f"{V1}agents/{world.agent.pk}/", {"capacity": 9, "role":
                          "supervisor", "name": "Ana S."}, format="json").json()
    assert (patched["capacity"], patched["role"], patched["name"]) == (9, "supervisor", "Ana S.")
    # A conversation reserved for an agent is released when the agent is deactivated.
    busy = AgentFactory(capacity=0)
    contact = ContactFactory()
    RuleFactory(contact=contact, agent=busy, type="auto")
    reserved = arrive(contact.external_id, team=world.team)
    assert reserved.status == Status.RESERVED
    assert admin.delete(f"{V1}agents/{busy.pk}/").status_code == 204
    busy.refresh_from_db()
    reserved.refresh_from_db()
    assert not busy.is_active and busy.presence == Presence.OFFLINE
    assert reserved.status == Status.QUEUED
    listed = {a["id"]: a for a in admin.get(f"{V1}agents/").json()}
    assert listed[busy.pk]["is_active"] is False
    back = admin.patch(f"{V1}agents/{busy.pk}/", {"is_active": True}, format="json").json()
    assert back["is_active"] is True
    assert check_invariants() == []


def test_team_members_are_replaced_and_busy_teams_are_not_deleted(world):
    admin = world.client("admin")
    newcomer = AgentFactory()
    url = f"{V1}teams/{world.team.pk}/"
    kept = Membership.objects.get(team=world.team, agent=world.agent)
    patched = admin.patch(url, {"members": [world.agent.pk, newcomer.pk, newcomer.pk]},
                          format="json").json()
    assert patched["members"] == sorted([world.agent.pk, newcomer.pk])
    assert Membership.objects.get(team=world.team, agent=world.agent).pk == kept.pk
    assert admin.patch(url, {"members": []}, format="json").json()["members"] == []
    response = admin.delete(url)
    assert response.status_code == 409 and response.json()["detail"]
    assert admin.get(url).status_code == 200


def test_organization_moves_with_its_subtree_and_refuses_cycles(world):
    admin = world.client("admin")
    root = OrganizationFactory(name="Holding")
    child = OrganizationFactory(name="Child", parent=root)
    grandchild = OrganizationFactory(name="Dept", parent=child, kind="department")
    moved = admin.patch(f"{V1}organizations/{child.pk}/", {"parent": world.organization.pk},
                        format="json")
    assert moved.status_code == 200 and moved.json()["parent"] == world.organization.pk
    grandchild.refresh_from_db()
    assert grandchild.is_descendant_of(Organization.objects.get(pk=world.organization.pk))
    for parent in (child.pk, grandchild.pk):
        refused = admin.patch(f"{V1}organizations/{child.pk}/", {"parent": parent},
                              format="json")
        assert refused.status_code == 400 and "parent" in refused.json()
    to_root = admin.patch(f"{V1}organizations/{child.pk}/", {"parent": None}, format="json")
    assert to_root.json()["parent"] is None
    roots = admin.get(f"{V1}organizations/", {"parent": "null"}).json()
    assert {o["id"] for o in roots} == {root.pk, world.organization.pk, child.pk}
    children = admin.get(f"{V1}organizations/", {"parent": child.pk}).json()
    assert [o["id"] for o in children] == [grandchild.pk]
    blocked = admin.delete(f"{V1}organizations/{child.pk}/")
    assert blocked.status_code == 409 and blocked.json()["detail"]
    Organization.objects.rebuild()
    assert Organization.objects.get(pk=grandchild.pk).parent_id == child.pk


def test_contacts_with_conversations_are_not_deleted(world):
    response = world.client("admin").delete(f"{V1}contacts/{world.waiting.contact_id}/")
    assert response.status_code == 409 and response.json()["detail"]


def test_integrations_show_the_token_once(world):
    admin = world.client("admin")
    created = admin.post(f"{V1}integrations/", {"name": "Telegram"}, format="json").json()
    raw = created["token"]
    assert raw.startswith("int_") and len(raw) > 20
    listed = {i["id"]: i for i in admin.get(f"{V1}integrations/").json()}
    shown = listed[created["id"]]["token"]
    assert raw not in str(listed) and shown.endswith("…") and raw.startswith(shown[:-1])
    bot = APIClient()
    bot.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert bot.get(f"{V1}contacts/").status_code == 200
    assert admin.delete(f"{V1}integrations/{created['id']}/").status_code == 204
    assert bot.get(f"{V1}contacts/").status_code == 401
    revoked = {i["id"]: i for i in admin.get(f"{V1}integrations/").json()}[created["id"]]
    assert revoked["token"] is None and revoked["revoked_at"]


def test_rules_validate_targets(world):
    admin = world.client("admin")
    url = f"{V1}preferential-rules/{world.rule.pk}/"
    assert admin.patch(url, {"active": False}, format="json").json()["active"] is False
    other = admin.post(f"{V1}preferential-rules/", {"organization": world.organization.pk,
                       "agent": world.other_agent.pk, "type": "auto"}, format="json")
    assert other.status_code == 201
    reactivate = admin.patch(url, {"active": True}, format="json")
    assert reactivate.status_code == 400 and "organization" in reactivate.json()
    both = admin.patch(url, {"contact": world.contact.pk}, format="json")
    assert both.status_code == 400


def test_routing_settings_and_inbound_use_the_default_team(world):
    admin = world.client("admin")
    assert admin.get(f"{V1}routing-settings").json() == {
        "default_team": None, "preferred_max_wait_seconds": 300}
    admin.put(f"{V1}routing-settings", {"default_team": world.team.pk}, format="json")
    assert world.client("agent").get(f"{V1}routing-settings").json() == {
        "default_team": world.team.pk, "preferred_max_wait_seconds": 300}
    org = OrganizationFactory()
    response = world.client("integration").post(f"{V1}inbound", {
        "contact": {"external_id": "tg:42", "name": "Zé", "email": "ze@example.com",
                    "phone": "+55", "organization": org.pk},
        "body": "Oi", "channel": "telegram"}, format="json")
    assert response.status_code == 201
    conversation = response.json()
    assert conversation["team"] == world.team.pk and conversation["channel"] == "telegram"
    contact = admin.get(f"{V1}contacts/{conversation['contact']}/").json()
    assert contact == {"id": conversation["contact"], "name": "Zé", "email": "ze@example.com",
                       "phone": "+55", "external_id": "tg:42", "organization": org.pk}
    found = world.client("integration").get(f"{V1}contacts/", {"external_id": "tg:42"}).json()
    assert [c["id"] for c in found] == [conversation["contact"]]


def test_me_and_queues(world):
    client = world.client("agent")
    me = client.get(f"{V1}me/").json()
    assert me == {"id": world.agent.pk, "username": "ana", "name": "Ana",
                  "email": "ana@example.com", "role": "agent", "capacity": 5,
                  "presence": "online", "is_active": True, "open_count": 1, "skills": []}
    assert client.get(f"{V1}me/queues").json() == {
        "waiting": 1, "teams": [{"id": world.team.pk, "name": "Sales", "queued": 1}],
        "mine": 1, "reserved_for_me": 0}
    assert client.put(f"{V1}me/presence", {"status": "away"}, format="json").json() == {
        "status": "away"}
    assert User.objects.get(pk=world.agent.pk).presence == Presence.AWAY


def test_schema_and_docs_are_served_without_a_cdn(client, db):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/conversations/{id}/claim" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html and "cdn" not in html.lower()


def test_teams_list_shows_members(world):
    TeamFactory(name="Nights")
    teams = world.client("agent").get(f"{V1}teams/").json()
    assert {t["name"]: t["members"] for t in teams}["Sales"] == [world.agent.pk]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_through_the_api_have_one_winner():
    """Real threads, real connections: of simultaneous claims exactly one wins, the others
    get 409 naming the winner."""
    agents = [AgentFactory(username=f"racer{n}") for n in range(6)]
    conversation = arrive("wa:race")
    clients = [client_for(agent) for agent in agents]
    barrier = threading.Barrier(len(clients))
    results = []

    def claim(client):
        try:
            barrier.wait()
            response = client.post(f"{V1}conversations/{conversation.pk}/claim")
            results.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [body for status, body in results if status == 200]
    losers = [body for status, body in results if status == 409]
    assert len(winners) == 1 and len(losers) == len(agents) - 1
    winner = winners[0]["assignee"]
    assert all(body["assignee"]["id"] == winner for body in losers)
    assert check_invariants() == []


def test_a_capacity_team_given_an_online_member_serves_its_queue_at_once(
    world, django_capture_on_commit_callbacks
):
    from apps.teams.models import DistributionMode

    admin = world.client("admin")
    team = TeamFactory(distribution_mode=DistributionMode.MANUAL)
    queued = [arrive(f"cap-{n}", team=team) for n in range(2)]
    helper = AgentFactory(capacity=1)
    url = f"{V1}teams/{team.pk}/"
    with django_capture_on_commit_callbacks(execute=True) as enqueued:
        admin.patch(url, {"members": [helper.pk]}, format="json")
    assert len(enqueued) == 2  # the inbox regroups; the distribution task is enqueued once
    assert User.objects.get(pk=helper.pk).open_count == 0  # manual: nothing moves
    with django_capture_on_commit_callbacks(execute=True):
        admin.patch(url, {"distribution_mode": "capacity"}, format="json")
    statuses = sorted(type(c).objects.get(pk=c.pk).status for c in queued)
    assert statuses == [Status.ASSIGNED, Status.QUEUED]  # within the helper's limit of 1
    assert check_invariants() == []


def test_patching_an_agent_writes_only_what_was_sent(world):
    """A PATCH that renames an agent must not write back the load counter, presence or
    heartbeat it read at the start of the request: an assignment committed meanwhile would be
    undone (a lost update)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    admin = world.client("admin")
    with CaptureQueriesContext(connection) as queries:
        response = admin.patch(f"{V1}agents/{world.agent.pk}/", {"name": "Ana Maria"},
                               format="json")
    assert response.status_code == 200
    writes = [q["sql"] for q in queries.captured_queries
              if q["sql"].startswith("UPDATE") and "accounts_user" in q["sql"]
              and '"name"' in q["sql"]]
    assert writes, "the name was not written"
    for sql in writes:
        assert "open_count" not in sql and "presence" not in sql and "last_heartbeat" not in sql
