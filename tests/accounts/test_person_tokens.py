"""People's API tokens: stored hashed, with a fixed lifetime, revoked on a password change
and by DELETE me/token; listed in no admin page."""

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.services import change_password
from tests.factories import PASSWORD, AdminFactory, AgentFactory, IntegrationFactory

V1 = "/api/v1/"


def sign_in(username, password=PASSWORD) -> str:
    response = APIClient().post(f"{V1}auth/token", {"username": username, "password": password},
                                format="json")
    assert response.status_code == 200, response.content
    return response.json()["token"]


def with_token(token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.mark.django_db
def test_tokens_are_stored_hashed_only():
    AgentFactory(username="ana")
    token = sign_in("ana")
    assert with_token(token).get(f"{V1}me/").json()["username"] == "ana"
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    assert token not in dump.getvalue()
    assert token[8:] not in dump.getvalue()


@pytest.mark.django_db
def test_a_token_expires_after_its_lifetime(settings):
    assert settings.PERSON_TOKEN_LIFETIME_DAYS == 30
    AgentFactory(username="ana")
    token = sign_in("ana")
    with time_machine.travel(timezone.now() + timedelta(days=29)):
        assert with_token(token).get(f"{V1}me/").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=30, minutes=1)):
        response = with_token(token).get(f"{V1}me/")
        assert response.status_code == 401
        assert "expired" in response.json()["detail"]


@pytest.mark.django_db
def test_changing_the_password_revokes_every_token_of_the_person():
    ana = AgentFactory(username="ana")
    tokens = [sign_in("ana"), sign_in("ana")]
    other = sign_in(AgentFactory(username="bia").username)
    change_password(user=ana, password="vaca-amarela-77")
    for token in tokens:
        assert with_token(token).get(f"{V1}me/").status_code == 401
    assert with_token(other).get(f"{V1}me/").status_code == 200
    assert with_token(sign_in("ana", "vaca-amarela-77")).get(f"{V1}me/").status_code == 200


@pytest.mark.django_db
def test_delete_me_token_revokes_the_token_of_the_request():
    AgentFactory(username="ana")
    used, kept = sign_in("ana"), sign_in("ana")
    response = with_token(used).delete(f"{V1}me/token")
    assert response.status_code == 204
    assert with_token(used).get(f"{V1}me/").status_code == 401
    assert with_token(kept).get(f"{V1}me/").status_code == 200
    assert with_token(used).delete(f"{V1}me/token").status_code == 401


@pytest.mark.django_db
def test_delete_me_token_from_a_browser_session_revokes_all_of_the_person_s_tokens():
    ana = AgentFactory(username="ana")
    token = sign_in("ana")
    browser = APIClient()
    browser.force_login(ana)
    assert browser.delete(f"{V1}me/token").status_code == 204
    assert with_token(token).get(f"{V1}me/").status_code == 401
    assert browser.get(f"{V1}me/").status_code == 200  # the session itself stays


@pytest.mark.django_db
def test_integrations_have_no_person_token_to_revoke():
    bot = IntegrationFactory()
    response = with_token(bot.raw_token).delete(f"{V1}me/token")
    assert response.status_code == 403
    assert with_token(bot.raw_token).get(f"{V1}contacts/").status_code == 200


@pytest.mark.django_db
def test_no_admin_page_lists_tokens():
    admin = AdminFactory(is_superuser=True)
    client = Client()
    client.force_login(admin)
    index = client.get("/admin/").content.decode()
    assert "Token" not in index
    assert client.get("/admin/authtoken/tokenproxy/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_the_migration_hashes_the_plaintext_keys_left_by_authtoken():
    executor = MigrationExecutor(connection)
    executor.migrate([("accounts", "0001_initial")])
    old = executor.loader.project_state([("accounts", "0001_initial")]).apps
    user = old.get_model("accounts", "User").objects.create(username="legacy", is_active=True)
    key = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, "
            "created timestamp with time zone NOT NULL, user_id bigint NOT NULL UNIQUE)"
        )
        cursor.execute("INSERT INTO authtoken_token (key, created, user_id) VALUES (%s, %s, %s)",
                       [key, timezone.now().isoformat(), user.pk])
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert "authtoken_token" not in connection.introspection.table_names()
    assert with_token(key).get(f"{V1}me/").json()["username"] == "legacy"
