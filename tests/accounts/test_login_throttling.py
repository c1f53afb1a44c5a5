"""Failed sign-ins are throttled per (username, address) pair on every login path (the
token endpoint, the login page, the admin login): after 10 failures in 5 minutes that pair
gets 429 with Retry-After (the time the lock still lasts), JSON on the API; the counting is
shared by the three paths. An address has a much higher ceiling of its own (spraying); one
person's typos never lock out their colleagues, and nobody locks a named account out."""

from datetime import timedelta

import pytest
import time_machine
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


def test_ten_failures_lock_the_username_from_that_address_only():
    AgentFactory(username="ana")
    for _ in range(LIMIT - 1):
        assert api_login("ana", "wrong", address="10.0.0.1").status_code == 400
    # The tenth failure is the one that locks: it is told so.
    assert api_login("ana", "wrong", address="10.0.0.1").status_code == 429
    refused = api_login("ana", PASSWORD, address="10.0.0.1")  # even the right password
    assert refused.status_code == 429
    assert 295 <= int(refused["Retry-After"]) <= 300
    assert refused.json()["detail"]
    assert "token" not in refused.json()
    # Ana from elsewhere, and her colleagues behind the same address, are not affected.
    assert api_login("ana", PASSWORD, address="10.9.9.9").status_code == 200
    AgentFactory(username="bia")
    assert api_login("bia", PASSWORD, address="10.0.0.1").status_code == 200


def test_nobody_can_lock_a_named_account_out_from_elsewhere():
    AdminFactory(username="root")
    for n in range(3 * LIMIT):  # from many addresses: each pair stays below the limit
        assert api_login("root", "wrong", address=f"10.6.{n // 250}.{n % 250}").status_code \
            == 400
    assert api_login("root", PASSWORD, address="10.7.7.7").status_code == 200


def test_an_address_has_a_much_higher_ceiling_of_its_own(settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 25  # 100 in production; the rule is the same
    AgentFactory(username="ana")
    for n in range(24):  # spraying: a few guesses at many usernames, never 10 at one
        assert api_login(f"guess{n // 3}", "wrong", address="10.1.1.1").status_code == 400
    assert api_login("guess-last", "wrong", address="10.1.1.1").status_code == 429
    refused = api_login("ana", PASSWORD, address="10.1.1.1")
    assert refused.status_code == 429 and 295 <= int(refused["Retry-After"]) <= 300
    assert api_login("ana", PASSWORD, address="10.2.2.2").status_code == 200


def test_retry_after_is_the_time_that_really_remains():
    AgentFactory(username="ana")
    with time_machine.travel("2026-12-08 10:00:00+00:00", tick=False) as clock:
        for _ in range(LIMIT):
            api_login("ana", "wrong")
        clock.shift(timedelta(seconds=120))
        refused = api_login("ana", PASSWORD)
        assert refused.status_code == 429
        assert int(refused["Retry-After"]) == 180
        page = page_login("ana", PASSWORD)
        assert page.status_code == 429 and int(page["Retry-After"]) == 180
        clock.shift(timedelta(seconds=181))
        assert api_login("ana", PASSWORD).status_code == 200


def test_the_login_page_and_the_admin_login_are_throttled_too():
    AgentFactory(username="ana")
    AdminFactory(username="root")
    for _ in range(LIMIT - 1):
        assert page_login("ana", "wrong", address="10.3.0.1").status_code == 200
    assert page_login("ana", "wrong", address="10.3.0.1").status_code == 429
    page = page_login("ana", PASSWORD, address="10.3.0.1")
    assert page.status_code == 429 and page["Retry-After"]
    for _ in range(LIMIT):
        page_login("root", "wrong", address="10.4.0.1", path="/admin/login/")
    admin = page_login("root", PASSWORD, address="10.4.0.1", path="/admin/login/")
    assert admin.status_code == 429 and admin["Retry-After"]


def test_failures_count_across_the_three_paths():
    AgentFactory(username="ana")
    for _ in range(4):
        page_login("ana", "wrong", address="10.5.0.1")
    for _ in range(3):
        page_login("ana", "wrong", address="10.5.0.1", path="/admin/login/")
    for _ in range(2):
        assert api_login("ana", "wrong", address="10.5.0.1").status_code == 400
    assert api_login("ana", "wrong", address="10.5.0.1").status_code == 429  # the tenth
    assert api_login("ana", PASSWORD, address="10.5.0.1").status_code == 429


def test_the_lock_lifts_after_the_cool_off(settings):
    settings.AXES_COOLOFF_TIME = timedelta(seconds=1)
    AgentFactory(username="ana")
    with time_machine.travel("2026-12-08 11:00:00+00:00", tick=False) as clock:
        for _ in range(LIMIT):
            api_login("ana", "wrong")
        assert api_login("ana", PASSWORD).status_code == 429
        clock.shift(timedelta(seconds=1.5))
        assert api_login("ana", PASSWORD).status_code == 200


def test_a_malformed_login_is_a_400_not_a_lockout_bypass():
    AgentFactory(username="ana")
    for bad in ({"username": ["ana"], "password": "x"}, {"username": "ana"}, {}):
        response = APIClient().post("/api/v1/auth/token", bad, format="json")
        assert response.status_code == 400
        assert response.json()["detail"]
