"""One brain, two clocks, with skills (routing.md section 9): a day of conversations that
require English through the live services (time-machine) and through the simulator gives
the same assignments in the same order: only agents who meet the requirement get them, a
ladder lowers the level after 30 s and overflows to another team after 60 s (the steps
taken by the deadline worker's wake-ups), and a returning contact goes to the agent who
served them last (sticky days)."""

import heapq
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db.models import F

from apps.conversations.models import Conversation, ConversationEvent, Status
from apps.routing.services import act_on_due, close_conversation
from apps.routing.services.ladder import set_team_ladder
from apps.routing.services.time_rules import DeadlineKind
from apps.simulation import config, skill_setup
from apps.simulation.skilled import SkilledSimulator
from apps.simulation.world import AgentSetup, Arrival, Setup
from apps.skills.models import AgentSkill, Skill
from apps.skills.services import parse_ladder
from apps.teams.models import DistributionMode
from tests.factories import AgentFactory, ContactFactory, TeamFactory
from tests.helpers import arrive

pytestmark = pytest.mark.django_db

BASE = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
END = 3000.0
# (at, handle seconds, contact key or None): every conversation requires English 3.
TRAFFIC = [
    (1, 140.3, "ana"), (2, 95.7, None), (3, 50.1, None), (4, 200.9, None), (6, 33.3, None),
    (9, 75.2, None), (150, 60.6, None), (151, 45.4, None), (400, 30.7, "ana"),
    (401, 90.9, None), (402, 20.2, None), (700, 10.1, "ana"),
]
STEP_TIMES = (30, 60)


@pytest.fixture
def crew():
    english = Skill.objects.create(name="english")
    fluent = AgentFactory(name="Fluent", capacity=1)
    basic = AgentFactory(name="Basic", capacity=1)
    helper = AgentFactory(name="Helper", capacity=2)
    AgentSkill.objects.create(agent=fluent, skill=english, level=3)
    AgentSkill.objects.create(agent=basic, skill=english, level=1)
    AgentSkill.objects.create(agent=helper, skill=english, level=1)
    intl = TeamFactory(name="Intl", distribution_mode=DistributionMode.CAPACITY,
                       agents=[fluent, basic], sticky_days=1)
    help_team = TeamFactory(name="Help", distribution_mode=DistributionMode.CAPACITY,
                            agents=[helper])
    set_team_ladder(team=intl, steps=parse_ladder([
        {"after_seconds": STEP_TIMES[0], "action": "lower", "skills": [english.pk], "by": 2},
        {"after_seconds": STEP_TIMES[1], "action": "overflow", "team": help_team.pk},
    ], team_id=intl.pk))
    contacts = {"ana": ContactFactory()}
    return english, [fluent, basic, helper], intl, contacts


def live_assignments(english, intl, contacts, committed):
    events = [(at, 6, n, ("arrival", n)) for n, (at, _h, _c) in enumerate(TRAFFIC)]
    heapq.heapify(events)
    pk_of, scheduled = {}, set()
    while events:
        at, _order, _seq, (what, key) = heapq.heappop(events)
        with time_machine.travel(BASE + timedelta(seconds=at), tick=False), committed():
            if what == "arrival":
                contact = contacts.get(TRAFFIC[key][2])
                pk_of[key] = arrive(team=intl, contact=contact,
                                    requirements={english.pk: 3}).pk
                for step in STEP_TIMES:  # the worker's wake-ups
                    heapq.heappush(events, (at + step, 5.5, 500 + key * 2 + step, ("step", key)))
            elif what == "step":
                act_on_due(kind=DeadlineKind.LADDER)
            else:
                n, assigned_at = key
                conversation = Conversation.objects.get(pk=pk_of[n])
                if conversation.assigned_at == assigned_at:
                    close_conversation(conversation_id=conversation.pk,
                                       actor=conversation.assignee)
        n_of = {pk: n for n, pk in pk_of.items()}
        for pk, assigned_at in Conversation.objects.filter(
            status=Status.ASSIGNED, pk__in=list(n_of)
        ).values_list("pk", "assigned_at"):
            if (pk, assigned_at) not in scheduled:
                scheduled.add((pk, assigned_at))
                n = n_of[pk]
                done = (assigned_at - BASE).total_seconds() + TRAFFIC[n][1]
                heapq.heappush(events, (done, 0, 2000 + len(scheduled),
                                        ("finish", (n, assigned_at))))
    n_of = {pk: n for n, pk in pk_of.items()}
    return [
        (n_of[pk], agent)
        for pk, agent in ConversationEvent.objects.filter(to_assignee__isnull=False)
        .exclude(from_assignee=F("to_assignee")).order_by("id")
        .values_list("conversation_id", "to_assignee_id")
    ]


def simulated_assignments(english, agents, intl, contacts):
    people = [AgentSetup(a.pk, a.name, a.capacity,
                         set(a.memberships.values_list("team_id", flat=True)),
                         online=[(0.0, END)]) for a in agents]
    teams = config.current_teams()
    skill_setup.current_ladders(teams)
    skill_setup.current_levels(people)
    arrivals = [Arrival(float(at), intl.pk, handle, requirements=((english.pk, 3),),
                        contact=contacts[c].pk if c else None)
                for at, handle, c in TRAFFIC]
    setup = Setup(teams, people, END, start=BASE)
    return SkilledSimulator(setup, arrivals).run().assignments


def test_with_skills_the_live_engine_and_the_simulator_assign_the_same(crew, committed):
    english, agents, intl, contacts = crew
    simulated = simulated_assignments(english, agents, intl, contacts)
    live = live_assignments(english, intl, contacts, committed)
    kinds = set(ConversationEvent.objects.values_list("kind", flat=True))
    assert {"step", "overflowed"} <= kinds
    assert {agent for _n, agent in live} == {a.pk for a in agents}
    assert simulated == live
