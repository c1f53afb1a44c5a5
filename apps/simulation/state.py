"""The simulator's state: plain objects with ``__slots__``, one per conversation, agent and
team, and the queue-depth accumulator (docs/simulation.md)."""

import bisect
from collections import deque

from apps.routing.decisions import Candidate
from apps.simulation.world import Arrival

NEW, QUEUED, ASSIGNED, DONE, GONE, RESERVED = range(6)


class Conv:
    __slots__ = ("n", "a", "team", "status", "agent", "wait", "step", "version",
                 "claimable", "preferred", "queued_at", "reqs", "overflow")

    def __init__(self, n: int, arrival: Arrival):
        self.n, self.a = n, arrival
        self.team = self.agent = self.wait = self.preferred = None
        self.status, self.step, self.version, self.claimable = NEW, 0, 0, False
        self.queued_at = arrival.at
        self.reqs, self.overflow = None, None  # with skills: requirements, overflow teams


class AgentRun:
    __slots__ = ("id", "name", "capacity", "load", "online", "teams", "cands", "served",
                 "load_area", "cap_area", "since", "offline_since", "open", "skills",
                 "reserved")

    def __init__(self, setup):
        self.id, self.name, self.capacity = setup.id, setup.name, setup.capacity
        self.skills = dict(setup.skills)
        self.load, self.online, self.served = 0, False, 0
        self.teams: list = []
        self.cands: dict[int, Candidate] = {}
        self.load_area = self.cap_area = self.since = 0.0
        self.offline_since = None
        self.open: set = set()
        self.reserved: list = []  # conversations waiting reserved for them, oldest first


class TeamRun:
    __slots__ = ("s", "id", "mode", "online", "queue", "queued", "claimable", "depth")

    def __init__(self, setup, depth):
        self.s, self.id, self.mode = setup, setup.id, setup.mode
        self.online: dict[int, Candidate] = {}
        self.queue: deque = deque()
        self.queued = self.claimable = 0
        self.depth = depth

    def prune(self) -> deque:
        """The queue without the stale entries at its head (assigned or gone since)."""
        queue = self.queue
        while queue and not live(queue[0]):
            queue.popleft()
        return queue

    def head(self, limit: int | None) -> list:
        """The queue, oldest first (``limit`` of them); stale entries are dropped as met."""
        queue = self.prune()
        found = []
        for entry in queue:
            if live(entry):
                found.append(entry[0])
                if limit is not None and len(found) >= limit:
                    break
        return found

    def add(self, conv, t: float, *, keep_place: bool = False) -> None:
        """Into the queue, ordered by (queued_at, n): a new or rerouted conversation now,
        one returned by a time rule at its old place."""
        if not keep_place:
            conv.queued_at = t
        conv.status, conv.team, conv.agent = QUEUED, self, None
        conv.version += 1
        entry = (conv, conv.version)
        queue = self.queue
        if queue and (queue[-1][0].queued_at, queue[-1][0].n) > (conv.queued_at, conv.n):
            ordered = list(queue)
            keys = [(c.queued_at, c.n) for c, _v in ordered]
            ordered.insert(bisect.bisect(keys, (conv.queued_at, conv.n)), entry)
            self.queue = deque(ordered)
        else:
            queue.append(entry)
        self.depth.move(t, 1)
        self.queued += 1

    def remove(self, conv, t: float) -> None:
        """It leaves the queue (assigned or gave up); its entry goes stale."""
        self.depth.move(t, -1)
        self.queued -= 1
        if conv.claimable:
            conv.claimable = False
            self.claimable -= 1


def live(entry) -> bool:
    conv, version = entry
    return conv.status == QUEUED and conv.version == version


class Depth:
    """Time-weighted mean of a count per bucket of the period (the queue-depth chart)."""

    __slots__ = ("size", "buckets", "t", "value")

    def __init__(self, seconds: float, buckets: int):
        self.size = max(seconds / buckets, 1.0)
        self.buckets = [0.0] * buckets
        self.t, self.value = 0.0, 0

    def move(self, t: float, delta: int) -> None:
        last, size, value = self.t, self.size, self.value
        while last < t and value:
            index = int(last // size)
            if index >= len(self.buckets):
                break
            edge = min((index + 1) * size, t)
            self.buckets[index] += value * (edge - last)
            last = edge
        self.t, self.value = t, value + delta

    def means(self) -> list[float]:
        return [area / self.size for area in self.buckets]
