"""The documented deployment, scaled out (issue 13): two ASGI servers, two Celery workers
and one beat, started with the Procfile's commands on PostgreSQL and Redis. A flow through
both servers (inbound on one, a claim on the other, websocket clients on both, an agent
coming online whose backlog a worker distributes) keeps the routing invariants; both
sockets see the same counts, and both servers' /metrics and /readyz tell the same story.

It needs the production services (CI sets DATABASE_URL and REDIS_URL); every wait is
bounded and every process it starts is stopped, however the test ends.
"""

import contextlib
import json
import re
import time

import httpx
import pytest
from django.conf import settings
from prometheus_client.parser import text_string_to_metric_families
from websockets.sync.client import connect

from apps.accounts.models import User
from apps.conversations.models import ActorKind, Conversation, ConversationEvent, Status
from apps.routing.invariants import check_invariants
from apps.teams.models import DistributionMode
from config.celery import app as celery_app
from tests.factories import (
    AgentFactory,
    IntegrationFactory,
    SupervisorFactory,
    TeamFactory,
    UserFactory,
)
from tests.helpers import wait_until
from tests.inbox.helpers import token_for
from tests.inbox.servers import server_env
from tests.inbox.test_multiprocess import database_url, wait_for
from tests.operations import procfile

pytestmark = [
    pytest.mark.postgres, pytest.mark.worker, pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(300),
]
SWEEP_SECONDS = 2
# uvicorn's supervisor of several workers never loads the application (nor its settings):
# its own lines, about starting and stopping its children, stay in uvicorn's text format.
SUPERVISOR_LINE = re.compile(
    r"^INFO: +(Uvicorn running on|Started parent process|Received SIGTERM|Terminated child"
    r" process|Waiting for child process|Stopping parent process)"
)


@pytest.fixture
def production_services():
    if not settings.REDIS_URL:
        pytest.skip("needs PostgreSQL and Redis: the deployment's processes share them "
                    "(CI sets DATABASE_URL and REDIS_URL)")
    with celery_app.connection_for_write() as conn:
        conn.default_channel.client.flushdb()  # no task or socket left from another run



def ready(server: str) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(f"http://{server}/readyz", timeout=5).status_code == 200
    return False


def scrape(server: str) -> dict:
    response = httpx.get(f"http://{server}/metrics", timeout=30)
    assert response.status_code == 200, response.text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def inbound(server: str, bot, external_id: str, team) -> int:
    response = httpx.post(
        f"http://{server}/api/v1/inbound",
        json={"contact": {"external_id": external_id, "name": external_id}, "body": "Oi",
              "team": team.pk},
        headers={"Authorization": f"Token {bot.raw_token}"}, timeout=30,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def counts_are(teams: dict[str, int], **mine):
    """A predicate: a queue.counts event with these queued counts per team name (and these
    other counts, e.g. mine=1)."""
    def matches(event):
        if event["type"] != "queue.counts":
            return False
        counts = event["counts"]
        queued = {team["name"]: team["queued"] for team in counts["teams"]}
        return all(queued.get(name) == n for name, n in teams.items()) and all(
            counts[key] == value for key, value in mine.items()
        )
    return matches


def json_lines(path) -> list[dict]:
    lines = []
    for line in path.read_text().splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if isinstance(record, dict):
                lines.append(record)
    return lines


def test_two_servers_two_workers_one_beat(production_services, tmp_path):
    sofia = SupervisorFactory(name="Sofia")
    bob = AgentFactory(name="Bob")
    carla = UserFactory(name="Carla", capacity=2)  # offline until her inbox opens
    sales = TeamFactory(name="Sales", agents=[bob])  # manual claim
    support = TeamFactory(name="Support", distribution_mode=DistributionMode.CAPACITY,
                          agents=[carla])
    bot = IntegrationFactory()
    tokens = {person.pk: token_for(person) for person in (sofia, bob, carla)}
    env = server_env(
        DATABASE_URL=database_url(), REDIS_URL=settings.REDIS_URL,
        DISTRIBUTION_SWEEP_SECONDS=SWEEP_SECONDS, COUNTS_COALESCE_SECONDS="0.1",
        PRESENCE_GRACE_SECONDS="1", LOG_FORMAT="json", LOG_LEVEL="INFO",
        PRESENCE_TIMEOUT="600",  # a slow machine's run never sees a socket's presence expire
        WEB_CONCURRENCY=1, CELERY_CONCURRENCY=1,
        CELERY_BEAT_SCHEDULE_FILE=tmp_path / "celerybeat-schedule",
    )
    started = time.time()

    with contextlib.ExitStack() as stack:
        # Server A runs two uvicorn workers on its port (WEB_CONCURRENCY), as documented.
        a = stack.enter_context(
            procfile.web({**env, "WEB_CONCURRENCY": "2"}, tmp_path / "web-a.log")
        )
        b = stack.enter_context(procfile.web(env, tmp_path / "web-b.log"))
        workers = [
            stack.enter_context(procfile.run(
                "worker", {**env, "CELERY_WORKER_NAME": f"worker{n}"},
                tmp_path / f"worker-{n}.log",
            ))
            for n in (1, 2)
        ]
        beat = stack.enter_context(procfile.run("beat", env, tmp_path / "beat.log"))

        # Ready: both servers answer, and beat's sweep ran on a worker.
        wait_until(lambda: ready(a) and ready(b), within=90, what="both servers ready")
        assert all(p.poll() is None for p in (*workers, beat))

        def socket_on(server, person):
            return stack.enter_context(connect(
                f"ws://{server}/ws/inbox/?token={tokens[person.pk]}", open_timeout=30,
            ))

        supervisor_ws = socket_on(a, sofia)
        wait_for(supervisor_ws, counts_are({"Sales": 0, "Support": 0}))
        bob_ws = socket_on(b, bob)
        wait_for(bob_ws, counts_are({"Sales": 0}))

        # A channel writes in through server A: both sockets see the queues fill.
        backlog = [inbound(a, bot, f"scale-{n}", support) for n in range(3)]
        for_sales = inbound(a, bot, "scale-sales", sales)
        wait_for(supervisor_ws, counts_are({"Sales": 1, "Support": 3}))
        wait_for(bob_ws, counts_are({"Sales": 1}))

        # Bob claims through server B: the supervisor on A sees it taken.
        claim = httpx.post(
            f"http://{b}/api/v1/conversations/{for_sales}/claim",
            headers={"Authorization": f"Token {tokens[bob.pk]}"}, timeout=30,
        )
        assert claim.status_code == 200, claim.text
        taken = wait_for(supervisor_ws, lambda e: e["type"] == "conversation.updated"
                         and e["conversation"]["id"] == for_sales
                         and e["conversation"]["status"] == "assigned")
        assert taken["conversation"]["assignee"] == bob.pk
        wait_for(bob_ws, counts_are({"Sales": 0}, mine=1))

        # Carla opens her inbox on server B: online, and a worker hands her two of the three.
        carla_ws = socket_on(b, carla)
        wait_for(carla_ws, counts_are({"Support": 1}, mine=2))
        wait_for(supervisor_ws, counts_are({"Sales": 0, "Support": 1}))

        # Both servers' metrics read the same shared state.
        def conversations(samples, status, team):
            return samples[("atende_conversations", (("status", status), ("team", team)))]

        seen = [scrape(a), scrape(b)]
        for samples in seen:
            assert conversations(samples, "queued", "Support") == 1
            assert conversations(samples, "assigned", "Support") == 2
            assert conversations(samples, "assigned", "Sales") == 1
            assert samples[("atende_websocket_connections", ())] == 3
            assert samples[("atende_agents", (("presence", "online"),))] == 2  # Bob, Carla
            assert samples[("atende_assignment_wait_seconds_count", ())] == 3
            assert samples[("atende_routing_decisions_total", (("outcome", "claimed"),))] == 1
            assert samples[("atende_last_sweep_timestamp_seconds", ())] >= started
        assert all(p.poll() is None for p in (*workers, beat))

    # Every process stopped; what they did holds together.
    assert check_invariants() == []
    mine = list(Conversation.objects.filter(assignee=carla).values_list("pk", flat=True))
    assert len(mine) == 2 and set(mine) <= set(backlog)
    assert Conversation.objects.filter(status=Status.QUEUED, team=support).count() == 1
    assert User.objects.get(pk=carla.pk).open_count == 2
    assert set(
        ConversationEvent.objects.filter(conversation_id__in=mine, to_assignee=carla)
        .values_list("actor_kind", flat=True)
    ) == {ActorKind.DISTRIBUTION}

    # JSON logs: the servers write nothing else (but the few lines of uvicorn's supervisor
    # of A's two workers, which never loads the settings); each decision names its ids, and
    # Carla's assignments were logged by a worker.
    for name in ("web-a.log", "web-b.log"):
        lines = (tmp_path / name).read_text().strip().splitlines()
        text = [line for line in lines if not line.startswith("{")]
        assert all(SUPERVISOR_LINE.match(line) for line in text), (name, text)
        assert len(json_lines(tmp_path / name)) == len(lines) - len(text) > 0, name
    decisions = [
        record for name in ("web-a.log", "web-b.log")
        for record in json_lines(tmp_path / name) if record.get("event") == "routing.decision"
    ]
    assert {"kind": "claimed", "conversation_id": for_sales, "agent_id": bob.pk}.items() <= next(
        r for r in decisions if r["kind"] == "claimed"
    ).items()
    by_workers = {
        record["conversation_id"]
        for n in (1, 2) for record in json_lines(tmp_path / f"worker-{n}.log")
        if record.get("event") == "routing.decision" and record.get("agent_id") == carla.pk
    }
    assert by_workers == set(mine)
    accepted = [
        record["message"] for name in ("web-a.log", "web-b.log")
        for record in json_lines(tmp_path / name) if "[accepted]" in record["message"]
    ]
    assert len(accepted) == 3 and all("?token=[redacted]" in m for m in accepted)
    logged = "".join((tmp_path / name).read_text() for name in ("web-a.log", "web-b.log"))
    assert not any(token in logged for token in tokens.values())
