"""The simulator's state: plain objects with ``__slots__``, one per conversation, agent and
team, and the queue-depth accumulator (docs/simulation.md)."""

from collections import deque

from apps.routing.decisions import Candidate
from apps.simulation.world import Arrival

NEW, QUEUED, ASSIGNED, DONE, GONE = range(5)


class Conv:
    __slots__ = ("n", "a", "team", "status", "agent", "wait", "step", "version",
                 "claimable", "preferred")

    def __init__(self, n: int, arrival: Arrival):
        self.n, self.a = n, arrival
        self.team = self.agent = self.wait = self.preferred = None
        self.status, self.step, self.version, self.claimable = NEW, 0, 0, False


class AgentRun:
    __slots__ = ("id", "name", "capacity", "load", "online", "teams", "cands", "served",
                 "load_area", "cap_area", "since", "offline_since", "open", "skills")

    def __init__(self, setup):
        self.id, self.name, self.capacity = setup.id, setup.name, setup.capacity
        self.skills = dict(setup.skills)
        self.load, self.online, self.served = 0, False, 0
        self.teams: list = []
        self.cands: dict[int, Candidate] = {}
        self.load_area = self.cap_area = self.since = 0.0
        self.offline_since = None
        self.open: set = set()


class TeamRun:
    __slots__ = ("s", "id", "mode", "online", "queue", "queued", "claimable", "depth")

    def __init__(self, setup, depth):
        self.s, self.id, self.mode = setup, setup.id, setup.mode
        self.online: dict[int, Candidate] = {}
        self.queue: deque = deque()
        self.queued = self.claimable = 0
        self.depth = depth


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
