"""Every way a password changes (the admin's form, ``manage.py changepassword``, the service)
takes the person's API tokens with it; a refused change keeps them."""

import getpass
import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.services import change_password
from tests.factories import PASSWORD, AdminFactory, AgentFactory

V1 = "/api/v1/"
NEW = "vaca-amarela-77"


def token_of(username, password=PASSWORD) -> APIClient:
    response = APIClient().post(f"{V1}auth/token", {"username": username, "password": password},
                                format="json")
    assert response.status_code == 200, response.content
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client


@pytest.mark.django_db
def test_the_service_changes_the_password_and_revokes_the_tokens():
    ana = AgentFactory(username="ana")
    held = token_of("ana")
    assert change_password(user=ana, password=NEW) == 1
    assert held.get(f"{V1}me/").status_code == 401
    assert token_of("ana", NEW).get(f"{V1}me/").status_code == 200


@pytest.mark.django_db
def test_the_admin_password_form_revokes_the_tokens():
    ana, admin = AgentFactory(username="ana"), AdminFactory()
    held = token_of("ana")
    client = Client()
    client.force_login(admin)
    response = client.post(f"/admin/accounts/user/{ana.pk}/password/", {
        "password1": NEW, "password2": NEW, "usable_password": "true",
    })
    assert response.status_code == 302
    assert held.get(f"{V1}me/").status_code == 401
    assert token_of("ana", NEW).get(f"{V1}me/").status_code == 200


@pytest.mark.django_db
def test_an_admin_form_refusing_the_password_keeps_the_tokens():
    ana, admin = AgentFactory(username="ana"), AdminFactory()
    held = token_of("ana")
    client = Client()
    client.force_login(admin)
    response = client.post(f"/admin/accounts/user/{ana.pk}/password/", {
        "password1": "12345678", "password2": "12345678", "usable_password": "true",
    })
    assert response.status_code == 200  # the form again, with the error
    assert held.get(f"{V1}me/").status_code == 200


@pytest.mark.django_db
def test_manage_py_changepassword_revokes_the_tokens(monkeypatch):
    AgentFactory(username="ana")
    held = token_of("ana")
    answers = iter([NEW, NEW])
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(answers))
    call_command("changepassword", "ana", stdout=io.StringIO())
    assert held.get(f"{V1}me/").status_code == 401
    assert token_of("ana", NEW).get(f"{V1}me/").status_code == 200


@pytest.mark.django_db
def test_a_refused_changepassword_keeps_the_tokens(monkeypatch):
    AgentFactory(username="ana")
    held = token_of("ana")
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": "password")  # too common, 3 times
    with pytest.raises(CommandError):
        call_command("changepassword", "ana", stdout=io.StringIO())
    assert held.get(f"{V1}me/").status_code == 200
