"""Taking access away reaches open websockets at once: deactivation closes them (4403),
logging out and revoking a token close the sockets opened with that session or token
(4401), a role change regroups them; a deactivated person cannot set presence."""

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.test import Client

from apps.accounts.models import Presence, User
from apps.accounts.services import change_password
from apps.inbox import realtime
from tests.api.conftest import client_for
from tests.factories import AdminFactory, AgentFactory, SupervisorFactory, TeamFactory
from tests.helpers import arrive
from tests.inbox.helpers import (
    connected,
    conversation_where,
    counts_where,
    of_type,
    receive_until,
    session_cookie,
    token_for,
)

pytestmark = pytest.mark.django_db(transaction=True)


async def closed_with(comm, code, *, within=5) -> None:
    """The server closes the socket with ``code`` (anything before the close is skipped)."""
    while True:
        output = await comm.receive_output(timeout=within)
        if output["type"] == "websocket.close":
            assert output.get("code") == code, output
            return



def test_deactivating_an_agent_closes_their_sockets_and_nothing_more_reaches_them():
    agent, admin = AgentFactory(), AdminFactory()
    team = TeamFactory(agents=[agent])
    token = token_for(agent)
    admin_api = client_for(admin)

    async def scenario():
        by_token, _ = await connected(token=token)
        by_session, _ = await connected(cookie=session_cookie_of_agent)
        response = await database_sync_to_async(admin_api.delete)(f"/api/v1/agents/{agent.pk}/")
        assert response.status_code == 204
        for comm in (by_token, by_session):
            await closed_with(comm, 4403)
        await database_sync_to_async(arrive)("after", team=team)
        await realtime.aflush()
        for comm in (by_token, by_session):
            assert await comm.receive_nothing(timeout=0.3)

    session_cookie_of_agent = session_cookie(agent)
    async_to_sync(scenario)()


def test_a_deactivated_person_cannot_set_presence_online():
    agent = AgentFactory()
    token = token_for(agent)

    async def scenario():
        comm, _ = await connected(token=token)
        # Deactivated behind the server's back (no notice reaches the socket).
        await database_sync_to_async(
            lambda: User.objects.filter(pk=agent.pk).update(is_active=False,
                                                            presence=Presence.OFFLINE)
        )()
        await comm.send_json_to({"type": "presence.set", "status": "online"})
        await closed_with(comm, 4403)

    async_to_sync(scenario)()
    agent.refresh_from_db()
    assert agent.presence == Presence.OFFLINE


def test_logging_out_closes_the_sockets_of_that_session_only():
    agent = AgentFactory()
    browser, other_browser = Client(), Client()
    browser.force_login(agent)
    other_browser.force_login(agent)

    def cookie(client):
        return f"sessionid={client.cookies['sessionid'].value}".encode()

    async def scenario():
        mine, _ = await connected(cookie=cookie(browser))
        other, _ = await connected(cookie=cookie(other_browser))
        response = await database_sync_to_async(browser.post)("/accounts/logout/")
        assert response.status_code == 302
        await closed_with(mine, 4401)
        await other.send_json_to({"type": "ping"})
        assert await other.receive_json_from(timeout=5) == {"type": "pong"}
        await other.disconnect()

    async_to_sync(scenario)()


def test_revoking_a_token_closes_the_sockets_opened_with_it():
    agent = AgentFactory()
    revoked, kept = token_for(agent), token_for(agent)

    async def scenario():
        gone, _ = await connected(token=revoked)
        stays, _ = await connected(token=kept)
        api = client_for(None)
        api.credentials(HTTP_AUTHORIZATION=f"Token {revoked}")
        assert (await database_sync_to_async(api.delete)("/api/v1/me/token")).status_code == 204
        await closed_with(gone, 4401)
        await stays.send_json_to({"type": "ping"})
        assert await stays.receive_json_from(timeout=5) == {"type": "pong"}
        await stays.disconnect()

    async_to_sync(scenario)()


def test_changing_the_password_closes_token_sockets():
    agent = AgentFactory()
    token = token_for(agent)

    def new_password():
        person = User.objects.get(pk=agent.pk)
        change_password(user=person, password="vaca-amarela-77")

    async def scenario():
        comm, _ = await connected(token=token)
        await database_sync_to_async(new_password)()
        await closed_with(comm, 4401)

    async_to_sync(scenario)()


def test_a_supervisor_demoted_to_agent_stops_hearing_other_teams_at_once():
    boss, admin = SupervisorFactory(), AdminFactory()
    own = TeamFactory(name="Own", agents=[boss])
    other = TeamFactory(name="Other")
    token = token_for(boss)
    admin_api = client_for(admin)

    async def scenario():
        comm, counts = await connected(token=token)
        assert {t["id"] for t in counts["teams"]} == {own.pk, other.pk}
        response = await database_sync_to_async(admin_api.patch)(
            f"/api/v1/agents/{boss.pk}/", {"role": "agent"}, format="json"
        )
        assert response.status_code == 200
        await receive_until(comm, counts_where(lambda c: [t["id"] for t in c["teams"]] == [own.pk]))
        await database_sync_to_async(arrive)("foreign", team=other)
        await realtime.aflush()
        assert await comm.receive_nothing(timeout=0.5)
        mine = await database_sync_to_async(arrive)("own", team=own)
        await realtime.aflush()
        events = await receive_until(comm, conversation_where(lambda c: c["id"] == mine.pk))
        updated = of_type(events, "conversation.updated")
        assert [e["conversation"]["id"] for e in updated] == [mine.pk]
        await comm.disconnect()

    async_to_sync(scenario)()


def test_an_agent_promoted_to_supervisor_hears_every_team():
    agent, admin = AgentFactory(), AdminFactory()
    other = TeamFactory(name="Other")
    token = token_for(agent)
    admin_api = client_for(admin)

    async def scenario():
        comm, counts = await connected(token=token)
        assert counts["teams"] == []
        await database_sync_to_async(admin_api.patch)(
            f"/api/v1/agents/{agent.pk}/", {"role": "supervisor"}, format="json"
        )
        await receive_until(
            comm, counts_where(lambda c: [t["id"] for t in c["teams"]] == [other.pk])
        )
        conversation = await database_sync_to_async(arrive)("other", team=other)
        await realtime.aflush()
        events = await receive_until(comm, conversation_where(lambda c: c["id"] == conversation.pk))
        updated = of_type(events, "conversation.updated")
        assert [e["conversation"]["id"] for e in updated] == [conversation.pk]
        await comm.disconnect()

    async_to_sync(scenario)()


def test_a_missed_notice_is_caught_at_the_next_heartbeat():
    agent = AgentFactory()
    team = TeamFactory(agents=[agent])
    token = token_for(agent)

    async def scenario():
        comm, _ = await connected(token=token)
        await database_sync_to_async(
            lambda: User.objects.filter(pk=agent.pk).update(is_active=False)
        )()
        await comm.send_json_to({"type": "ping"})
        await closed_with(comm, 4403)
        await database_sync_to_async(arrive)("after", team=team)
        await realtime.aflush()
        assert await comm.receive_nothing(timeout=0.3)

    async_to_sync(scenario)()


def test_a_role_changed_in_the_django_admin_regroups_too():
    from tests.foundation.test_admin_behaviour import user_form

    boss = SupervisorFactory()
    other = TeamFactory(name="Other")
    token = token_for(boss)
    admin_browser = Client()
    admin_browser.force_login(AdminFactory(is_superuser=True))

    async def scenario():
        comm, counts = await connected(token=token)
        assert [t["id"] for t in counts["teams"]] == [other.pk]
        response = await database_sync_to_async(admin_browser.post)(
            f"/admin/accounts/user/{boss.pk}/change/", user_form(boss, role="agent")
        )
        assert response.status_code == 302
        await receive_until(comm, counts_where(lambda c: c["teams"] == []))
        await comm.disconnect()

    async_to_sync(scenario)()
