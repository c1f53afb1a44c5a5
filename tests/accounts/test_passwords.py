"""Common and all-digit passwords are refused wherever a password is set: the API, the
admin forms and createsuperuser."""

import io

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client

from apps.accounts.models import User
from tests.api.conftest import client_for
from tests.factories import AdminFactory

pytestmark = pytest.mark.django_db

WEAK = ("12345678", "password", "aaaaaaaa", "87654321123")


def test_the_settings_refuse_them():
    for weak in WEAK:
        with pytest.raises(ValidationError):
            validate_password(weak, User(username="someone"))
    validate_password("vaca-amarela-77", User(username="someone"))


def test_the_demo_password_is_refused_in_production_mode(settings):
    admin = client_for(AdminFactory())
    settings.EMBEDDED = False  # DATABASE_URL and REDIS_URL set
    for published in ("atende123", "Atende123"):
        with pytest.raises(ValidationError):
            validate_password(published, User(username="someone"))
        response = admin.post("/api/v1/agents/", {"username": "new", "password": published},
                              format="json")
        assert response.status_code == 400
        assert "password" in response.json()
    assert not User.objects.filter(username="new").exists()
    settings.EMBEDDED = True  # the demo's own mode: its logins keep working
    validate_password("atende123", User(username="someone"))


def test_the_api_refuses_them_even_for_an_administrator():
    admin = client_for(AdminFactory())
    for n, weak in enumerate(WEAK):
        response = admin.post("/api/v1/agents/", {"username": f"new{n}", "role": "admin",
                                                  "password": weak}, format="json")
        assert response.status_code == 400, weak
        assert "password" in response.json()
    assert not User.objects.filter(username__startswith="new").exists()


def test_the_admin_forms_refuse_them():
    admin = AdminFactory(is_superuser=True)
    client = Client()
    client.force_login(admin)
    for weak in WEAK:
        response = client.post("/admin/accounts/user/add/", {
            "username": "gabi", "name": "Gabi", "role": "agent", "capacity": 5,
            "password1": weak, "password2": weak, "usable_password": "true",
        })
        assert response.status_code == 200, weak  # the form again, with the error
    assert not User.objects.filter(username="gabi").exists()
    response = client.post(f"/admin/accounts/user/{admin.pk}/password/", {
        "password1": "12345678", "password2": "12345678", "usable_password": "true",
    })
    assert response.status_code == 200
    admin.refresh_from_db()
    assert not admin.check_password("12345678")


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_createsuperuser_refuses_them(monkeypatch):
    answers = iter(["boss", "boss@example.com", "n"])  # n: do not bypass the validation
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    passwords = iter(["password", "password", "vaca-amarela-77", "vaca-amarela-77"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(passwords))
    err = io.StringIO()
    call_command("createsuperuser", interactive=True, stdout=io.StringIO(), stderr=err,
                 stdin=Terminal())
    assert "too common" in err.getvalue()
    boss = User.objects.get(username="boss")
    assert boss.check_password("vaca-amarela-77")


def test_createsuperuser_without_input_refuses_them(monkeypatch):
    from django.core.management.base import CommandError

    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "12345678")
    with pytest.raises(CommandError, match="numeric"):
        call_command("createsuperuser", interactive=False, username="root",
                     email="root@example.com", stdout=io.StringIO())
    assert not User.objects.filter(username="root").exists()
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "vaca-amarela-77")
    call_command("createsuperuser", interactive=False, username="root",
                 email="root@example.com", stdout=io.StringIO())
    assert User.objects.get(username="root").is_admin
