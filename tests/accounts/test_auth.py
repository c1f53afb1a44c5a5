"""Authentication: tokens for people and integrations, sessions with CSRF, heartbeats."""

from datetime import timedelta

from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import Presence
from tests.api.conftest import client_for
from tests.factories import AgentFactory, IntegrationFactory, UserFactory

V1 = "/api/v1/"


def test_token_for_username_and_password(db):
    UserFactory(username="ana")
    response = APIClient().post(f"{V1}auth/token", {"username": "ana", "password":
                                "secret-pass-1"}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(f"{V1}me/").json()["username"] == "ana"
    again = APIClient().post(f"{V1}auth/token", {"username": "ana", "password":
                             "secret-pass-1"}, format="json").json()["token"]
    # Tokens are stored hashed, so each sign-in gets a new one; the earlier one still works.
    assert again != token
    for each in (token, again):
        client.credentials(HTTP_AUTHORIZATION=f"Token {each}")
        assert client.get(f"{V1}me/").status_code == 200


def test_wrong_credentials_are_a_400_with_detail(db):
    UserFactory(username="ana")
    for payload in ({"username": "ana", "password": "wrong"},
                    {"username": "nobody", "password": "secret-pass-1"},
                    {"username": "ana"}, {}):
        response = APIClient().post(f"{V1}auth/token", payload, format="json")
        assert response.status_code == 400
        assert response.json()["detail"]


def test_inactive_people_get_no_token_and_their_token_stops_working(db):
    user = UserFactory(username="ana")
    client = client_for(user)
    user.is_active = False
    user.save()
    response = APIClient().post(f"{V1}auth/token", {"username": "ana", "password":
                                "secret-pass-1"}, format="json")
    assert response.status_code == 400
    assert client.get(f"{V1}me/").status_code == 401


def test_without_credentials_401_with_challenge(db):
    response = APIClient().get(f"{V1}me/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["detail"]


def test_bad_tokens_are_401(db):
    for header in ("Token nope", "Token", "Token a b", "Token \u00e9"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=header.encode().decode("latin-1"))
        assert client.get(f"{V1}me/").status_code == 401, header


def test_integration_token_works_until_revoked(db):
    bot = IntegrationFactory()
    client = client_for(bot)
    assert client.get(f"{V1}contacts/").status_code == 200
    bot.revoked_at = timezone.now()
    bot.save()
    assert client.get(f"{V1}contacts/").status_code == 401


def test_session_auth_enforces_csrf(db):
    user = AgentFactory()
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.get(f"{V1}me/").status_code == 200
    response = client.put(f"{V1}me/presence", {"status": "away"}, format="json")
    assert response.status_code == 403
    user.refresh_from_db()
    assert user.presence == Presence.ONLINE


def test_every_request_of_a_person_is_a_heartbeat(db):
    user = AgentFactory(last_heartbeat=timezone.now() - timedelta(minutes=5))
    client_for(user).get(f"{V1}me/queues")
    user.refresh_from_db()
    assert timezone.now() - user.last_heartbeat < timedelta(seconds=30)
