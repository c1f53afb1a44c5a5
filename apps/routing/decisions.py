"""Choosing an agent: pure functions over already-loaded candidates.

Each returns the choice and a reason a supervisor understands. The services apply the
choice (with the row locks that make it safe) and write the reason into the history.
"""

import heapq
from dataclasses import dataclass
from datetime import datetime, timedelta

LISTED_MEMBERS = 6


@dataclass
class Candidate:
    agent_id: int
    name: str
    capacity: int
    load: int
    last_assigned_at: datetime | None = None

    @property
    def free(self) -> int:
        return max(self.capacity - self.load, 0)


@dataclass(frozen=True)
class Choice:
    agent_id: int
    reason: str


@dataclass
class BacklogAssignment:
    conversation_id: int
    agent_id: int
    reason: str


def recency_key(candidate: Candidate) -> tuple:
    """Least recently assigned first; never-assigned before everyone; then by id."""
    stamp = candidate.last_assigned_at
    return (stamp is not None, stamp.timestamp() if stamp else 0.0, candidate.agent_id)


def describe_loads(candidates: list[Candidate]) -> str:
    shown = ", ".join(f"{c.name} {c.load}/{c.capacity}" for c in candidates[:LISTED_MEMBERS])
    more = len(candidates) - LISTED_MEMBERS
    return shown + (f" and {more} more" if more > 0 else "")


def describe_rotation(candidates: list[Candidate]) -> str:
    ordered = sorted(candidates, key=recency_key)[:LISTED_MEMBERS]
    shown = ", ".join(f"{c.name} ({_last_assigned(c)})" for c in ordered)
    more = len(candidates) - LISTED_MEMBERS
    return shown + (f" and {more} more" if more > 0 else "")


def _last_assigned(candidate: Candidate) -> str:
    if candidate.last_assigned_at is None:
        return "not assigned yet"
    return "last assigned " + candidate.last_assigned_at.strftime("%H:%M:%S")


def choose_by_capacity(
    candidates: list[Candidate], *, preferred_agent_id: int | None = None
) -> Choice | None:
    """The online member with the most free capacity; ties go to the least recently assigned.
    A starred (preferred) agent who is an online member with free capacity goes first."""
    available = [c for c in candidates if c.free > 0]
    if not available:
        return None
    for c in available:
        if c.agent_id == preferred_agent_id:
            return Choice(
                c.agent_id,
                f"{c.name} is the preferred agent and is online with free capacity "
                f"({c.load}/{c.capacity}).",
            )
    best = min(available, key=lambda c: (-c.free, *recency_key(c)))
    tied = [c for c in available if c.free == best.free]
    tie = " (tie broken by least recently assigned)" if len(tied) > 1 else ""
    return Choice(
        best.agent_id,
        f"By capacity among online members {describe_loads(candidates)}: {best.name} had the "
        f"most free capacity ({best.free}){tie}.",
    )


def choose_by_rotation(
    candidates: list[Candidate], *, preferred_agent_id: int | None = None
) -> Choice | None:
    """The online member assigned least recently: equal shares, load ignored. A starred agent
    who is an online member below their limit goes first."""
    if not candidates:
        return None
    for c in candidates:
        if c.agent_id == preferred_agent_id and c.free > 0:
            return Choice(
                c.agent_id, f"{c.name} is the preferred agent and is online with free capacity."
            )
    nxt = min(candidates, key=recency_key)
    return Choice(
        nxt.agent_id,
        f"Sequential rotation among online members {describe_rotation(candidates)}: "
        f"{nxt.name} was next.",
    )


def plan_backlog(
    backlog: list[tuple[int, int | None]],
    candidates: list[Candidate],
    *,
    by_capacity: bool,
    now: datetime,
) -> list[BacklogAssignment]:
    """Assign a queue oldest first. ``backlog`` is [(conversation_id, preferred_agent_id)].

    By capacity: each goes to the member with the most free capacity (the starred agent first
    if they have room), never above a limit. Otherwise by rotation: least recently assigned
    next, load ignored. A heap keeps it O(n log m), so a 10,000-conversation backlog plans
    in milliseconds.
    """
    by_id = {c.agent_id: c for c in candidates}
    version = dict.fromkeys(by_id, 0)
    mode = "capacity, oldest first" if by_capacity else "rotation"

    def key(c: Candidate) -> tuple:
        return (-c.free, *recency_key(c)) if by_capacity else recency_key(c)

    def eligible(c: Candidate) -> bool:
        return c.free > 0 or not by_capacity

    heap = [(key(c), 0, c.agent_id) for c in candidates if eligible(c)]
    heapq.heapify(heap)
    plan: list[BacklogAssignment] = []
    for tick, (conversation_id, preferred_id) in enumerate(backlog, start=1):
        preferred = by_id.get(preferred_id) if preferred_id else None
        if preferred is not None and preferred.free > 0:
            chosen = preferred
            reason = (
                f"Backlog distribution ({mode}): {chosen.name} is the preferred agent, online "
                f"with free capacity ({chosen.load}/{chosen.capacity})."
            )
        else:
            chosen = None
            while heap:
                _key, entry_version, agent_id = heapq.heappop(heap)
                if entry_version == version[agent_id]:
                    chosen = by_id[agent_id]
                    break
            if chosen is None:
                break
            detail = (
                f"had the most free capacity ({chosen.free} of {chosen.capacity})"
                if by_capacity
                else "was next"
            )
            reason = (
                f"Backlog distribution ({mode}) among {len(candidates)} online members: "
                f"{chosen.name} {detail}."
            )
        chosen.load += 1
        chosen.last_assigned_at = now + timedelta(microseconds=tick)
        version[chosen.agent_id] += 1
        if eligible(chosen):
            heapq.heappush(heap, (key(chosen), version[chosen.agent_id], chosen.agent_id))
        plan.append(BacklogAssignment(conversation_id, chosen.agent_id, reason))
    return plan
