"""How good is the estimated wait (docs/queue-estimate.md)?

A simulated working day replayed through the real services on the real database, with the
clock moved event by event (time-machine): contacts write in on a day-shaped pattern (a
quiet start, a late-morning and a mid-afternoon peak above what the team can handle), into
a ``capacity`` team of agents who close each conversation after a random (log-normal)
handle time; closing frees room and the backlog is distributed as in production. For every
conversation that had to queue, the estimate given in the answer to its arrival is compared
with the wait that followed (arrival to assignment). Prints the median and p90 absolute
error, beside a baseline that knows only the position and the number of agents' slots.
"""

import heapq
import math
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from benchmarks.common import percentile

DAY_START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def arrivals_per_minute(minute: float) -> float:
    """A day of 12 hours: 0.8 a minute, with peaks at 11:00 and 15:00."""
    return (0.8 + 2.2 * math.exp(-(((minute - 180) / 70) ** 2))
            + 1.8 * math.exp(-(((minute - 420) / 80) ** 2)))


def arrival_times(rng: random.Random, *, hours: float) -> list[float]:
    """Seconds after DAY_START of a non-homogeneous Poisson process (thinning)."""
    peak = max(arrivals_per_minute(m) for m in range(int(hours * 60)))
    times, t = [], 0.0
    while True:
        t += rng.expovariate(peak / 60)
        if t >= hours * 3600:
            return times
        if rng.random() < arrivals_per_minute(t / 60) / peak:
            times.append(t)


def bench_estimate(*, seed: int = 11, agents: int = 6, capacity: int = 3,
                   mean_handle: float = 420.0, hours: float = 12.0,
                   time_limit: float = 300.0) -> dict:
    import time_machine

    from apps.accounts.models import Presence, User
    from apps.conversations.models import Conversation, Status
    from apps.conversations.services import receive_inbound_message
    from apps.conversations.waits import (
        DEFAULT_HANDLE_SECONDS,
        MIN_HANDLE_SAMPLES,
        PACE_WINDOW,
        attach_queue_info,
        team_paces,
    )
    from apps.routing.services import close_conversation
    from apps.teams.models import DistributionMode, Membership, Team

    rng = random.Random(seed)
    sigma = 0.6
    mu = math.log(mean_handle) - sigma**2 / 2  # a log-normal with that mean
    with time_machine.travel(DAY_START - timedelta(hours=1), tick=False):
        team = Team.objects.create(name="Estimate day", distribution_mode=DistributionMode.CAPACITY)
        people = User.objects.bulk_create(
            User(username=f"day{i}", name=f"Agent {i}", capacity=capacity,
                 presence=Presence.ONLINE, last_heartbeat=DAY_START)
            for i in range(agents)
        )
        Membership.objects.bulk_create(Membership(team=team, agent=a) for a in people)
    by_id = {a.pk: a for a in people}
    events: list = []
    for n, at in enumerate(arrival_times(rng, hours=hours)):
        heapq.heappush(events, (at, n, "arrive", n))
    seq = len(events)
    estimates: dict[int, tuple] = {}  # conversation -> (estimate, position, pace)
    started = time.perf_counter()
    truncated = False
    with time_machine.travel(DAY_START, tick=False) as clock:
        while events:
            if time.perf_counter() - started > time_limit:
                truncated = True
                break
            at, _n, kind, payload = heapq.heappop(events)
            now = DAY_START + timedelta(seconds=at)
            clock.move_to(now)
            if kind == "arrive":
                conversation, _message, _created = receive_inbound_message(
                    external_id=f"day-{payload}", body="Oi", team=team
                )
                if conversation.status == Status.QUEUED:
                    row = Conversation.objects.select_related("team").get(pk=conversation.pk)
                    attach_queue_info([row])
                    estimates[row.pk] = (row.queue_info["estimated_wait_seconds"],
                                         row.queue_info["position"],
                                         team_paces([team.pk], now=now)[team.pk])
            else:
                pk, agent_id = payload
                close_conversation(conversation_id=pk, actor=by_id[agent_id])
            # Whoever was assigned just now (at arrival or by the backlog) starts handling.
            for pk, agent_id in Conversation.objects.filter(
                team=team, status=Status.ASSIGNED, assigned_at=now
            ).values_list("pk", "assignee_id"):
                seq += 1
                handle = rng.lognormvariate(mu, sigma)
                heapq.heappush(events, (at + handle, seq, "close", (pk, agent_id)))
    elapsed = time.perf_counter() - started
    errors, baseline_errors, pace_errors, handle_errors, waits = [], [], [], [], []
    slots = agents * capacity
    for pk, created, assigned in Conversation.objects.filter(
        pk__in=list(estimates), assigned_at__isnull=False
    ).values_list("pk", "created_at", "assigned_at"):
        estimate, position, pace = estimates[pk]
        if estimate is None:
            continue
        wait = (assigned - created).total_seconds()
        waits.append(wait)
        errors.append(abs(estimate - wait))
        baseline_errors.append(abs(position * DEFAULT_HANDLE_SECONDS / slots - wait))
        # The two halves of the estimate alone, to show what each contributes.
        ahead = max(position - pace.free, 0)
        if pace.assigned:
            pace_errors.append(abs(ahead / (pace.assigned / PACE_WINDOW.total_seconds())
                                   - wait))
        handle = (pace.handled_seconds / pace.closed if pace.closed >= MIN_HANDLE_SAMPLES
                  else DEFAULT_HANDLE_SECONDS)
        handle_errors.append(abs(ahead * handle / slots - wait))
    arrived = Conversation.objects.filter(team=team).count()
    return {
        "arrived": arrived, "queued": len(estimates), "measured": len(errors),
        "seconds": elapsed, "truncated": truncated,
        "median_error": percentile(errors, 50), "p90_error": percentile(errors, 90),
        "baseline_median_error": percentile(baseline_errors, 50),
        "baseline_p90_error": percentile(baseline_errors, 90),
        "pace_only_median_error": percentile(pace_errors, 50),
        "pace_only_p90_error": percentile(pace_errors, 90),
        "handle_only_median_error": percentile(handle_errors, 50),
        "handle_only_p90_error": percentile(handle_errors, 90),
        "median_wait": percentile(waits, 50), "p90_wait": percentile(waits, 90),
        "mean_wait": statistics.fmean(waits) if waits else float("nan"),
    }
