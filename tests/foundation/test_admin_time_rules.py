"""The time rules in the Django admin: fields with plain-language validation, opening hours
and closed dates inline on the team, and a switched-off rule taking effect."""

import pytest
from django.urls import reverse

from apps.conversations.models import Conversation
from apps.organizations.models import PreferentialRule, RuleType
from apps.teams.models import ClosedDate, DistributionMode, OpeningHours, RoutingSettings, Team
from tests.factories import AgentFactory, ContactFactory, TeamFactory, UserFactory
from tests.helpers import arrive

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def inline(prefix: str, rows: list[dict], initial: int = 0) -> dict:
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": str(initial),
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}
    for n, row in enumerate(rows):
        data.update({f"{prefix}-{n}-{key}": value for key, value in row.items()})
    return data


def team_form(team: Team, *, hours=(), dates=(), **fields) -> dict:
    return {
        "name": team.name, "distribution_mode": team.distribution_mode,
        "timezone": "America/Sao_Paulo",
        "answer_target_seconds": str(team.answer_target_seconds), **fields,
        **inline("memberships", []),
        **inline("opening_hours", [{"team": team.pk, **h} for h in hours]),
        **inline("closed_dates", [{"team": team.pk, "date": d} for d in dates]),
    }


def errors_of(response) -> str:
    assert response.status_code == 200, "the form was accepted"
    text = response.content.decode()
    return text


def test_a_team_gets_its_hours_closed_dates_and_rules(admin_client):
    team = TeamFactory(name="Suporte")
    night = TeamFactory(name="Plantão")
    url = reverse("admin:teams_team_change", args=[team.pk])
    response = admin_client.post(url, team_form(
        team, first_reply_seconds="180", offline_requeue_seconds="900",
        after_hours_team=night.pk,
        hours=[{"weekday": 0, "opens": "09:00", "closes": "18:00"},
               {"weekday": 4, "opens": "22:00", "closes": "24:00"}],
        dates=["2026-12-25"],
    ))
    assert response.status_code == 302, response.content.decode()[-3000:]
    team.refresh_from_db()
    assert (team.first_reply_seconds, team.offline_requeue_seconds, team.timezone,
            team.after_hours_team) == (180, 900, "America/Sao_Paulo", night)
    assert list(OpeningHours.objects.filter(team=team).values_list(
        "weekday", "opens", "closes")) == [(0, 540, 1080), (4, 1320, 1440)]
    assert [d.isoformat() for d in ClosedDate.objects.filter(team=team).values_list(
        "date", flat=True)] == ["2026-12-25"]
    page = admin_client.get(url).content.decode()
    assert 'value="09:00"' in page and 'value="24:00"' in page


@pytest.mark.parametrize(("fields", "hours", "words"), [
    ({"timezone": "Mars/Olympus"}, [], "is not a time zone"),
    ({}, [{"weekday": 0, "opens": "18:00", "closes": "09:00"}], "It closes before it opens"),
    ({}, [{"weekday": 0, "opens": "9h", "closes": "18:00"}], "Write the time as HH:MM"),
    ({}, [{"weekday": 0, "opens": "09:00", "closes": "25:00"}], "not a time of day"),
    ({}, [{"weekday": 2, "opens": "09:00", "closes": "13:00"},
          {"weekday": 2, "opens": "12:00", "closes": "18:00"}], "overlap"),
    ({"first_reply_seconds": "-30"}, [], "at least 1"),
    ({"offline_requeue_seconds": "0"}, [], "at least 1"),
])
def test_bad_values_are_explained_and_nothing_is_saved(admin_client, fields, hours, words):
    team = TeamFactory(name="Suporte")
    url = reverse("admin:teams_team_change", args=[team.pk])
    text = errors_of(admin_client.post(url, team_form(team, hours=hours, **fields)))
    assert words in text.replace("&#x27;", "'")
    team.refresh_from_db()
    assert team.timezone == "UTC" and team.first_reply_seconds is None
    assert not OpeningHours.objects.filter(team=team).exists()


def test_a_team_cannot_be_its_own_after_hours_team(admin_client):
    team = TeamFactory(name="Suporte")
    url = reverse("admin:teams_team_change", args=[team.pk])
    text = errors_of(admin_client.post(url, team_form(team, after_hours_team=team.pk)))
    assert "cannot be its own after-hours team" in text


def test_switching_the_first_reply_rule_off_in_the_admin_cancels_pending_handovers(
    admin_client
):
    agent = AgentFactory()
    team = TeamFactory(name="Vendas", distribution_mode=DistributionMode.CAPACITY,
                       agents=[agent])
    team.first_reply_seconds = 60
    team.save()
    conversation = arrive("wa:due", body="Oi", team=team)
    assert conversation.reply_due_at is not None
    url = reverse("admin:teams_team_change", args=[team.pk])
    data = team_form(team, first_reply_seconds="")
    data.update(inline("memberships", [{"team": team.pk, "agent": agent.pk,
                                         "id": team.memberships.get().pk}], initial=1))
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert Conversation.objects.get(pk=conversation.pk).reply_due_at is None


def test_wait_limits_of_rules_and_settings(admin_client):
    agent = AgentFactory()
    contact = ContactFactory()
    add = reverse("admin:organizations_preferentialrule_add")
    base = {"contact": contact.pk, "agent": agent.pk, "type": RuleType.AUTO, "active": "on"}
    text = errors_of(admin_client.post(add, {**base, "max_wait_seconds": "-5"}))
    assert "A wait cannot be negative" in text
    assert not PreferentialRule.objects.exists()
    assert admin_client.post(add, {**base, "max_wait_seconds": "120"}).status_code == 302
    assert PreferentialRule.objects.get().max_wait_seconds == 120

    settings_url = reverse("admin:teams_routingsettings_change",
                           args=[RoutingSettings.SINGLETON_ID])
    text = errors_of(admin_client.post(settings_url, {"preferred_max_wait_seconds": "-1"}))
    assert "A wait cannot be negative" in text
    assert RoutingSettings.load().preferred_max_wait_seconds == 300
    assert admin_client.post(settings_url, {"preferred_max_wait_seconds": ""}).status_code == 302
    assert RoutingSettings.load().preferred_max_wait_seconds is None
