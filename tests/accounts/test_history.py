"""The history of people: every change to an agent is a row with when, what, from, to, who
and why, written by the service that makes the change (API, admin, inbox, sweep)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from apps.accounts.models import AgentChange, ChangeCause, Presence
from apps.inbox import presence as live
from apps.reports.timeline import people_over, seconds_by_presence
from apps.routing import services as routing
from apps.teams.models import ConfigurationChange
from tests.api.conftest import client_for
from tests.factories import AdminFactory, AgentFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db
START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def rows(agent, kind=None):
    found = AgentChange.objects.filter(agent=agent).exclude(cause="created")
    if kind:
        found = found.filter(kind=kind)
    return [(r.kind, r.before, r.after, r.actor_id, r.cause) for r in found.order_by("at", "id")]


def test_an_agent_choosing_presence_through_the_api_is_recorded_and_heartbeats_are_not():
    agent = UserFactory()
    client = client_for(agent)
    assert client.put("/api/v1/me/presence", {"status": "online"}, format="json").status_code == 200
    client.get("/api/v1/me/queues")  # a heartbeat
    routing.record_heartbeat(agent=agent, every_seconds=0)
    client.put("/api/v1/me/presence", {"status": "away"}, format="json")
    client.put("/api/v1/me/presence", {"status": "away"}, format="json")  # no change
    assert rows(agent) == [
        ("presence", "offline", "online", agent.pk, ChangeCause.CHOSE),
        ("presence", "online", "away", agent.pk, ChangeCause.CHOSE),
    ]


def test_the_stale_sweep_and_the_live_connection_leave_their_cause():
    with time_machine.travel(START, tick=False) as clock:
        agent = UserFactory()
        live.register(agent.pk, "chan-1")
        live.connection_opened(agent, "chan-1")
        live.connection_closed(agent, "chan-1")
        assert live.settle_after_grace(agent.pk)
        routing.set_presence(agent=agent, status=Presence.ONLINE, actor=agent)
        clock.shift(600)
        assert routing.sweep_stale_presence(timeout_seconds=120) == 1
    assert [(kind, before, after, cause) for kind, before, after, _a, cause in rows(agent)] == [
        ("presence", "offline", "online", ChangeCause.CONNECTED),
        ("presence", "online", "offline", ChangeCause.DISCONNECTED),
        ("presence", "offline", "online", ChangeCause.CHOSE),
        ("presence", "online", "offline", ChangeCause.SWEPT),
    ]


def test_an_administrators_changes_through_the_api_name_them():
    admin = AdminFactory()
    client = client_for(admin)
    created = client.post("/api/v1/agents/", {"username": "nova", "password": "Xk3!pw-long-9",
                                              "capacity": 3}, format="json")
    assert created.status_code == 201, created.content
    agent_id = created.json()["id"]
    creation = AgentChange.objects.get(agent_id=agent_id, kind="created")
    assert (creation.actor_id, creation.after["capacity"]) == (admin.pk, 3)
    url = f"/api/v1/agents/{agent_id}/"
    changed = client.patch(url, {"capacity": 7, "role": "supervisor"}, format="json")
    assert changed.status_code == 200
    client.patch(url, {"capacity": 7}, format="json")  # the same: nothing to record
    routing.set_presence(agent=created_agent(agent_id), status=Presence.ONLINE)
    assert client.delete(url).status_code == 204
    assert client.patch(url, {"is_active": True}, format="json").status_code == 200
    assert rows(agent_id) == [
        ("role", "agent", "supervisor", admin.pk, ChangeCause.EDITED),
        ("capacity", 3, 7, admin.pk, ChangeCause.EDITED),
        ("presence", "offline", "online", None, ChangeCause.SYSTEM),
        ("deactivated", True, False, admin.pk, ChangeCause.EDITED),
        ("presence", "online", "offline", admin.pk, ChangeCause.DEACTIVATED),
        ("activated", False, True, admin.pk, ChangeCause.EDITED),
    ]


def created_agent(agent_id):
    from apps.accounts.models import User

    return User.objects.get(pk=agent_id)


def test_team_membership_and_configuration_changes_are_recorded():
    admin = AdminFactory()
    ana, bia = AgentFactory(), AgentFactory()
    team = TeamFactory(name="Vendas", agents=[ana])
    client = client_for(admin)
    response = client.patch(f"/api/v1/teams/{team.pk}/", {
        "members": [bia.pk], "first_reply_seconds": 90, "timezone": "Europe/Lisbon",
        "closed_dates": ["2026-12-25"],
    }, format="json")
    assert response.status_code == 200, response.content
    assert rows(ana) == [("team_left", {"team": team.pk, "name": "Vendas"}, None, admin.pk,
                          ChangeCause.EDITED)]
    assert rows(bia) == [("team_joined", None, {"team": team.pk, "name": "Vendas"}, admin.pk,
                          ChangeCause.EDITED)]
    changes = {c.field: (c.before, c.after, c.actor_id, c.subject)
               for c in ConfigurationChange.objects.filter(team=team)}
    assert changes == {
        "first_reply_seconds": (None, 90, admin.pk, "team"),
        "timezone": ("UTC", "Europe/Lisbon", admin.pk, "team"),
        "closed_dates": ([], ["2026-12-25"], admin.pk, "team"),
    }
    client.put("/api/v1/routing-settings", {"default_team": team.pk}, format="json")
    setting = ConfigurationChange.objects.get(subject="routing_settings")
    assert (setting.field, setting.before, setting.after, setting.actor_id) == (
        "default_team", None, team.pk, admin.pk)


def test_a_refused_change_leaves_no_row():
    agent = AgentFactory(is_active=False)
    before = AgentChange.objects.count()
    with pytest.raises(Exception):  # noqa: B017 - the refusal's own type is routing's
        routing.set_presence(agent=agent, status=Presence.ONLINE, actor=agent)
    assert AgentChange.objects.count() == before


def test_the_admin_edits_are_recorded_and_the_history_is_read_only(client):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    agent = AgentFactory(username="zeca", capacity=2)
    url = reverse("admin:accounts_user_change", args=[agent.pk])
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items()
            if value is not None and name not in ("groups", "user_permissions", "password")}
    data.update(capacity="4", role="supervisor", presence="away", is_active="on",
                date_joined_0="2026-01-01", date_joined_1="10:00:00")
    data.pop("date_joined", None)
    data.pop("last_login", None)
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert rows(agent) == [
        ("role", "agent", "supervisor", root.pk, ChangeCause.EDITED),
        ("capacity", 2, 4, root.pk, ChangeCause.EDITED),
        ("presence", "online", "away", root.pk, ChangeCause.EDITED),
    ]
    listing = reverse("admin:accounts_agentchange_changelist")
    page = client.get(listing, {"kind": "capacity", "agent__id__exact": agent.pk,
                                "at__gte": "2000-01-01"})
    assert page.status_code == 200
    assert list(page.context["cl"].queryset.values_list("kind", flat=True)) == ["capacity"]
    row = AgentChange.objects.filter(agent=agent).first()
    assert client.get(reverse("admin:accounts_agentchange_add")).status_code == 403
    change = client.post(reverse("admin:accounts_agentchange_change", args=[row.pk]),
                         {"kind": "role"})
    assert change.status_code == 403
    delete = client.post(reverse("admin:accounts_agentchange_delete", args=[row.pk]),
                         {"post": "yes"})
    assert delete.status_code == 403
    assert client.get(reverse("admin:teams_configurationchange_changelist")).status_code == 200


def test_who_was_online_when_in_a_fixed_number_of_queries(django_assert_num_queries):
    with time_machine.travel(START, tick=False) as clock:
        ana = UserFactory(username="ana")  # created offline
        bia = AgentFactory(username="bia", capacity=3)  # created online
        team = TeamFactory(agents=[])
        routing.set_presence(agent=ana, status=Presence.ONLINE, actor=ana)
        clock.shift(timedelta(hours=1))
        from apps.teams.services import set_team_members

        set_team_members(team=team, agent_ids={ana.pk})
        routing.set_presence(agent=ana, status=Presence.AWAY, actor=ana)
        clock.shift(timedelta(minutes=30))
        routing.set_capacity(agent_id=bia.pk, capacity=5, actor=None)
        routing.set_presence(agent=ana, status=Presence.OFFLINE, actor=ana)
        clock.shift(timedelta(hours=1))
    start, end = START + timedelta(minutes=30), START + timedelta(hours=2)
    with django_assert_num_queries(4):
        timelines = people_over(start=start, end=end, agent_ids=[ana.pk, bia.pk])
    ana_line, bia_line = timelines[ana.pk], timelines[bia.pk]
    assert ana_line.initial.presence == "online" and ana_line.initial.teams == frozenset()
    assert [(s.isoformat(), u.isoformat(), st.presence, sorted(st.teams))
            for s, u, st in ana_line.segments()] == [
        ("2026-03-02T12:30:00+00:00", "2026-03-02T13:00:00+00:00", "online", []),
        ("2026-03-02T13:00:00+00:00", "2026-03-02T13:30:00+00:00", "away", [team.pk]),
        ("2026-03-02T13:30:00+00:00", "2026-03-02T14:00:00+00:00", "offline", [team.pk]),
    ]
    assert seconds_by_presence(ana_line, start, end) == {
        "online": 1800.0, "away": 1800.0, "offline": 1800.0}
    assert [(st.capacity, st.presence) for _s, _u, st in bia_line.segments()] == [
        (3, "online"), (5, "online")]
