"""The admin as a Brazilian administrator reads it: messages that agree with their model,
the organization tree's words and rule marks, a readable history, one name field."""

import json
import re
from html import unescape

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from apps.organizations.models import Organization, OrganizationKind, PreferentialRule, RuleType
from apps.routing import services as routing
from tests.factories import AgentFactory, ContactFactory, RuleFactory, TeamFactory, UserFactory
from tests.foundation.test_admin_pages import BUILDERS, REGISTERED, page_url
from tests.foundation.test_admin_time_rules import team_form
from tests.helpers import arrive

pytestmark = pytest.mark.django_db
PT = {"HTTP_ACCEPT_LANGUAGE": "pt-BR"}


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_adding_a_rule_says_so_in_agreeing_portuguese(admin_client):
    contact = ContactFactory(name="Marta")
    agent = AgentFactory(name="Diego")
    response = admin_client.post(
        reverse("admin:organizations_preferentialrule_add"),
        {"organization": "", "contact": contact.pk, "agent": agent.pk, "type": RuleType.AUTO,
         "active": "on"},
        follow=True, **PT,
    )
    rule = PreferentialRule.objects.get()
    (message,) = said(response)
    assert message.startswith("A regra preferencial “")
    assert message.endswith("” foi adicionada.")
    assert f'href="/admin/organizations/preferentialrule/{rule.pk}/change/"' in message
    page = response.content.decode()
    assert "regra preferencial" in page and "preferential rule" not in page


def test_the_other_messages_agree_too(admin_client):
    team = TeamFactory(name="Vendas")
    changed = admin_client.post(
        reverse("admin:teams_team_change", args=[team.pk]),
        {**team_form(team, name="Vendas 2"), "_continue": "1"},
        follow=True, **PT,
    )
    assert said(changed) == [
        f'A equipe “<a href="/admin/teams/team/{team.pk}/change/">Vendas 2</a>” foi alterada. '
        "Você pode continuar a edição abaixo."
    ]
    doomed = [TeamFactory(), TeamFactory()]
    deleted = admin_client.post(
        reverse("admin:teams_team_changelist"),
        {"action": "delete_selected", "_selected_action": [t.pk for t in doomed], "post": "yes"},
        follow=True, **PT,
    )
    assert said(deleted) == ["2 equipes excluídas."]
    listing = admin_client.get(reverse("admin:teams_team_changelist"), **PT).content.decode()
    assert "Excluir as equipes selecionadas" in listing
    contact = ContactFactory(name="Caio")
    gone = admin_client.post(
        reverse("admin:organizations_contact_delete", args=[contact.pk]), {"post": "yes"},
        follow=True, **PT,
    )
    assert said(gone) == ["O contato “Caio” foi excluído."]


def test_english_stays_english(admin_client):
    team = TeamFactory(name="Sales")
    response = admin_client.post(
        reverse("admin:teams_team_change", args=[team.pk]),
        team_form(team),
        follow=True, HTTP_ACCEPT_LANGUAGE="en",
    )
    assert said(response) == [
        f'The team “<a href="/admin/teams/team/{team.pk}/change/">Sales</a>” was changed.'
    ]


@pytest.fixture
def tree():
    acme = Organization.objects.create(name="Acme")
    finance = Organization.objects.create(
        name="Acme Finanças", kind=OrganizationKind.DEPARTMENT, parent=acme
    )
    payables = Organization.objects.create(
        name="Contas a pagar", kind=OrganizationKind.DEPARTMENT, parent=finance
    )
    globex = Organization.objects.create(name="Globex")
    return {"acme": acme, "finance": finance, "payables": payables, "globex": globex}


def test_the_tree_marks_the_nodes_that_carry_a_rule(admin_client, tree):
    RuleFactory(organization=tree["finance"], agent=AgentFactory(name="Diego"),
                type=RuleType.AUTO)
    RuleFactory(organization=tree["globex"], agent=AgentFactory(name="Carla"), active=False)
    page = admin_client.get(reverse("admin:organizations_organization_changelist"), **PT)
    html = page.content.decode()
    assert f'data-testid="rule-mark-{tree["finance"].pk}"' in html
    assert "★ Diego (Distribuição automática)" in html
    assert f'data-testid="rule-mark-{tree["globex"].pk}"' not in html  # inactive
    assert "js/admin-organization-tree." in html  # hashed in production
    # django-mptt's script carries Atende's words (the tree's buttons, the confirmation).
    context = json.loads(unescape(re.search(r'data-context="([^"]+)"', html).group(1)))
    assert context["messages"]["expandTree"] == "Expandir a árvore"
    assert context["messages"]["collapseTree"] == "Recolher a árvore"
    assert context["messages"]["confirmMoveMany"] == (
        "Mover “%(name)s” junto com as %(count)s organizações da sua subárvore?"
    )


def test_a_node_under_its_own_descendant_is_refused_with_the_reason(admin_client, tree):
    url = reverse("admin:organizations_organization_change", args=[tree["acme"].pk])
    response = admin_client.post(
        url, {"name": "Acme", "kind": "organization", "parent": tree["payables"].pk}, **PT
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["parent"]
    assert errors == [
        "“Contas a pagar” está dentro de “Acme” (é um dos seus descendentes): um nó não pode "
        "ficar sob a própria subárvore. Escolha um pai fora dela."
    ]
    assert Organization.objects.get(pk=tree["acme"].pk).is_root_node()


def test_dragging_names_the_reason_and_says_what_moved(admin_client, tree):
    changelist = reverse("admin:organizations_organization_changelist")
    refused = admin_client.post(changelist, {
        "cmd": "move_node", "cut_item": tree["acme"].pk, "pasted_on": tree["finance"].pk,
        "position": "last-child",
    }, **PT)
    assert refused.content == b"FAIL, invalid move."
    assert said(refused) == [
        "“Acme Finanças” está dentro de “Acme” (é um dos seus descendentes): um nó não pode "
        "ficar sob a própria subárvore. Escolha um pai fora dela."
    ]
    moved = admin_client.post(changelist, {
        "cmd": "move_node", "cut_item": tree["finance"].pk, "pasted_on": tree["globex"].pk,
        "position": "last-child",
    }, **PT)
    assert moved.content == b"OK, moved."
    assert said(moved)[-1] == (
        "“Acme Finanças” mudou de lugar, junto com 1 organização da sua subárvore."
    )
    finance = Organization.objects.get(pk=tree["finance"].pk)
    assert finance.parent_id == tree["globex"].pk
    assert [n.name for n in finance.get_descendants()] == ["Contas a pagar"]


def test_the_conversation_page_is_a_readable_view(admin_client):
    agent = AgentFactory(name="Ana")
    team = TeamFactory(name="Vendas", agents=[agent])
    conversation = arrive("wa:admin", team=team, body="Oi")
    routing.claim_conversation(conversation_id=conversation.pk, agent=agent)
    page = admin_client.get(
        reverse("admin:conversations_conversation_change", args=[conversation.pk]), **PT
    ).content.decode()
    assert 'name="_save"' not in page and 'name="_continue"' not in page
    assert "Ana assumiu o atendimento da fila de Vendas (ATENDER)." in page
    assert "Na fila · Vendas → Atribuído · Vendas · Ana" in page
    moment = conversation.events.last().at
    assert f"{moment:%H:%M:%S}" in page  # to the second
    assert "Histórico" in page or "histórico" in page.lower()


def test_the_user_form_asks_for_one_name(admin_client):
    agent = AgentFactory()
    page = admin_client.get(reverse("admin:accounts_user_change", args=[agent.pk]), **PT)
    html = page.content.decode()
    assert 'name="name"' in html
    assert 'name="first_name"' not in html and 'name="last_name"' not in html


LABEL = re.compile(r"<label[^>]*>\s*([^<]+?)\s*</label>")


@pytest.mark.parametrize("language", ["pt-BR", "en"])
@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_every_admin_form_label_starts_with_a_capital(admin_client, model, language):
    """Labels a form gives itself (not Django's from the model) kept the model's lower-case
    verbose name: "primeira resposta em até (segundos)" (issue 18). The choosers' titles
    are Django's and capitalised by admin.css."""
    obj = BUILDERS[model]()
    lower = []
    for page in ("add", "change"):
        response = admin_client.get(page_url(model, page, obj), follow=True,
                                    HTTP_ACCEPT_LANGUAGE=language)
        if response.status_code != 200:
            continue
        html = response.content.decode()
        lower += [
            text for text in LABEL.findall(html)
            if text[:1].islower() and not re.search(
                r"(disponíveis|escolhido\(s\)|available|chosen)$", text)
        ]
    assert lower == []
