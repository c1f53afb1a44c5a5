"""The web chat's public HTTP side: the embed script, and the chat's configuration for an
allowed origin only (JSON refusals otherwise)."""

import re

import pytest
from django.test import Client

from tests.factories import TeamFactory
from tests.webchat.helpers import SITE, make_webchat

pytestmark = pytest.mark.django_db


def test_the_embed_script_loads_the_window_module():
    response = Client().get("/webchat.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    # The module's static URL (hashed when static files are collected, as in production).
    assert re.search(rb'"/static/js/webchat/widget(\.[0-9a-f]+)?\.js"', response.content)


def test_config_for_an_allowed_origin_only():
    team = TeamFactory(name="Suporte")
    webchat, _ = make_webchat(teams=[("Ajuda", team)], greeting="Oi")
    client = Client()
    ok = client.get(f"/webchat/{webchat.public_key}/", HTTP_ORIGIN=SITE)
    assert ok.status_code == 200 and ok["Access-Control-Allow-Origin"] == SITE
    assert ok.json()["teams"][0]["label"] == "Ajuda" and "team" not in ok.json()["teams"][0]

    wrong = client.get(f"/webchat/{webchat.public_key}/?lang=pt-BR",
                       HTTP_ORIGIN="https://evil.example")
    assert wrong.status_code == 403
    assert wrong.json() == {"detail": "Este site não pode usar este chat.",
                            "code": "origin_not_allowed"}
    assert client.get(f"/webchat/{webchat.public_key}/").status_code == 403  # no Origin
    unknown = client.get("/webchat/wc_nope/", HTTP_ORIGIN=SITE)
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_key"
    assert client.post(f"/webchat/{webchat.public_key}/", HTTP_ORIGIN=SITE).status_code == 405
