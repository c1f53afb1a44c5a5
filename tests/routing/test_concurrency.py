"""routing.md section 7 under real concurrency: threads with their own PostgreSQL connections."""

import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from apps.accounts.models import Presence, User
from apps.conversations.models import Conversation, Status
from apps.conversations.services import receive_inbound_message
from apps.core.errors import DomainError
from apps.routing.errors import ConversationAlreadyTaken
from apps.routing.invariants import check_invariants
from apps.routing.services import (
    claim_conversation,
    close_conversation,
    distribute_team_backlog,
    set_presence,
    sweep_routing,
    transfer_conversation,
)
from apps.teams.models import DistributionMode
from tests.factories import AgentFactory, SupervisorFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def run_at_once(jobs, *, workers=None):
    """Run callables in threads that start together; each thread has its own connection."""
    workers = workers or len(jobs)
    go = threading.Event()

    def wrap(job):
        def run():
            try:
                go.wait(timeout=30)
                return ("ok", job())
            except DomainError as error:
                return ("refused", error)
            finally:
                connections.close_all()

        return run

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(wrap(job)) for job in jobs]
        go.set()
        return [f.result() for f in futures]


def test_fifty_agents_claiming_one_conversation_have_exactly_one_winner():
    assert connection.vendor == "postgresql"
    agents = [AgentFactory() for _ in range(50)]
    conversation, _, _ = receive_inbound_message(external_id="race", body="quem atende?")

    results = run_at_once(
        [lambda a=a: claim_conversation(conversation_id=conversation.pk, agent=a) for a in agents]
    )

    winners = [value for outcome, value in results if outcome == "ok"]
    losers = [value for outcome, value in results if outcome == "refused"]
    assert len(winners) == 1 and len(losers) == 49
    winner = winners[0].assignee
    assert all(isinstance(e, ConversationAlreadyTaken) for e in losers)
    assert {e.assignee["id"] for e in losers} == {winner.pk}
    conversation.refresh_from_db()
    assert conversation.assignee == winner
    assert sum(User.objects.values_list("open_count", flat=True)) == 1
    assert conversation.events.filter(kind="claimed").count() == 1
    assert check_invariants() == []


def test_two_hundred_arrivals_at_once_never_exceed_a_limit():
    agents = [AgentFactory(capacity=5) for _ in range(10)]
    team = TeamFactory(distribution_mode=DistributionMode.CAPACITY, agents=agents)

    results = run_at_once(
        [
            lambda i=i: receive_inbound_message(external_id=f"c{i}", body="oi", team=team)
            for i in range(200)
        ],
        workers=40,
    )

    assert [outcome for outcome, _ in results] == ["ok"] * 200
    statuses = Counter(Conversation.objects.values_list("status", flat=True))
    assert statuses == {Status.ASSIGNED: 50, Status.QUEUED: 150}
    loads = dict(User.objects.filter(pk__in=[a.pk for a in agents]).values_list("pk", "open_count"))
    assert set(loads.values()) == {5}
    assert check_invariants() == []


def test_same_contact_writing_many_times_at_once_opens_one_conversation():
    results = run_at_once(
        [
            lambda i=i: receive_inbound_message(external_id="same", body=f"msg {i}")
            for i in range(20)
        ]
    )
    assert [outcome for outcome, _ in results] == ["ok"] * 20
    assert Conversation.objects.count() == 1
    assert Conversation.objects.get().messages.count() == 20


def test_closes_transfers_claims_and_distribution_at_once_lose_nothing():
    rng = random.Random(7)
    agents = [AgentFactory(capacity=3) for _ in range(8)]
    late = [UserFactory(capacity=3) for _ in range(4)]  # come online during the storm
    supervisor = SupervisorFactory()
    capacity = TeamFactory(distribution_mode=DistributionMode.CAPACITY, agents=agents + late)
    manual = TeamFactory(distribution_mode=DistributionMode.MANUAL, agents=agents)
    for i in range(120):
        receive_inbound_message(
            external_id=f"m{i}", body="oi", team=capacity if i % 3 else manual
        )
    total = Conversation.objects.count()
    assigned = list(
        Conversation.objects.filter(status=Status.ASSIGNED).values_list("pk", "assignee_id")
    )
    queued_manual = list(
        Conversation.objects.filter(team=manual, status=Status.QUEUED).values_list("pk", flat=True)
    )
    by_id = {a.pk: a for a in agents}

    jobs = []
    for pk, agent_id in assigned:
        if rng.random() < 0.5:
            jobs.append(lambda pk=pk, a=by_id[agent_id]: close_conversation(
                conversation_id=pk, actor=a))
        else:
            jobs.append(lambda pk=pk: transfer_conversation(
                conversation_id=pk, team_id=manual.pk, actor=supervisor))
    for pk in queued_manual:
        for agent in rng.sample(agents, 3):
            jobs.append(lambda pk=pk, a=agent: claim_conversation(conversation_id=pk, agent=a))
    for _ in range(10):
        jobs.append(lambda: distribute_team_backlog(team_id=capacity.pk))
    for agent in late:
        jobs.append(lambda a=agent: set_presence(agent=a, status=Presence.ONLINE))
    rng.shuffle(jobs)

    results = run_at_once(jobs, workers=16)

    unexpected = [v for outcome, v in results if outcome == "refused"
                  and not isinstance(v, ConversationAlreadyTaken)]
    assert unexpected == []
    sweep_routing()  # the periodic safety net settles anything a lost race left queued
    assert Conversation.objects.count() == total
    assert check_invariants() == []
