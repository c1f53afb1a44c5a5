"""Failed sign-ins are throttled per username and per address on every login path (the
token endpoint, the login page, the admin login): after 10 failures in 5 minutes the answer
is 429 with Retry-After, JSON on the API; the counting is shared by the three paths."""

import time
from datetime import timedelta

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import PASSWORD, AdminFactory, AgentFactory

pytestmark = pytest.mark.django_db

LIMIT = 10


def api_login(username, password, address="10.0.0.1"):
    return APIClient(REMOTE_ADDR=address).post(
        "/api/v1/auth/token", {"username": username, "password": password}, format="json"
    )


def page_login(username, password, address="10.0.0.1", path="/accounts/login/"):
    return Client(REMOTE_ADDR=address).post(path, {"username": username, "password": password})


def test_the_token_endpoint_answers_429_after_ten_failures_for_a_username():
    AgentFactory(username="ana")
    for n in range(LIMIT - 1):
        assert api_login("ana", "wrong", address=f"10.0.0.{n}").status_code == 400
    # The tenth failure is the one that locks: it is told so.
    assert api_login("ana", "wrong", address="10.0.1.1").status_code == 429
    refused = api_login("ana", PASSWORD, address="10.9.9.9")  # even the right password
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) <= 300
    assert refused.json()["detail"]
    assert "token" not in refused.json()
    # Another person, from another address, is not affected.
    AgentFactory(username="bia")
    assert api_login("bia", PASSWORD, address="10.8.8.8").status_code == 200


def test_the_token_endpoint_answers_429_after_ten_failures_from_an_address():
    AgentFactory(username="ana")
    for n in range(LIMIT - 1):
        assert api_login(f"guess{n}", "wrong", address="10.1.1.1").status_code == 400
    assert api_login("guess-last", "wrong", address="10.1.1.1").status_code == 429
    assert api_login("ana", PASSWORD, address="10.1.1.1").status_code == 429
    assert api_login("ana", PASSWORD, address="10.2.2.2").status_code == 200


def test_the_login_page_and_the_admin_login_are_throttled_too():
    AgentFactory(username="ana")
    AdminFactory(username="root")
    for n in range(LIMIT - 1):
        assert page_login("ana", "wrong", address=f"10.3.0.{n}").status_code == 200
    assert page_login("ana", "wrong", address="10.3.0.99").status_code == 429
    page = page_login("ana", PASSWORD, address="10.3.1.1")
    assert page.status_code == 429 and page["Retry-After"]
    for n in range(LIMIT):
        page_login("root", "wrong", address=f"10.4.0.{n}", path="/admin/login/")
    admin = page_login("root", PASSWORD, address="10.4.1.1", path="/admin/login/")
    assert admin.status_code == 429 and admin["Retry-After"]


def test_failures_count_across_the_three_paths():
    AgentFactory(username="ana")
    for n in range(4):
        page_login("ana", "wrong", address=f"10.5.0.{n}")
    for n in range(3):
        page_login("ana", "wrong", address=f"10.5.1.{n}", path="/admin/login/")
    for n in range(2):
        assert api_login("ana", "wrong", address=f"10.5.2.{n}").status_code == 400
    assert api_login("ana", "wrong", address="10.5.2.9").status_code == 429  # the tenth
    assert api_login("ana", PASSWORD, address="10.5.3.1").status_code == 429


def test_the_lock_lifts_after_the_cool_off(settings):
    settings.AXES_COOLOFF_TIME = timedelta(seconds=1)
    AgentFactory(username="ana")
    for _ in range(LIMIT):
        api_login("ana", "wrong")
    assert api_login("ana", PASSWORD).status_code == 429
    time.sleep(1.5)
    assert api_login("ana", PASSWORD).status_code == 200


def test_a_malformed_login_is_a_400_not_a_lockout_bypass():
    AgentFactory(username="ana")
    for bad in ({"username": ["ana"], "password": "x"}, {"username": "ana"}, {}):
        response = APIClient().post("/api/v1/auth/token", bad, format="json")
        assert response.status_code == 400
        assert response.json()["detail"]
