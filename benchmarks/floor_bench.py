"""What the floor view's figures cost (apps/floor/stats.py): GET stats/teams's body over a
busy floor, made in bulk: 50 teams of 10 agents, 40 queued and 5 reserved conversations per
team, 3,000 assignments in the last hour (300 of them closed since) and a day of per-minute
snapshots (72,000 rows). Prints the time of one answer and its query count."""

import time
from datetime import timedelta


def bench_floor(*, teams: int = 50, agents: int = 10, queued: int = 40, reserved: int = 5,
                assigned: int = 3000, runs: int = 20) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from apps.accounts.models import Presence, User
    from apps.conversations.models import Conversation, Status
    from apps.floor.models import QueueSnapshot
    from apps.floor.snapshots import minute_of
    from apps.floor.stats import floor_stats
    from apps.organizations.models import Contact
    from apps.teams.models import Membership, Team

    now = timezone.now()
    made = Team.objects.bulk_create(Team(name=f"Floor {n}") for n in range(teams))
    people = User.objects.bulk_create(
        User(username=f"floor{n}", capacity=5, open_count=3,
             presence=(Presence.ONLINE, Presence.AWAY, Presence.OFFLINE)[n % 3])
        for n in range(teams * agents)
    )
    Membership.objects.bulk_create(
        Membership(team=made[n // agents], agent=person) for n, person in enumerate(people)
    )
    total = teams * (queued + reserved) + assigned
    contacts = Contact.objects.bulk_create(
        Contact(external_id=f"floor-{n}", name=f"C {n}") for n in range(total)
    )
    rows, n = [], 0
    for t, team in enumerate(made):
        for i in range(queued + reserved):
            rows.append(Conversation(
                contact=contacts[n], team=team,
                status=Status.QUEUED if i < queued else Status.RESERVED,
                preferred_agent=None if i < queued else people[t * agents],
                preferred_type="" if i < queued else "auto",
                reserved_until=None if i < queued else now + timedelta(minutes=i),
                queued_at=now - timedelta(seconds=7 * i)))
            n += 1
    for i in range(assigned):
        at = now - timedelta(seconds=(i * 3600 // assigned))
        closed = i % 10 == 0
        rows.append(Conversation(
            contact=contacts[n], team=made[i % teams], assignee=people[i % len(people)],
            status=Status.CLOSED if closed else Status.ASSIGNED,
            closed_at=at if closed else None,
            queued_at=at - timedelta(seconds=i % 240), assigned_at=at))
        n += 1
    Conversation.objects.bulk_create(rows, batch_size=2000)
    QueueSnapshot.objects.bulk_create(
        (QueueSnapshot(team=team, taken_at=minute_of(now - timedelta(minutes=m)),
                       queued=m % 40, reserved=m % 5)
         for team in made for m in range(24 * 60)),
        batch_size=5000,
    )
    floor_stats()  # warm
    times = []
    with CaptureQueriesContext(connection) as queries:
        for _ in range(runs):
            started = time.perf_counter()
            answer = floor_stats()
            times.append(time.perf_counter() - started)
    return {"times": times, "queries": len(queries) // runs, "teams": len(answer["teams"]),
            "open": Conversation.objects.exclude(status=Status.CLOSED).count()}
