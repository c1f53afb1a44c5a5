"""The web chat in the admin (the secret shown once, origins one per line, the teams
offered inline) and the shape of the notices its subscriber publishes."""

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from apps.conversations.events import ConversationsChanged, MessageCreated, Placement
from apps.skills.models import Skill
from apps.webchat import push
from apps.webchat.identity import expected_hash
from apps.webchat.models import OfferedSkill, WebChat
from apps.webhooks import crypto
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

ADD = reverse("admin:webchat_webchat_add")


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def inline(prefix="teams_offered", rows=()):
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}
    for i, (label, team, *skills) in enumerate(rows):
        data |= {f"{prefix}-{i}-position": str(i), f"{prefix}-{i}-label": label,
                 f"{prefix}-{i}-team": str(team.pk), f"{prefix}-{i}-skills": "".join(skills)}
    return data


def test_the_admin_makes_a_web_chat_and_shows_its_secret_once(admin_client):
    team = TeamFactory(name="Vendas")
    english = Skill.objects.create(name="english")
    response = admin_client.post(ADD, {
        "name": "Loja", "allowed_origins": "https://Loja.example\n\nhttp://localhost:8000/",
        "greeting": "Olá", "color": "#123abc", "language": "", "active": "on",
        **inline(rows=[("Comprar", team, "english:2")]),
    }, follow=True)
    assert response.status_code == 200
    webchat = WebChat.objects.get()
    assert webchat.allowed_origins == ["http://localhost:8000", "https://loja.example"]
    assert [(c.label, c.team) for c in webchat.teams_offered.all()] == [("Comprar", team)]
    assert list(OfferedSkill.objects.values_list("skill", "min_level")) == [(english.pk, 2)]
    assert webchat.integration.name == "Web chat: Loja"
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    secret = re.search(r"(wcsec_\S+?)\.", " ".join(messages)).group(1)
    assert crypto.decrypt(webchat.secret) == secret
    assert expected_hash(secret, "x")  # the secret the site signs with

    change = admin_client.get(reverse("admin:webchat_webchat_change", args=[webchat.pk]))
    assert webchat.public_key in change.content.decode()
    assert secret not in change.content.decode()


def test_an_unknown_skill_is_a_form_error_and_nothing_is_made(admin_client):
    response = admin_client.post(ADD, {
        "name": "Loja", "allowed_origins": "", "color": "#123abc",
        **inline(rows=[("Comprar", TeamFactory(), "nope")]),
    })
    assert response.status_code == 200
    assert "nope" in str(response.context["inline_admin_formsets"][0].formset.errors)
    assert not WebChat.objects.exists()


def test_a_bad_origin_is_a_form_error_and_nothing_is_made(admin_client):
    response = admin_client.post(ADD, {
        "name": "Loja", "allowed_origins": "loja.example", "color": "#123abc",
        **inline(),
    })
    assert response.status_code == 200
    assert "scheme://host" in str(response.context["adminform"].form.errors)
    assert not WebChat.objects.exists()


def test_notices_name_only_ids_and_reach_the_right_groups():
    queued = Placement(status="queued", team_id=3, assignee_id=None, preferred_agent_id=None,
                       integration_id=9)
    assigned = Placement(status="assigned", team_id=3, assignee_id=5, preferred_agent_id=None,
                         integration_id=9)
    foreign = Placement(status="queued", team_id=4, assignee_id=None, preferred_agent_id=None)
    assert push.notices_for(ConversationsChanged(changes=((1, queued, assigned),
                                                          (2, None, foreign)))) == {
        "webchat.c.1": {"type": "webchat.notice", "what": "status"},
        "webchat.t.3": {"type": "webchat.notice", "what": "queue"},
    }
    assert push.notices_for(MessageCreated(conversation_id=1, message_id=7,
                                           placement=assigned)) == {
        "webchat.c.1": {"type": "webchat.notice", "what": "message", "message": 7},
    }
    assert push.notices_for(MessageCreated(conversation_id=2, message_id=8,
                                           placement=foreign)) == {}
    group = push.customer_group("any text at all / é")
    assert re.fullmatch(r"[a-zA-Z0-9._-]{1,99}", group)
