"""Agents see Waiting, their teams' and their own conversations, never another team's;
supervisors and administrators see everything; integrations see no conversation."""

from tests.api.conftest import arrive

V1 = "/api/v1/"


def ids(response):
    assert response.status_code == 200, response.content
    return {c["id"] for c in response.json()["results"]}


def test_an_agent_sees_waiting_their_teams_and_their_own(world):
    seen = ids(world.client("agent").get(f"{V1}conversations/"))
    assert seen == {world.waiting.pk, world.queued.pk, world.mine.pk}


def test_an_agent_never_sees_another_teams_conversation(world):
    client = world.client("agent")
    foreign = world.foreign.pk
    assert foreign not in ids(client.get(f"{V1}conversations/"))
    assert foreign not in ids(client.get(f"{V1}conversations/", {"team": world.other_team.pk}))
    for suffix in ("", "messages", "events"):
        path = f"{V1}conversations/{foreign}/{suffix}"
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json()["detail"]


def test_the_other_agent_sees_their_team_and_waiting_only(world):
    seen = ids(world.client("other_agent").get(f"{V1}conversations/"))
    assert seen == {world.waiting.pk, world.foreign.pk}


def test_supervisors_and_admins_see_everything(world):
    every = {world.waiting.pk, world.queued.pk, world.foreign.pk, world.mine.pk}
    assert ids(world.client("supervisor").get(f"{V1}conversations/")) == every
    assert ids(world.client("admin").get(f"{V1}conversations/")) == every
    assert world.client("supervisor").get(f"{V1}conversations/{world.foreign.pk}/").status_code \
        == 200


def test_filters_and_order(world):
    client = world.client("supervisor")
    assert ids(client.get(f"{V1}conversations/", {"status": "queued"})) == {
        world.queued.pk, world.foreign.pk}
    assert ids(client.get(f"{V1}conversations/", {"assignee": world.agent.pk})) == {
        world.mine.pk}
    assert ids(client.get(f"{V1}conversations/", {"team": world.team.pk})) == {
        world.queued.pk, world.mine.pk}
    assert ids(client.get(f"{V1}conversations/", {"contact": world.waiting.contact_id})) == {
        world.waiting.pk}
    arrive("wa:queued", body="news")  # the queued one has the newest activity now
    rows = client.get(f"{V1}conversations/").json()["results"]
    assert rows[0]["id"] == world.queued.pk
    assert rows[0]["last_message"]["body"] == "news"
    assert rows[0]["contact_name"] == "wa:queued" and rows[0]["team_name"] == "Sales"


def test_pagination(world):
    for n in range(5):
        arrive(f"wa:page{n}")
    client = world.client("supervisor")
    first = client.get(f"{V1}conversations/", {"page_size": 3}).json()
    assert first["count"] == 9 and len(first["results"]) == 3 and first["next"]
    last = client.get(f"{V1}conversations/", {"page_size": 3, "page": 3}).json()
    assert len(last["results"]) == 3 and last["next"] is None
    assert client.get(f"{V1}conversations/", {"page": 99}).status_code == 404
    big = client.get(f"{V1}conversations/", {"page_size": 10_000}).json()
    assert len(big["results"]) == 9


def test_agents_cannot_act_on_what_they_may_not(world):
    client = world.client("agent")
    foreign = world.foreign.pk
    # Another team's conversation does not exist for them: 404, nothing about it leaks.
    assert client.post(f"{V1}conversations/{foreign}/claim").status_code == 404
    assert client.post(f"{V1}conversations/{foreign}/close").status_code == 404
    assert client.post(f"{V1}conversations/{foreign}/transfer", {"team": world.team.pk},
                       format="json").status_code == 404
    assert client.post(f"{V1}conversations/{world.queued.pk}/messages", {"body": "hi"},
                       format="json").status_code == 403
    world.foreign.refresh_from_db()
    assert world.foreign.status == "queued"
