"""Trust (routing.md 10.6): a period recorded by the live engine (this test drives it:
arrivals, agents coming and going, customers giving up, agents closing what they finish)
replayed from Atende's own history (conversations and the history of people) with its
real configuration reproduces each team's served count and median wait. Tolerances
(docs/simulation.md): served within 2% (and 1), median wait within 10% (and 2 s)."""

import heapq
import random
from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import Presence
from apps.conversations.models import Conversation, Status
from apps.reports.percentiles import percentile
from apps.routing.services import close_conversation, set_presence
from apps.teams.models import DistributionMode
from tests.factories import AgentFactory, SupervisorFactory, TeamFactory
from tests.helpers import arrive

pytestmark = pytest.mark.django_db

DAY = datetime(2026, 3, 3).date()
HOURS = 2


def recorded_day(committed):
    zone = timezone.get_current_timezone()
    base = datetime.combine(DAY, datetime.min.time(), tzinfo=zone) + timedelta(hours=9)
    rng = random.Random(5)
    people = [AgentFactory(name=f"P{n}", capacity=2, presence=Presence.OFFLINE)
              for n in range(5)]
    teams = {
        "cap": TeamFactory(name="Suporte", distribution_mode=DistributionMode.CAPACITY,
                           agents=people[:3]),
        "seq": TeamFactory(name="Vendas", distribution_mode=DistributionMode.SEQUENTIAL,
                           agents=people[2:]),
    }
    events = []  # (at, order, seq, what, payload)
    for n, person in enumerate(people):
        events.append((0.0 + n / 10, 1, len(events), "presence", (person, Presence.ONLINE)))
    events.append((2400.0, 1, len(events), "presence", (people[1], Presence.OFFLINE)))
    events.append((4000.0, 1, len(events), "presence", (people[1], Presence.ONLINE)))
    events.append((3000.0, 1, len(events), "presence", (people[4], Presence.AWAY)))
    for key, per_hour in (("cap", 85), ("seq", 40)):
        t = 1.0
        while True:
            t += rng.expovariate(per_hour / 3600)
            if t >= HOURS * 3600:
                break
            patience = rng.expovariate(1 / 240) if rng.random() < 0.5 else None
            events.append((round(t, 3), 2, len(events), "arrival",
                           (key, round(rng.expovariate(1 / 300) + 5, 3), patience)))
    heapq.heapify(events)
    handle_of, pk_of = {}, {}
    closing: set[int] = set()
    while events:
        at, _order, _seq, what, payload = heapq.heappop(events)
        with time_machine.travel(base + timedelta(seconds=at), tick=False), committed():
            if what == "presence":
                set_presence(agent=payload[0], status=payload[1])
            elif what == "arrival":
                key, handle, patience = payload
                conversation = arrive(team=teams[key])
                handle_of[conversation.pk] = handle
                if patience is not None:
                    heapq.heappush(events, (at + patience, 3, -conversation.pk, "give_up",
                                            conversation.pk))
            elif what == "give_up":
                conversation = Conversation.objects.get(pk=payload)
                if conversation.status == Status.QUEUED:
                    close_conversation(conversation_id=payload, actor=SupervisorFactory())
            else:
                conversation = Conversation.objects.get(pk=payload)
                close_conversation(conversation_id=payload, actor=conversation.assignee)
        for pk, assigned_at in Conversation.objects.filter(
            status=Status.ASSIGNED
        ).exclude(pk__in=closing).values_list("pk", "assigned_at"):
            closing.add(pk)
            done = (assigned_at - base).total_seconds() + handle_of[pk]
            heapq.heappush(events, (done, 0, pk, "finish", pk))
    for person in people:  # the day ends
        with time_machine.travel(base + timedelta(hours=HOURS + 2), tick=False), committed():
            set_presence(agent=person, status=Presence.OFFLINE)
    return teams, pk_of


def observed(team) -> tuple[int, float]:
    rows = Conversation.objects.filter(team=team, assigned_at__isnull=False).values_list(
        "created_at", "assigned_at")
    waits = [(assigned - created).total_seconds() for created, assigned in rows]
    return len(waits), percentile(waits, 0.5)


def test_replaying_a_recorded_day_reproduces_it(committed):
    teams, _ = recorded_day(committed)
    client = APIClient()
    client.force_authenticate(SupervisorFactory())
    answer = client.post("/api/v1/simulations/", {
        "traffic": {"history": {"from": DAY.isoformat(), "to": DAY.isoformat()}},
        "scenario": {}}, format="json")
    assert answer.status_code == 202, answer.json()
    result = client.get(f"/api/v1/simulations/{answer.json()['id']}").json()
    simulated = {row["team"]: row for row in result["baseline"]["teams"]}
    for team in teams.values():
        served, median = observed(team)
        assert served > 20
        row = simulated[team.pk]
        assert row["served"] == pytest.approx(served, abs=max(1, 0.02 * served))
        assert row["wait_p50"] == pytest.approx(median, abs=max(2, 0.1 * median))
    assert result["baseline"]["overall"]["abandoned"] > 0

    # Handle times drawn from each agent's recorded ones instead: the same conversations.
    drawn = client.post("/api/v1/simulations/", {"traffic": {"history": {
        "from": DAY.isoformat(), "to": DAY.isoformat(), "handle": "by_agent"}}},
        format="json").json()
    assert drawn["status"] == "done"
    assert drawn["baseline"]["overall"]["conversations"] == (
        result["baseline"]["overall"]["conversations"])
