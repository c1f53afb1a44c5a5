"""Time rules at scale (docs/time-rules.md):

1. 1,000 deadlines falling due in the same second, acted on by one real Celery worker
   (concurrency 1, Redis broker) woken by the countdown the services arm: lateness from the
   deadline to the history event that acted on it, for reservations that end and for
   first replies not given in time.
2. One sweep over 100,000 open conversations of which 1% are due: the database time of
   every query the sweep's time rules run (each SELECT is EXPLAIN ANALYZEd just before it
   runs; writes are timed round trip), and the sweep's wall time.

Needs PostgreSQL (Django set up on the benchmark database) and Redis (REDIS_URL).
"""

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import timedelta

from benchmarks.common import ROOT, percentile


def _start_worker(url: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "CELERY_VISIBILITY_TIMEOUT": "3600"}
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency=1",
         "--loglevel=WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _wait_for_worker(app, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if app.control.ping(timeout=0.5):
            return True
    return False


def _stop(worker: subprocess.Popen) -> None:
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def _people(prefix: str, count: int, *, capacity: int, load: int = 0):
    from apps.accounts.models import Presence, User

    return User.objects.bulk_create(
        User(username=f"{prefix}{i}", capacity=capacity, open_count=load,
             presence=Presence.ONLINE)
        for i in range(count)
    )


def _team(name: str, agents, **fields):
    from apps.teams.models import DistributionMode, Membership, Team

    team = Team.objects.create(name=name, distribution_mode=DistributionMode.CAPACITY, **fields)
    Membership.objects.bulk_create(Membership(team=team, agent=a) for a in agents)
    return team


def _contacts(prefix: str, count: int):
    from apps.organizations.models import Contact

    return Contact.objects.bulk_create(
        Contact(external_id=f"{prefix}-{i}", name=f"Client {i}") for i in range(count)
    )


def bench_lateness(*, url: str, kind: str, count: int = 1000, lead_seconds: float = 3) -> dict:
    """``count`` deadlines of ``kind`` (reservation or reply) all due at one moment."""
    from django.db import connection
    from django.utils import timezone

    from apps.conversations.models import Conversation, ConversationEvent, EventKind, Status
    from apps.organizations.models import RuleType
    from apps.routing.services.time_rules import DeadlineKind, wake_at
    from config.celery import app

    now = timezone.now()
    later = now + timedelta(days=1)  # set for real once the worker is ready
    tag = f"late-{kind}"
    contacts = _contacts(tag, count)
    if kind == DeadlineKind.RESERVATION:
        (busy,) = _people(f"{tag}-busy", 1, capacity=0)
        team = _team(f"Bench {tag}", _people(f"{tag}-a", 20, capacity=100))
        Conversation.objects.bulk_create(
            Conversation(contact=c, team=team, status=Status.RESERVED, preferred_agent=busy,
                         preferred_type=RuleType.AUTO, queued_at=now, last_activity_at=now,
                         reserved_until=later)
            for c in contacts
        )
        acted = EventKind.RELEASED
    else:
        holders = _people(f"{tag}-h", 20, capacity=count // 20, load=count // 20)
        others = _people(f"{tag}-o", 20, capacity=100)
        team = _team(f"Bench {tag}", [*holders, *others], first_reply_seconds=60)
        Conversation.objects.bulk_create(
            Conversation(contact=c, team=team, status=Status.ASSIGNED,
                         assignee=holders[i % 20], auto_assigned=True, queued_at=now,
                         assigned_at=now - timedelta(seconds=60), last_activity_at=now,
                         reply_due_at=later)
            for i, c in enumerate(contacts)
        )
        acted = EventKind.HANDED_OVER
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    connection.close()

    with app.connection_for_write() as conn:
        conn.default_channel.client.flushdb()
    worker = _start_worker(url)
    try:
        if not _wait_for_worker(app):
            return {"error": "the worker did not start"}
        due = timezone.now() + timedelta(seconds=lead_seconds)
        column = "reserved_until" if kind == DeadlineKind.RESERVATION else "reply_due_at"
        Conversation.objects.filter(team=team).update(**{column: due})
        app.conf.task_always_eager = False
        try:
            wake_at(kind, due)  # what the services arm after the commit that sets a deadline
        finally:
            app.conf.task_always_eager = True
        limit = time.monotonic() + lead_seconds + 60
        while time.monotonic() < limit:
            done = ConversationEvent.objects.filter(
                conversation__team=team, kind=acted
            ).count()
            if done >= count:
                break
            time.sleep(0.2)
    finally:
        _stop(worker)
    if kind == DeadlineKind.REPLY:  # the new assignees' clocks: not for the next benchmark
        from apps.routing.services import first_reply_rule_off

        team.first_reply_seconds = None
        team.save(update_fields=["first_reply_seconds"])
        first_reply_rule_off(team_id=team.pk)
    lateness = [
        (at - due).total_seconds()
        for at in ConversationEvent.objects.filter(conversation__team=team, kind=acted)
        .values_list("at", flat=True)
    ]
    return {"count": count, "acted": len(lateness), "lateness": lateness,
            "p50": percentile(lateness, 50), "p95": percentile(lateness, 95),
            "max": max(lateness, default=float("nan"))}


def _kinds(writes) -> dict:
    kinds: dict[str, list] = {}
    for ms, sql in writes:
        words = sql.split()
        key = " ".join(words[:3]) if words else "?"
        kinds.setdefault(key, [0, 0.0])
        kinds[key][0] += 1
        kinds[key][1] += ms
    return {k: (n, round(ms)) for k, (n, ms) in sorted(kinds.items(), key=lambda kv: -kv[1][1])}


@contextmanager
def _explained(selects: list, writes: list):
    """Run each SELECT once under EXPLAIN ANALYZE (its execution time) just before it runs
    for real; time each write's round trip."""
    from django.db import connection

    def wrapper(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("SELECT") and not many:
            with connection.connection.cursor() as cursor:  # the driver's: not wrapped again
                cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
                plan = cursor.fetchone()[0]
                plan = plan[0] if isinstance(plan, list) else plan
            selects.append((plan["Execution Time"], plan.get("Planning Time", 0.0), sql))
            return execute(sql, params, many, context)
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            writes.append(((time.perf_counter() - start) * 1000, sql))

    with connection.execute_wrapper(wrapper):
        yield


def bench_sweep_cost(*, open_conversations: int = 100_000, due_share: float = 0.01) -> dict:
    """One sweep of the time rules over ``open_conversations`` with ``due_share`` due."""
    from django.db import connection
    from django.utils import timezone

    from apps.accounts.models import Presence, User
    from apps.conversations.models import Conversation, Status
    from apps.organizations.models import RuleType
    from apps.routing.services import sweep_deadlines

    now = timezone.now()
    teams, agents = [], []
    per_team_agents, team_count = 25, 20
    due_total = int(open_conversations * due_share)
    assigned_total = int(open_conversations * 0.6)
    reserved_total = int(open_conversations * 0.05)
    queued_total = open_conversations - assigned_total - reserved_total
    load = assigned_total // (per_team_agents * team_count)
    for t in range(team_count):
        people = _people(f"sw{t}-", per_team_agents, capacity=load, load=load)
        agents += people
        teams.append(_team(f"Sweep {t}", people, first_reply_seconds=300,
                           offline_requeue_seconds=600))
    (busy,) = _people("sw-busy", 1, capacity=0)
    # Who is due: reservations, unanswered assignments and an offline agent's conversations.
    reservations_due = due_total // 2
    offline_due = load  # one offline agent's conversations
    replies_due = due_total - reservations_due - offline_due
    offline_agent = agents[0]
    User.objects.filter(pk=offline_agent.pk).update(
        presence=Presence.OFFLINE, offline_since=now - timedelta(hours=1)
    )
    contacts = _contacts("sweep", open_conversations)
    rows, n = [], 0
    for i in range(assigned_total):
        agent = agents[i % len(agents)]
        team = teams[(i % len(agents)) // per_team_agents]
        reply_due = (now - timedelta(seconds=5) if agent.pk != offline_agent.pk
                     and n < replies_due else now + timedelta(seconds=200))
        if agent.pk != offline_agent.pk and n < replies_due:
            n += 1
        rows.append(Conversation(
            contact=contacts[i], team=team, status=Status.ASSIGNED, assignee=agent,
            auto_assigned=True, queued_at=now - timedelta(minutes=10),
            assigned_at=now - timedelta(minutes=5), last_activity_at=now,
            reply_due_at=reply_due,
        ))
    for j in range(reserved_total):
        rows.append(Conversation(
            contact=contacts[assigned_total + j], team=teams[j % team_count],
            status=Status.RESERVED, preferred_agent=busy, preferred_type=RuleType.AUTO,
            queued_at=now - timedelta(minutes=10), last_activity_at=now,
            reserved_until=now - timedelta(seconds=5) if j < reservations_due
            else now + timedelta(seconds=240),
        ))
    for k in range(queued_total):
        rows.append(Conversation(
            contact=contacts[assigned_total + reserved_total + k], team=teams[k % team_count],
            status=Status.QUEUED, queued_at=now - timedelta(minutes=k % 60),
            last_activity_at=now,
        ))
    Conversation.objects.bulk_create(rows, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    due_now = (
        Conversation.objects.filter(status=Status.RESERVED, reserved_until__lte=now).count()
        + Conversation.objects.filter(status=Status.ASSIGNED, reply_due_at__lte=now).count()
        + Conversation.objects.filter(status=Status.ASSIGNED, assignee=offline_agent).count()
    )
    selects, writes = [], []
    # What the sweep enqueues for after its commits (distribution for agents who got room)
    # goes to the broker, as in production, and is not part of the sweep's cost.
    from config.celery import app

    app.conf.task_always_eager = False
    start = time.perf_counter()
    try:
        with _explained(selects, writes):
            moved = sweep_deadlines()
    finally:
        app.conf.task_always_eager = True
        with app.connection_for_write() as conn:
            conn.default_channel.client.flushdb()
    wall = time.perf_counter() - start
    # Finding due rows (and the next deadline) is what a table of 100,000 open
    # conversations could make slow; the rest acts on the due rows themselves.
    marks = ('"reserved_until"', '"reply_due_at"', '"offline_since"')

    def finds(sql: str) -> bool:
        return any(m in sql.split(" WHERE ", 1)[-1] for m in marks)

    finding = [q for q in selects if finds(q[2])]
    acting = [q for q in selects if not finds(q[2])]
    return {
        "open": open_conversations, "due": due_now, "moved": moved, "wall_seconds": wall,
        "find_ms": sum(q[0] for q in finding), "find_queries": len(finding),
        "find_max_ms": max((q[0] for q in finding), default=0.0),
        "act_select_ms": sum(q[0] for q in acting), "act_select_queries": len(acting),
        "write_ms": sum(w[0] for w in writes), "write_queries": len(writes),
        "slowest": sorted(selects, reverse=True)[:3],
        "slowest_writes": sorted(writes, reverse=True)[:8],
        "write_kinds": _kinds(writes),
    }
