"""`POST /api/v1/inbound` in-process (issue 14): SQL statements per path, CPU milliseconds
of Python per request, and a pyinstrument profile of the whole Django stack (middleware,
DRF, authentication, routing, rendering), without a server or a socket in between.

Runs inside benchmarks/run.py (Django set up on the benchmark database):

    python benchmarks/inbound_bench.py --profile   # alone: prints the profile as text
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

REQUESTS = int(os.environ.get("BENCH_INBOUND_REQUESTS", "300"))


def _world(tag: str):
    from django.core.cache import cache

    from apps.accounts.models import IntegrationClient, Presence, User
    from apps.teams.models import DistributionMode, Membership, RoutingSettings, Team

    team = Team.objects.create(name=f"Inbound {tag} {time.time_ns()}",
                               distribution_mode=DistributionMode.CAPACITY)
    agents = User.objects.bulk_create(
        User(username=f"inb-{team.pk}-{i}", capacity=100_000, presence=Presence.ONLINE)
        for i in range(20)
    )
    Membership.objects.bulk_create(Membership(team=team, agent=a) for a in agents)
    settings = RoutingSettings.load()
    _previous.setdefault("default_team_id", settings.default_team_id)
    settings.default_team = team
    settings.save()
    token = IntegrationClient.new_token()
    client = IntegrationClient(name=f"inbound bench {tag}")
    client.set_token(token)
    client.save()
    cache.get("warm")  # the cache connection opened before measuring
    return token, team, agents


_previous: dict = {}


def restore_settings() -> None:
    """The default team as it was before this module's steps (the claim storm after them
    opens a conversation without naming a team and expects nobody to be assigned)."""
    from apps.teams.models import RoutingSettings

    if "default_team_id" in _previous:
        settings = RoutingSettings.load()
        settings.default_team_id = _previous.pop("default_team_id")
        settings.save()


def _client(token: str):
    from django.test import Client

    return Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST="127.0.0.1")


def _post(client, external_id: str, body: str = "Olá"):
    import json

    response = client.post(
        "/api/v1/inbound", json.dumps({"contact": {"external_id": external_id}, "body": body}),
        content_type="application/json",
    )
    if response.status_code not in (200, 201):
        raise RuntimeError(f"inbound answered {response.status_code}: {response.content[:200]}")
    return response


def statements_per_path() -> dict:
    """Statements of the routing decisions (the services, as the tests pin them) and of the
    whole inbound request (token, decision, webhook snapshot, answer)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.conversations.services import receive_inbound_message
    from apps.core.announce import subscribe, unsubscribe
    from apps.inbox.realtime import on_announcement

    token, team, agents = _world("statements")
    client = _client(token)
    _post(client, f"warm-{team.pk}")
    counts = {}
    with CaptureQueriesContext(connection) as captured:
        receive_inbound_message(external_id=f"s0-{team.pk}", body="Olá")
    with_push = len(captured)
    # The decisions' own statements: without the live inbox's reads, which a process with
    # no server loop makes right after the commit (a server coalesces them on its loop).
    unsubscribe(on_announcement)
    try:
        _count_paths(client, team, agents, counts)
    finally:
        subscribe(on_announcement)
    counts["live inbox reads after a new conversation's commit (no server loop)"] = (
        with_push - counts["new conversation (service)"]
    )
    return counts


def _count_paths(client, team, agents, counts) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.conversations.services import receive_inbound_message
    from apps.routing.services import claim_conversation

    def count(name, action):
        with CaptureQueriesContext(connection) as captured:
            result = action()
        counts[name] = len(captured)
        return result

    count("new conversation (service)",
          lambda: receive_inbound_message(external_id=f"s1-{team.pk}", body="Olá"))
    count("appended message (service)",
          lambda: receive_inbound_message(external_id=f"s1-{team.pk}", body="Mais"))
    count("new conversation (HTTP)", lambda: _post(client, f"h1-{team.pk}"))
    count("appended message (HTTP)", lambda: _post(client, f"h1-{team.pk}", "Mais"))
    from apps.accounts.models import User
    from apps.teams.models import DistributionMode

    team.distribution_mode = DistributionMode.MANUAL
    team.save()  # a queued conversation to claim
    waiting, _m, _c = receive_inbound_message(external_id=f"claim-{team.pk}", body="?")
    agent = User.objects.get(pk=agents[0].pk)
    count("claim (service)",
          lambda: claim_conversation(conversation_id=waiting.pk, agent=agent))


def cpu_per_request(requests: int = REQUESTS) -> dict:
    """Wall and CPU time of this process per inbound request (new conversations, each
    routed and assigned), through the whole Django stack in-process. CPU excludes
    PostgreSQL's and Redis's own work (other processes)."""
    token, team, _agents = _world("cpu")
    client = _client(token)
    for i in range(20):  # warm: imports, caches, the configuration snapshot
        _post(client, f"cpu-warm-{team.pk}-{i}")
    from apps.core.announce import subscribe, unsubscribe
    from apps.inbox.realtime import on_announcement

    def run(tag: str) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        for i in range(requests):
            _post(client, f"cpu-{tag}-{team.pk}-{i}")
        return ((time.perf_counter() - wall) * 1000 / requests,
                (time.process_time() - cpu) * 1000 / requests)

    wall, cpu = run("with-push")
    unsubscribe(on_announcement)  # the request alone, without the live inbox's flush
    try:
        own_wall, own_cpu = run("own")
    finally:
        subscribe(on_announcement)
    return {"requests": requests, "wall_ms": wall, "cpu_ms": cpu,
            "own_wall_ms": own_wall, "own_cpu_ms": own_cpu}


def profile(requests: int = 100) -> str:
    """A pyinstrument profile (text, wall time) of ``requests`` inbound requests in-process,
    without the live inbox's flush."""
    from pyinstrument import Profiler

    token, team, _agents = _world("profile")
    client = _client(token)
    for i in range(20):
        _post(client, f"prof-warm-{team.pk}-{i}")
    from apps.core.announce import subscribe, unsubscribe
    from apps.inbox.realtime import on_announcement

    profiler = Profiler(interval=0.0005)
    unsubscribe(on_announcement)  # a server flushes the live inbox on its loop, not here
    try:
        profiler.start()
        for i in range(requests):
            _post(client, f"prof-{team.pk}-{i}")
        profiler.stop()
    finally:
        subscribe(on_announcement)
    return profiler.output_text(unicode=True, color=False, show_all=False)


if __name__ == "__main__":
    from benchmarks import common

    url = common.database_url()
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")
    if "--keep-db" not in sys.argv:
        common.fresh_database(url)
    common.setup_django(url)
    print(statements_per_path())
    print(cpu_per_request())
    if "--profile" in sys.argv:
        print(profile())
