"""/metrics (api.md "Operations"): Prometheus text computed from the shared state, in a
constant number of queries, open unless METRICS_TOKEN is set."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from apps.accounts.models import Presence
from apps.conversations.models import Conversation
from apps.inbox import presence
from apps.routing import services
from apps.teams.models import DistributionMode
from tests.factories import AgentFactory, TeamFactory, UserFactory
from tests.helpers import arrive

pytestmark = pytest.mark.django_db


def scrape(client=None, **headers) -> dict:
    """{(name, labels as a sorted tuple): value} of one scrape."""
    response = (client or Client()).get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_an_empty_deployment_has_every_metric_at_zero():
    samples = scrape()
    assert samples[("atende_conversations", (("status", "waiting"), ("team", "")))] == 0
    assert samples[("atende_agents", (("presence", "online"),))] == 0
    assert samples[("atende_assignment_wait_seconds_count", ())] == 0
    assert samples[("atende_routing_decisions_total", (("outcome", "assigned"),))] == 0
    assert samples[("atende_websocket_connections", ())] == 0
    assert samples[("atende_last_sweep_timestamp_seconds", ())] == 0


def test_the_figures_follow_the_floor(django_capture_on_commit_callbacks):
    ana = UserFactory(name="Ana", capacity=1)  # offline
    bia = AgentFactory(name="Bia")
    UserFactory(presence=Presence.AWAY)
    UserFactory(presence=Presence.ONLINE, is_active=False)  # not counted
    support = TeamFactory(name="Support", distribution_mode=DistributionMode.CAPACITY,
                          agents=[ana])
    sales = TeamFactory(name="Sales", agents=[bia])
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        for _ in range(3):
            arrive(team=support)
        arrive()  # Waiting
        claimed = arrive(team=sales)
        traveller.move_to(start + timedelta(seconds=20))
        services.claim_conversation(conversation_id=claimed.pk, agent=bia)
        traveller.move_to(start + timedelta(seconds=400))
        with django_capture_on_commit_callbacks(execute=True):  # distribution, after commit
            services.set_presence(agent=ana, status=Presence.ONLINE)  # takes one (capacity 1)
        services.record_sweep_run()
    samples = scrape()

    def conversations(status, team):
        return samples[("atende_conversations", (("status", status), ("team", team)))]

    assert conversations("queued", "Support") == 2
    assert conversations("assigned", "Support") == 1
    assert conversations("assigned", "Sales") == 1
    assert conversations("queued", "Sales") == 0
    assert conversations("waiting", "") == 1
    assert samples[("atende_agents", (("presence", "online"),))] == 2
    assert samples[("atende_agents", (("presence", "away"),))] == 1
    assert samples[("atende_agents", (("presence", "offline"),))] == 0

    # Waits: 20 s (claimed) and 400 s (distributed when Ana came online).
    def bucket(le):
        return samples[("atende_assignment_wait_seconds_bucket", (("le", le),))]

    assert bucket("15.0") == 0
    assert bucket("30.0") == 1
    assert bucket("300.0") == 1
    assert bucket("600.0") == 2
    assert bucket("+Inf") == 2
    assert samples[("atende_assignment_wait_seconds_count", ())] == 2
    assert samples[("atende_assignment_wait_seconds_sum", ())] == pytest.approx(420)

    decisions = {
        dict(labels)["outcome"]: value for (name, labels), value in samples.items()
        if name == "atende_routing_decisions_total"
    }
    assert decisions["queued"] == 4  # three into Support, one into Sales
    assert decisions["waiting"] == 1
    assert decisions["claimed"] == 1
    assert decisions["assigned"] == 1
    assert samples[("atende_last_sweep_timestamp_seconds", ())] == pytest.approx(
        (start + timedelta(seconds=400)).timestamp()
    )
    assert Conversation.objects.count() == 5


def test_websocket_connections_count_every_open_socket():
    first, second = AgentFactory(), AgentFactory()
    presence.register(first.pk, "channel-a")
    presence.register(first.pk, "channel-b")
    presence.register(second.pk, "channel-c")
    assert scrape()[("atende_websocket_connections", ())] == 3
    presence.unregister(first.pk, "channel-a")
    assert scrape()[("atende_websocket_connections", ())] == 2


def test_websocket_connections_of_a_dead_process_expire(settings):
    agent = AgentFactory()
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        presence.register(agent.pk, "channel-of-a-process-that-died")
        traveller.move_to(start + timedelta(seconds=settings.PRESENCE_TIMEOUT + 1))
        assert scrape()[("atende_websocket_connections", ())] == 0


def test_a_scrape_costs_the_same_queries_whatever_the_floor(django_assert_num_queries):
    teams = [TeamFactory(agents=[AgentFactory()]) for _ in range(3)]
    for team in teams:
        arrive(team=team)
    with django_assert_num_queries(6):
        scrape()
    teams += [TeamFactory(agents=[AgentFactory(), AgentFactory()]) for _ in range(5)]
    for team in teams:
        arrive(team=team)
        arrive()
    with django_assert_num_queries(6):
        samples = scrape()
    assert samples[("atende_conversations", (("status", "waiting"), ("team", "")))] == 8


def test_with_a_metrics_token_only_its_bearer_scrapes(settings):
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    refused = Client().get("/metrics")
    assert refused.status_code == 401
    assert refused.json()["detail"]
    assert refused["WWW-Authenticate"].startswith("Bearer")
    wrong = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 401
    assert scrape(HTTP_AUTHORIZATION="Bearer s3cret-metrics-token")
