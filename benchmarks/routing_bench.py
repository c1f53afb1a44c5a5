"""Routing through the services on PostgreSQL: throughput, latency, queries per decision,
a 50-way claim storm, and a 10,000-conversation backlog drained by 200 agents coming online.

Workers are separate processes (the GIL would serialize threads), each with its own
connection, routing conversations into a ``capacity`` team through the intake service.
"""

import multiprocessing as mp
import threading
import time


def _route_worker(worker, count, team_id, queue):
    """Runs in a forked process: Django is set up already; it opens its own connection."""
    from apps.conversations.services import receive_inbound_message
    from apps.teams.models import Team

    team = Team.objects.get(pk=team_id)
    latencies = []
    for i in range(count):
        start = time.perf_counter()
        receive_inbound_message(external_id=f"bench-{worker}-{i}", body="Olá", team=team)
        latencies.append(time.perf_counter() - start)
    queue.put(latencies)


def _result_of(queue, workers) -> list[float]:
    """The next worker's latencies; fails, instead of waiting for ever, once a worker
    died without sending them."""
    import queue as queues

    while True:
        try:
            return queue.get(timeout=1)
        except queues.Empty:
            failed = [w.exitcode for w in workers if w.exitcode not in (None, 0)]
            if failed:
                raise RuntimeError(f"a routing worker failed (exit codes {failed})") from None


def bench_routing(*, conversations: int, processes: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.accounts.models import Presence, User
    from apps.conversations.services import receive_inbound_message
    from apps.teams.models import DistributionMode, Membership, Team

    team = Team.objects.create(name="Bench capacity", distribution_mode=DistributionMode.CAPACITY)
    agents = User.objects.bulk_create(
        User(username=f"bench{i}", capacity=10_000, presence=Presence.ONLINE) for i in range(50)
    )
    Membership.objects.bulk_create(Membership(team=team, agent=a) for a in agents)

    # The routing decision's own queries: without the live inbox's flush, which runs after
    # the commit in a process with no server loop (it is in the throughput figures).
    from apps.core.announce import subscribe, unsubscribe
    from apps.inbox.realtime import on_announcement

    unsubscribe(on_announcement)
    try:
        with CaptureQueriesContext(connection) as captured:
            receive_inbound_message(external_id="bench-sample", body="Olá", team=team)
    finally:
        subscribe(on_announcement)
    queries = len(captured.captured_queries)
    connection.close()

    per_worker = conversations // processes
    queue = mp.get_context("fork").Queue()
    workers = [
        mp.get_context("fork").Process(
            target=_route_worker, args=(w, per_worker, team.pk, queue)
        )
        for w in range(processes)
    ]
    start = time.perf_counter()
    try:
        for w in workers:
            w.start()
        latencies = []
        for _ in workers:
            latencies += _result_of(queue, workers)
        for w in workers:
            w.join()
    finally:
        # Whatever stopped us (a time limit, a failed worker), no worker outlives the step.
        for w in workers:
            if w.is_alive():
                w.kill()
                w.join()
    elapsed = time.perf_counter() - start
    return {
        "count": len(latencies),
        "per_second": len(latencies) / elapsed,
        "latencies": latencies,
        "queries": queries,
    }


def bench_claim_storm(*, rounds: int = 5, claimers: int = 50) -> dict:
    from django.db import connection, connections

    from apps.accounts.models import Presence, User
    from apps.conversations.services import receive_inbound_message
    from apps.core.errors import DomainError
    from apps.routing.services import claim_conversation

    agents = User.objects.bulk_create(
        User(username=f"storm{i}", presence=Presence.ONLINE) for i in range(claimers)
    )
    storm_latencies, claim_latencies = [], []
    for round_ in range(rounds):
        conversation, _, _ = receive_inbound_message(external_id=f"storm-{round_}", body="?")
        barrier = threading.Barrier(claimers, timeout=60)  # a claimer that failed early
        results = []
        lock = threading.Lock()

        def claim(agent, conversation=conversation, barrier=barrier, results=results,
                  lock=lock):
            connection.ensure_connection()  # time the claim, not opening a connection
            barrier.wait()
            start = time.perf_counter()
            try:
                claim_conversation(conversation_id=conversation.pk, agent=agent)
                won = True
            except DomainError:
                won = False
            finally:
                connections.close_all()
            with lock:
                results.append((won, time.perf_counter() - start))

        threads = [threading.Thread(target=claim, args=(a,)) for a in agents]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        storm_latencies.append(time.perf_counter() - start)
        claim_latencies += [latency for _won, latency in results]
        assert sum(won for won, _ in results) == 1
    return {"storms": storm_latencies, "claims": claim_latencies}


def bench_backlog(*, conversations: int = 10_000, agents: int = 200) -> dict:
    """A capacity team's backlog drained as 200 agents come online one after another."""
    from django.db import connection

    from apps.accounts.models import Presence, User
    from apps.conversations.models import Conversation, Status
    from apps.routing.services import set_presence
    from apps.teams.models import DistributionMode, Membership, Team
    from tests.factories import queued_backlog

    team = Team.objects.create(name="Bench backlog", distribution_mode=DistributionMode.CAPACITY)
    people = User.objects.bulk_create(
        User(username=f"backlog{i}", capacity=conversations // agents, presence=Presence.OFFLINE)
        for i in range(agents)
    )
    Membership.objects.bulk_create(Membership(team=team, agent=a) for a in people)
    queued_backlog(team, conversations)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    start = time.perf_counter()
    for person in people:
        set_presence(agent=person, status=Presence.ONLINE)
    elapsed = time.perf_counter() - start
    assigned = Conversation.objects.filter(team=team, status=Status.ASSIGNED).count()
    return {"assigned": assigned, "seconds": elapsed, "per_second": assigned / elapsed}
