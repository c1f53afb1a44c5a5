"""/healthz and /readyz (api.md "Operations"): what a probe sees."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client, override_settings
from django.utils import timezone

from apps.routing import services, tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def checked_sweep(settings):
    """Readiness checks the sweep (beat runs it in production; embedded mode's server
    runs it unless EMBEDDED_SWEEP is off, as the tests have it), every 30 s."""
    settings.EMBEDDED_SWEEP = True
    settings.DISTRIBUTION_SWEEP_SECONDS = 30.0


def test_healthz_answers_ok_whatever_the_host():
    response = Client().get("/healthz", HTTP_HOST="10.1.2.3:8000")  # a probe by IP
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ready_after_a_recent_sweep(checked_sweep, django_assert_num_queries):
    tasks.sweep()
    with django_assert_num_queries(1):  # the last sweep's row: the database answers too
        response = Client().get("/readyz", HTTP_HOST="10.1.2.3")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "redis", "sweep"}


def test_readyz_is_unavailable_before_any_sweep(checked_sweep):
    response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["sweep"]
    assert "never ran" in body["checks"]["sweep"]
    assert "sweep" in body["detail"]


def test_readyz_turns_unavailable_once_three_periods_pass_without_a_sweep(checked_sweep):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        services.record_sweep_run()
        traveller.move_to(start + timedelta(seconds=89))
        assert Client().get("/readyz").status_code == 200
        traveller.move_to(start + timedelta(seconds=91))
        late = Client().get("/readyz")
        assert late.status_code == 503
        assert late.json()["failed"] == ["sweep"]
        assert "late: last finished 91 s ago (limit 90 s)" in late.json()["checks"]["sweep"]
        tasks.sweep()  # beat is back
        assert Client().get("/readyz").status_code == 200


def test_embedded_mode_without_its_sweep_does_not_wait_for_one(settings):
    if not settings.EMBEDDED:
        pytest.skip("embedded mode only (production mode always checks the sweep)")
    settings.EMBEDDED_SWEEP = False
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["sweep"].startswith("off")


def test_readyz_names_redis_when_it_does_not_answer(checked_sweep, settings):
    if settings.EMBEDDED:
        pytest.skip("Redis is checked in production mode (CI sets REDIS_URL)")
    tasks.sweep()
    unreachable = {"default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }}
    with override_settings(CACHES=unreachable):
        response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["redis"]
    assert response.json()["checks"]["database"] == "ok"


def test_operations_endpoints_refuse_writes():
    response = Client().post("/healthz")
    assert response.status_code == 405
    assert response.json()["detail"]
    assert response["Allow"] == "GET, HEAD"
