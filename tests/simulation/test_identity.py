"""One brain, two clocks (routing.md 10.4): a small day through the live services on the
database (time-machine's clock) and through the simulator gives the same assignments, to
the same agents, in the same order: arrivals into a capacity team and a sequential team,
agents at their limits, backlogs distributed as capacity frees, an agent who comes online
late, one who leaves and comes back, the offline requeue (a time rule), and preferential
rules: an automatic one whose agent is busy (the conversation waits reserved for her, and
is released when the rule's wait passes) and a queue one (the star)."""

import heapq
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db.models import F

from apps.accounts.models import Presence
from apps.conversations.models import Conversation, ConversationEvent, Status
from apps.organizations.models import RuleType
from apps.routing.services import act_on_due, close_conversation, set_presence
from apps.routing.services.time_rules import DeadlineKind
from apps.simulation import config
from apps.simulation.engine import Simulator
from apps.simulation.world import AgentSetup, Arrival, Setup
from apps.teams.models import DistributionMode
from tests.factories import (
    AgentFactory,
    ContactFactory,
    OrganizationFactory,
    RuleFactory,
    TeamFactory,
)
from tests.helpers import arrive

pytestmark = pytest.mark.django_db

BASE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
END = 2000.0
# (at, team key, handle seconds, rule): times chosen so that no two things happen at one
# moment. Rule "auto": an automatic rule for Ana (who waits up to RESERVED_WAIT for her);
# "star": a queue rule for Carla.
TRAFFIC = [
    (1, "cap", 130.3), (2, "cap", 95.1), (3, "seq", 40.7), (5, "cap", 211.9),
    (7, "cap", 60.2, "auto"), (11, "seq", 300.1), (13, "cap", 45.6), (17, "cap", 33.3),
    (19, "seq", 80.8), (23, "cap", 150.4, "star"), (29, "seq", 20.9), (31, "cap", 75.5),
    (37, "cap", 90.6, "auto"), (120, "cap", 55.2), (121, "seq", 140.3),
    (122, "cap", 266.1), (160, "cap", 120.7, "auto"), (181, "seq", 44.4), (190, "cap", 99.9),
    (230, "cap", 70.2), (310, "cap", 35.8, "star"), (311, "cap", 48.3), (312, "seq", 61.7),
    (400, "cap", 30.1),
]
RESERVED_WAIT = 40
# (at, agent key, presence)
PRESENCE = [(100, "d", Presence.ONLINE), (170, "b", Presence.OFFLINE),
            (300, "b", Presence.ONLINE)]
OFFLINE_REQUEUE = 50


@pytest.fixture
def crew():
    agents = {
        "a": AgentFactory(name="Ana", capacity=2),
        "b": AgentFactory(name="Bruno", capacity=2),
        "c": AgentFactory(name="Carla", capacity=1),
        "d": AgentFactory(name="Davi", capacity=3, presence=Presence.OFFLINE),
    }
    teams = {
        "cap": TeamFactory(name="Suporte", distribution_mode=DistributionMode.CAPACITY,
                           agents=[agents["a"], agents["b"], agents["c"], agents["d"]],
                           offline_requeue_seconds=OFFLINE_REQUEUE),
        "seq": TeamFactory(name="Vendas", distribution_mode=DistributionMode.SEQUENTIAL,
                           agents=[agents["a"], agents["c"], agents["d"]]),
    }
    auto, star = OrganizationFactory(), OrganizationFactory()
    RuleFactory(organization=auto, agent=agents["a"], type=RuleType.AUTO,
                max_wait_seconds=RESERVED_WAIT)
    RuleFactory(organization=star, agent=agents["c"], type=RuleType.QUEUE)
    return agents, teams, {"auto": auto, "star": star}


def rule_of(n) -> str | None:
    return TRAFFIC[n][3] if len(TRAFFIC[n]) > 3 else None


def live_assignments(agents, teams, organizations, committed) -> list[tuple[int, int]]:
    """Drive the live services: arrivals, presence changes, the offline deadline's
    wake-up, and each conversation closed by its agent ``handle`` seconds after it was
    assigned (distribution of what waits runs after each commit, as a worker would)."""
    order = {"finish": 0, "offline": 1, "online": 3, "requeue": 4, "release": 5,
             "arrival": 6}
    events = [(entry[0], order["arrival"], n, ("arrival", n)) for n, entry in
              enumerate(TRAFFIC)]
    for n, entry in enumerate(TRAFFIC):  # the reservation's wake-up, when it ends
        if rule_of(n) == "auto":
            events.append((entry[0] + RESERVED_WAIT, order["release"], 300 + n,
                           ("release", n)))
    for n, (at, key, status) in enumerate(PRESENCE):
        events.append((at, order[status], 100 + n, (status, key)))
        if status == Presence.OFFLINE:
            events.append((at + OFFLINE_REQUEUE, order["requeue"], 200 + n, ("requeue", key)))
    heapq.heapify(events)
    pk_of: dict[int, int] = {}
    scheduled: set[tuple[int, datetime]] = set()
    seen_times: set[float] = set()
    while events:
        at, _order, _seq, (what, key) = heapq.heappop(events)
        if what == "release" or (what == "finish" and not Conversation.objects.filter(
            pk=pk_of[key[0]], assigned_at=key[1]
        ).exists()):
            pass  # a wake-up with nothing due, or a conversation taken back since
        else:
            assert at not in seen_times, "the scenario must not put two things at one moment"
            seen_times.add(at)
        with time_machine.travel(BASE + timedelta(seconds=at), tick=False), committed():
            if what == "arrival":
                rule = rule_of(key)
                contact = ContactFactory(organization=organizations[rule]) if rule else None
                pk_of[key] = arrive(team=teams[TRAFFIC[key][1]], contact=contact).pk
            elif what == "release":
                act_on_due(kind=DeadlineKind.RESERVATION)
            elif what == "finish":
                n, assigned_at = key
                conversation = Conversation.objects.get(pk=pk_of[n])
                if conversation.assigned_at == assigned_at:  # not taken back since
                    close_conversation(conversation_id=conversation.pk,
                                       actor=conversation.assignee)
            elif what == "requeue":
                act_on_due(kind=DeadlineKind.OFFLINE)
            else:
                set_presence(agent=agents[key], status=what)
        n_of = {pk: n for n, pk in pk_of.items()}
        for pk, assigned_at in Conversation.objects.filter(
            status=Status.ASSIGNED, pk__in=list(n_of)
        ).values_list("pk", "assigned_at"):
            if (pk, assigned_at) not in scheduled:
                scheduled.add((pk, assigned_at))
                n = n_of[pk]
                done = (assigned_at - BASE).total_seconds() + TRAFFIC[n][2]
                heapq.heappush(events, (done, order["finish"], 1000 + len(scheduled),
                                        ("finish", (n, assigned_at))))
    n_of = {pk: n for n, pk in pk_of.items()}
    return [
        (n_of[pk], agent)
        for pk, agent in ConversationEvent.objects.filter(to_assignee__isnull=False)
        .exclude(from_assignee=F("to_assignee")).order_by("id")
        .values_list("conversation_id", "to_assignee_id")
    ]


def simulated_assignments(agents, teams) -> list[tuple[int, int]]:
    online = {key: [(0.0, END)] for key in agents}
    online["d"] = [(100.0, END)]
    online["b"] = [(0.0, 170.0), (300.0, END)]
    people = [
        AgentSetup(agent.pk, agent.name, agent.capacity,
                   {t.pk for t in teams.values() if agent in t.members.all()},
                   online=online[key])
        for key, agent in agents.items()
    ]
    rules = {"auto": (RuleType.AUTO, agents["a"].pk, RESERVED_WAIT),
             "star": (RuleType.QUEUE, agents["c"].pk, None)}
    arrivals = [
        Arrival(float(entry[0]), teams[entry[1]].pk, entry[2], rule=rules.get(rule_of(n)))
        for n, entry in enumerate(TRAFFIC)
    ]
    setup = Setup(config.current_teams(), people, END, start=BASE)
    return Simulator(setup, arrivals).run().assignments


def test_the_live_engine_and_the_simulator_assign_the_same(crew, committed):
    agents, teams, organizations = crew
    simulated = simulated_assignments(agents, teams)
    live = live_assignments(agents, teams, organizations, committed)
    kinds = set(ConversationEvent.objects.values_list("kind", flat=True))
    assert {"reserved", "released", "requeued"} <= kinds
    assert len(live) > len(TRAFFIC)  # the requeue gave some conversations a second agent
    assert simulated == live
