"""manage.py seed_demo and check_invariants."""

import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.accounts.models import IntegrationClient, Role, User
from apps.conversations.models import Conversation, ConversationEvent, Message, Status
from apps.organizations.models import Contact, Organization, PreferentialRule, RuleType
from apps.routing.invariants import check_invariants
from apps.teams.models import DistributionMode, Membership, RoutingSettings, Team

pytestmark = pytest.mark.django_db

COUNTED = (
    User, IntegrationClient, Organization, Contact, PreferentialRule, Team, Membership,
    RoutingSettings, Conversation, Message, ConversationEvent,
)


@pytest.fixture(autouse=True)
def _demo_mode(settings):
    """The demo is seeded in embedded mode (in production mode it needs --force)."""
    settings.EMBEDDED = True


def counts():
    return {model.__name__: model.objects.count() for model in COUNTED}


def test_seed_demo_is_complete_consistent_and_idempotent(capsys):
    call_command("seed_demo")
    first = counts()
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8000" in out
    assert "atende123" in out
    assert check_invariants() == []

    statuses = set(Conversation.objects.values_list("status", flat=True))
    assert statuses == set(Status.values)
    modes = set(Team.objects.values_list("distribution_mode", flat=True))
    assert modes == set(DistributionMode.values)
    assert RoutingSettings.load().default_team is not None
    rules = PreferentialRule.objects.filter(active=True)
    assert {rule.type for rule in rules} == set(RuleType.values)
    assert rules.filter(organization__isnull=False).exists()
    assert rules.filter(contact__isnull=False).exists()
    assert Organization.objects.filter(level=2).exists()  # company > child company > department
    assert User.objects.filter(role=Role.AGENT).count() >= 6
    assert User.objects.filter(role=Role.SUPERVISOR).exists()
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.role == Role.ADMIN
    assert admin.check_password("atende123")
    assert User.objects.get(username="ana").check_password("atende123")
    # Made through the services: every conversation has its history.
    assert not Conversation.objects.filter(events__isnull=True).exists()

    call_command("seed_demo")
    assert counts() == first
    assert check_invariants() == []


def test_seed_demo_keeps_what_the_administrator_changed():
    call_command("seed_demo")
    sales = Team.objects.get(name="Vendas")
    RoutingSettings.objects.update(default_team=sales)
    rule = PreferentialRule.objects.get(organization__name="Globex")
    rule.active = False
    rule.save()
    call_command("seed_demo")
    assert RoutingSettings.load().default_team == sales
    assert PreferentialRule.objects.filter(organization__name="Globex").count() == 1
    assert not PreferentialRule.objects.get(organization__name="Globex").active


def test_check_invariants_command(capsys):
    call_command("seed_demo")
    capsys.readouterr()
    call_command("check_invariants")
    assert "All routing invariants hold." in capsys.readouterr().out

    # Break the load counter behind the services' back: the command names it and fails.
    User.objects.filter(username="bruno").update(open_count=42)
    with pytest.raises(CommandError):
        call_command("check_invariants")
    assert "bruno's load counter says 42" in capsys.readouterr().err


def test_the_demo_banner_prints_the_port_the_server_listens_on(capsys):
    call_command("seed_demo", "--port", "8123")
    out = capsys.readouterr().out
    assert "Atende demo ready: http://127.0.0.1:8123" in out
    assert "http://127.0.0.1:8123/api/v1/inbound" in out
    assert "127.0.0.1:8000" not in out
    # Listening everywhere: this machine's address is printed.
    call_command("seed_demo", "--host", "0.0.0.0", "--port", "9000")
    assert "Atende demo ready: http://127.0.0.1:9000" in capsys.readouterr().out


def test_make_run_passes_its_host_and_port_to_the_demo_banner():
    root = Path(__file__).resolve().parents[2]
    planned = subprocess.run(
        ["make", "-n", "run", "HOST=0.0.0.0", "PORT=8123"], cwd=root, capture_output=True,
        text=True, timeout=60, check=True,
    ).stdout
    assert "manage.py seed_demo --host 0.0.0.0 --port 8123" in planned
    assert "--host 0.0.0.0 --port 8123 --lifespan off" in planned


def test_the_demo_teams_work_on_sao_paulo_time():
    call_command("seed_demo")
    assert set(Team.objects.values_list("timezone", flat=True)) == {"America/Sao_Paulo"}

