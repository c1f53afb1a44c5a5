"""``webchats/`` (api.md): administrators make and change web chats; nobody else may."""

import pytest

from apps.skills.models import Skill
from apps.webchat.models import WebChat
from tests.api.conftest import client_for
from tests.factories import AdminFactory, AgentFactory, SupervisorFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return AdminFactory()


def test_admin_creates_reads_changes_and_deletes_a_web_chat(admin, django_assert_num_queries):
    team = TeamFactory(name="Vendas")
    Skill.objects.create(name="english")
    api = client_for(admin)
    created = api.post("/api/v1/webchats/", {
        "name": "Loja", "allowed_origins": ["https://Loja.example/", "http://localhost:8000"],
        "teams_offered": [{"label": "Comprar", "team": team.pk,
                           "skills": ["english", {"skill": "english", "min_level": 2}]}],
        "greeting": "Olá!", "language": "pt-br",
    }, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["secret"].startswith("wcsec_") and body["public_key"].startswith("wc_")
    assert body["allowed_origins"] == ["http://localhost:8000", "https://loja.example"]
    assert body["teams_offered"] == [{"label": "Comprar", "team": team.pk,
                                      "skills": [{"skill": "english", "min_level": 2}]}]
    assert body["active"] is True and body["language"] == "pt-br"

    shown = api.get(f"/api/v1/webchats/{body['id']}/").json()
    assert "secret" not in shown and shown["public_key"] == body["public_key"]

    changed = api.patch(f"/api/v1/webchats/{body['id']}/", {"active": False, "teams_offered": []},
                        format="json")
    assert changed.status_code == 200 and changed.json()["teams_offered"] == []
    assert changed.json()["active"] is False and "secret" not in changed.json()
    renewed = api.patch(f"/api/v1/webchats/{body['id']}/", {"new_secret": True}, format="json")
    assert renewed.json()["secret"] != body["secret"]

    for name in ("Outra", "Mais uma"):
        api.post("/api/v1/webchats/", {"name": name, "teams_offered": [
            {"label": "X", "team": team.pk, "skills": ["english"]}]}, format="json")
    with django_assert_num_queries(4):  # the user, the chats, their teams, the skills
        listed = api.get("/api/v1/webchats/")
    assert [w["name"] for w in listed.json()] == ["Loja", "Mais uma", "Outra"]

    assert api.delete(f"/api/v1/webchats/{body['id']}/").status_code == 204
    assert api.get(f"/api/v1/webchats/{body['id']}/").status_code == 404


@pytest.mark.parametrize("payload, field", [
    ({"allowed_origins": ["shop.example"]}, "allowed_origins"),
    ({"allowed_origins": ["https://shop.example/path"]}, "allowed_origins"),
    ({"allowed_origins": "https://shop.example"}, "allowed_origins"),
    ({"teams_offered": [{"label": "X", "team": 999999}]}, "teams_offered"),
    ({"teams_offered": [{"label": "", "team": 1}]}, "teams_offered"),
    ({"teams_offered": [{"label": "X", "team": 1, "skills": ["nope"]}]}, "teams_offered"),
    ({"language": "fr"}, "language"),
    ({"color": "red"}, "color"),
    ({"active": "yes"}, "active"),
    ({"name": ""}, "name"),
    ({"nonsense": 1}, "nonsense"),
])
def test_bad_input_is_a_400_and_changes_nothing(admin, payload, field):
    response = client_for(admin).post("/api/v1/webchats/", {"name": "Loja", **payload},
                                      format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["field"] == field and response.json()["detail"]
    assert not WebChat.objects.exists()


@pytest.mark.parametrize("factory", [AgentFactory, SupervisorFactory])
def test_only_admins(factory):
    api = client_for(factory())
    assert api.get("/api/v1/webchats/").status_code == 403
    assert api.post("/api/v1/webchats/", {"name": "X"}, format="json").status_code == 403
    assert not WebChat.objects.exists()
