"""Refusals are JSON with a ``detail``: a body over 1 MiB is 413, JSON nested deeper than 64
levels is 400, on every JSON endpoint (unauthenticated ones included) and on the pages."""

import json

import pytest
from django.test import Client

from apps.conversations.models import Conversation
from tests.api.conftest import client_for
from tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db

MIB = 1024 * 1024


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_json_nested_1000_deep_is_a_400_even_before_signing_in():
    response = Client().post("/api/v1/auth/token", nested(1000), content_type="application/json")
    assert response.status_code == 400
    assert "64" in response.json()["detail"]


def test_json_nested_deeper_than_64_is_a_400_and_64_is_fine():
    bot = client_for(IntegrationFactory())
    deep = {"contact": {"external_id": "x"}, "body": "hi", "channel": "webchat"}
    inner = deep
    for _ in range(70):
        inner["x"] = {}
        inner = inner["x"]
    response = bot.post("/api/v1/inbound", json.dumps(deep), content_type="application/json")
    assert response.status_code == 400
    assert "64" in response.json()["detail"]
    assert Conversation.objects.count() == 0
    shallow = bot.post("/api/v1/inbound", nested(64), content_type="application/json")
    assert shallow.status_code == 400
    assert "64" not in shallow.json()["detail"]  # an ordinary validation error


@pytest.mark.parametrize("path", ["/api/v1/auth/token", "/api/v1/inbound", "/accounts/login/"])
def test_a_body_over_one_mib_is_a_413_in_json(path):
    body = json.dumps({"body": "x" * (10 * MIB)})
    response = client_for(IntegrationFactory()).post(path, body, content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    assert "1 MiB" in response.json()["detail"]


def test_a_body_just_under_the_limit_is_read():
    bot = client_for(IntegrationFactory())
    payload = {"contact": {"external_id": "big"}, "body": "x" * 10_000,
               "padding": "y" * (MIB - 20_000)}
    response = bot.post("/api/v1/inbound", json.dumps(payload), content_type="application/json")
    assert response.status_code == 201, response.content


def test_a_bad_request_page_is_json():
    response = Client().get("/accounts/login/", HTTP_HOST="not-allowed.example")
    assert response.status_code == 400
    assert response.json()["detail"]
