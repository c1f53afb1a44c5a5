"""The organization tree (django-mptt): moving a node moves its subtree, in code and in the
admin's drag and drop."""

import pytest
from django.urls import reverse

from apps.organizations.models import Organization, OrganizationKind, RuleType
from apps.organizations.selectors import preferential_rule_for
from tests.factories import AgentFactory, ContactFactory, RuleFactory, UserFactory
from tests.helpers import arrive

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    acme = Organization.objects.create(name="Acme")
    finance = Organization.objects.create(
        name="Acme Finance", kind=OrganizationKind.DEPARTMENT, parent=acme
    )
    payables = Organization.objects.create(
        name="Payables", kind=OrganizationKind.DEPARTMENT, parent=finance
    )
    globex = Organization.objects.create(name="Globex")
    return {"acme": acme, "finance": finance, "payables": payables, "globex": globex}


def names(nodes):
    return [node.name for node in nodes]


def reload(tree):
    return {key: Organization.objects.get(pk=node.pk) for key, node in tree.items()}


def test_moving_a_node_moves_its_descendants(tree):
    finance = tree["finance"]
    finance.parent = tree["globex"]
    finance.save()
    nodes = reload(tree)
    assert names(nodes["payables"].get_ancestors()) == ["Globex", "Acme Finance"]
    assert names(nodes["globex"].get_descendants()) == ["Acme Finance", "Payables"]
    assert names(nodes["acme"].get_descendants()) == []
    assert nodes["payables"].level == 2


def test_move_to_makes_a_subtree_a_root(tree):
    tree["finance"].move_to(None)
    nodes = reload(tree)
    assert nodes["finance"].is_root_node()
    assert names(nodes["payables"].get_ancestors()) == ["Acme Finance"]


def test_rules_follow_a_moved_subtree(tree):
    """A rule on a company covers the subtree it has now, not the one it had."""
    acme_agent, globex_agent = AgentFactory(), AgentFactory()
    RuleFactory(organization=tree["acme"], agent=acme_agent, type=RuleType.QUEUE)
    RuleFactory(organization=tree["globex"], agent=globex_agent, type=RuleType.QUEUE)
    contact = ContactFactory(organization=tree["payables"])
    assert preferential_rule_for(contact).agent == acme_agent

    tree["finance"].parent = tree["globex"]
    tree["finance"].save()
    contact.refresh_from_db()
    assert preferential_rule_for(contact).agent == globex_agent
    conversation = arrive(contact=contact, body="hello")
    assert conversation.preferred_agent == globex_agent


def test_admin_drag_and_drop_moves_the_subtree(client, tree):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.post(
        reverse("admin:organizations_organization_changelist"),
        {
            "cmd": "move_node",
            "cut_item": tree["finance"].pk,
            "pasted_on": tree["globex"].pk,
            "position": "last-child",
        },
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    )
    assert response.status_code == 200
    nodes = reload(tree)
    assert names(nodes["payables"].get_ancestors()) == ["Globex", "Acme Finance"]
    assert nodes["finance"].parent_id == tree["globex"].pk


def test_admin_change_form_moves_the_subtree(client, tree):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:organizations_organization_change", args=[tree["finance"].pk])
    response = client.post(
        url, {"name": "Acme Finance", "kind": "department", "parent": tree["globex"].pk}
    )
    assert response.status_code == 302
    nodes = reload(tree)
    assert names(nodes["payables"].get_ancestors()) == ["Globex", "Acme Finance"]


def test_admin_refuses_a_node_under_its_own_descendant(client, tree):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:organizations_organization_change", args=[tree["acme"].pk])
    response = client.post(
        url, {"name": "Acme", "kind": "organization", "parent": tree["payables"].pk}
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    nodes = reload(tree)
    assert nodes["acme"].is_root_node()
    assert names(nodes["payables"].get_ancestors()) == ["Acme", "Acme Finance"]
