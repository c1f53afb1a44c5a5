"""The integration's webhook settings through the API, its deliveries list, and the refusals."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.accounts.models import IntegrationClient
from apps.webhooks import delivery as sending
from apps.webhooks.models import Delivery
from tests.api.conftest import client_for
from tests.factories import AdminFactory, AgentFactory, IntegrationFactory, TeamFactory
from tests.helpers import arrive

pytestmark = pytest.mark.django_db

V1 = "/api/v1/"


@pytest.fixture
def admin():
    return client_for(AdminFactory())


def test_the_secret_is_shown_once_on_creation(admin, receiver, allow_private):
    created = admin.post(V1 + "integrations/", {"name": "WhatsApp", "webhook_url": receiver.url},
                         format="json")
    assert created.status_code == 201
    body = created.json()
    assert body["token"].startswith("int_") and body["webhook_secret"].startswith("whsec_")
    assert (body["webhook_url"], body["active"], body["webhook_status"]) == (
        receiver.url, True, "ok")
    again = admin.get(V1 + f"integrations/{body['id']}/").json()
    assert again["webhook_secret"] is None and again["token"].endswith("…")
    listed = admin.get(V1 + "integrations/").json()
    assert [row["webhook_secret"] for row in listed] == [None]
    stored = IntegrationClient.objects.get(pk=body["id"])
    assert body["webhook_secret"] not in stored.webhook_secret

    # The secret signs what is sent.
    bot = APIClient()
    bot.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert bot.post(V1 + "inbound", {"contact": {"external_id": "wa:1"}, "body": "Oi"},
                    format="json").status_code == 201
    sending.run_deliveries(integration_id=body["id"])
    (received,) = receiver.received
    assert received.signed_with(body["webhook_secret"])


def test_every_integration_gets_a_secret_even_without_a_url_yet(admin, allow_private):
    created = admin.post(V1 + "integrations/", {"name": "Later"}, format="json").json()
    assert created["webhook_secret"] and created["webhook_status"] == "off"
    patched = admin.patch(V1 + f"integrations/{created['id']}/",
                          {"webhook_url": "http://127.0.0.1:8001/"}, format="json").json()
    assert patched["webhook_secret"] is None  # it had one already: not shown again
    assert patched["webhook_status"] == "ok"


def test_an_integration_made_before_webhooks_gets_its_secret_with_its_url(admin,
                                                                          allow_private):
    old = IntegrationFactory()  # no secret, as integrations made before webhooks existed
    patched = admin.patch(V1 + f"integrations/{old.pk}/",
                          {"webhook_url": "http://127.0.0.1:8001/"}, format="json").json()
    assert patched["webhook_secret"].startswith("whsec_")
    again = admin.patch(V1 + f"integrations/{old.pk}/", {"name": "Renamed"}, format="json")
    assert again.json()["webhook_secret"] is None and again.json()["name"] == "Renamed"


REFUSED = [
    "ftp://hooks.example.com/",
    "hooks.example.com/atende",
    "http:///no-host",
    "https://user:pass@hooks.example.com/",
    "http://127.0.0.1:8001/",
    "http://localhost/",
    "http://10.1.2.3/hooks",
    "http://192.168.0.10/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]:8001/",
    "http://[fd00:ec2::254]/",
    "http://[::ffff:127.0.0.1]/",
    # IPv6 forms that embed an IPv4 address: the embedded one is what is reached.
    "http://[::7f00:1]/",  # IPv4-compatible ::127.0.0.1
    "http://[::a9fe:a9fe]/",  # ::169.254.169.254
    "http://[64:ff9b::7f00:1]/",  # NAT64 of 127.0.0.1
    "http://[64:ff9b::a00:1]/",  # NAT64 of 10.0.0.1
    "http://[64:ff9b:1::a00:1]/",  # local-use NAT64 prefix
    "http://[2002:7f00:1::1]/",  # 6to4 of 127.0.0.1
    "http://[2002:a9fe:a9fe::1]/",  # 6to4 of 169.254.169.254
    "http://[2002:c0a8:1::]/",  # 6to4 of 192.168.0.1
    "http://0.0.0.0/",
    "http://100.64.0.1/",
    "http://hooks.example.com/with space",
    "http://no-such-host.invalid/",
    "http://hooks.example.com:99999/",
    "http://" + "a" * 2100 + ".example.com/",
]


@pytest.mark.parametrize("url", REFUSED)
def test_unsafe_or_malformed_webhook_urls_are_refused_in_production_mode(admin, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    integration = IntegrationFactory(name="Bot")
    before = list(IntegrationClient.objects.values_list("webhook_url", "webhook_secret"))
    response = admin.patch(V1 + f"integrations/{integration.pk}/", {"webhook_url": url},
                           format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["detail"] and "webhook_url" in body
    assert list(IntegrationClient.objects.values_list("webhook_url", "webhook_secret")) == before
    created = admin.post(V1 + "integrations/", {"name": "New", "webhook_url": url},
                         format="json")
    assert created.status_code == 400 and created.json()["detail"]
    assert IntegrationClient.objects.count() == 1


@pytest.mark.parametrize("address", ["64:ff9b::808:808", "2002:808:808::1",
                                     "2606:4700:4700::1111", "8.8.8.8"])
def test_public_addresses_behind_those_forms_are_fine(address):
    from apps.webhooks.targets import is_public_address

    assert is_public_address(address)


def test_private_addresses_are_fine_when_allowed(admin, allow_private):
    response = admin.post(V1 + "integrations/",
                          {"name": "Local", "webhook_url": "http://127.0.0.1:8001/hooks"},
                          format="json")
    assert response.status_code == 201


@pytest.mark.parametrize("body", [
    {"active": "no"}, {"active": 0}, {"webhook_url": 5}, {"webhook_url": ["http://x"]},
    {"name": ""},
])
def test_wrong_types_are_400s(admin, body):
    integration = IntegrationFactory()
    response = admin.patch(V1 + f"integrations/{integration.pk}/", body, format="json")
    assert response.status_code == 400 and response.json()["detail"]


def test_clearing_the_url_stops_new_events(admin, allow_private):
    bot = IntegrationFactory()
    admin.patch(V1 + f"integrations/{bot.pk}/", {"webhook_url": "http://127.0.0.1:8001/"},
                format="json")
    arrive(team=TeamFactory(), actor=bot)
    response = admin.patch(V1 + f"integrations/{bot.pk}/", {"webhook_url": ""}, format="json")
    assert response.json()["webhook_status"] == "off"
    arrive(team=TeamFactory(), actor=bot)
    assert Delivery.objects.count() == 1


def _make_deliveries(bot, count):
    agent = AgentFactory()
    team = TeamFactory(agents=[agent])
    for _ in range(count):
        arrive(team=team, actor=bot)


def test_the_deliveries_list_is_bounded_newest_first_in_fixed_queries(
        admin, hooked, receiver):
    bot = hooked(receiver.url)
    receiver.script.statuses = [500]
    _make_deliveries(bot, 3)
    sending.run_deliveries(integration_id=bot.pk)
    path = V1 + f"integrations/{bot.pk}/deliveries"
    rows = admin.get(path).json()
    assert [r["conversation"] for r in rows] == sorted(
        (r["conversation"] for r in rows), reverse=True)
    oldest = rows[-1]
    assert set(oldest) == {"id", "type", "conversation", "status", "attempts", "last_error",
                           "next_attempt_at", "created_at", "delivered_at", "cursor"}
    assert (oldest["status"], oldest["attempts"], oldest["type"]) == (
        "failing", 1, "conversation.queued")
    assert oldest["last_error"].startswith("HTTP 500") and oldest["next_attempt_at"]
    assert {r["status"] for r in rows[:-1]} == {"delivered"}
    assert all(r["next_attempt_at"] is None and r["delivered_at"] for r in rows[:-1])

    def queries(url):
        with CaptureQueriesContext(connection) as captured:
            assert admin.get(url).status_code == 200
        return len(captured)

    few = queries(path)
    _make_deliveries(bot, 30)
    assert queries(path) == few
    assert len(admin.get(path + "?limit=5").json()) == 5
    assert len(admin.get(path).json()) == 33
    first_page = admin.get(path + "?limit=10").json()
    next_page = admin.get(path + f"?limit=10&before={first_page[-1]['cursor']}").json()
    assert next_page[0]["cursor"] < first_page[-1]["cursor"] and len(next_page) == 10
    failing = admin.get(path + "?status=failing").json()
    assert [r["id"] for r in failing] == [oldest["id"]]


@pytest.mark.parametrize("query", ["?limit=0", "?limit=201", "?limit=x", "?status=lost",
                                   "?before=-1"])
def test_bad_deliveries_filters_are_400s(admin, query):
    bot = IntegrationFactory()
    response = admin.get(V1 + f"integrations/{bot.pk}/deliveries{query}")
    assert response.status_code == 400 and response.json()["detail"]


def test_deliveries_of_an_unknown_integration_are_a_404(admin):
    response = admin.get(V1 + "integrations/999999/deliveries")
    assert response.status_code == 404 and response.json()["detail"]
