"""Choosing an agent: pure functions over already-loaded candidates.

Each returns the choice and a reason a supervisor understands (a sentence code with its
parameters, apps.conversations.reasons). The services apply the choice (with the row locks
that make it safe) and write the reason into the history.
"""

import heapq
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from apps.conversations.reasons import Part, part

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
    reason: Part


@dataclass
class BacklogAssignment:
    conversation_id: int
    agent_id: int
    reason: Part


class RuleOutcome(StrEnum):
    """What an automatic preferential rule does with a new conversation (routing.md 4, 8.1)."""

    ASSIGN = "assign"  # the preferred agent is online with room
    RESERVE = "reserve"  # online and at their limit: it waits reserved for them
    BUSY_NO_WAIT = "busy_no_wait"  # at their limit, and the rule allows no wait: routes on
    NOT_ONLINE = "not_online"  # away, offline or deactivated: routes on


def decide_auto_rule(agent: Candidate, *, online: bool, wait_limit: int | None) -> RuleOutcome:
    """An automatic rule's decision over its agent as loaded (``wait_limit``: seconds a
    reservation may last, None without limit). The live intake decides on the agent's
    locked row, the simulator on its own state."""
    if not online:
        return RuleOutcome.NOT_ONLINE
    if agent.free > 0:
        return RuleOutcome.ASSIGN
    return RuleOutcome.BUSY_NO_WAIT if wait_limit == 0 else RuleOutcome.RESERVE


def recency_key(candidate: Candidate) -> tuple:
    """Least recently assigned first; never-assigned before everyone; then by id."""
    stamp = candidate.last_assigned_at
    return (stamp is not None, stamp.timestamp() if stamp else 0.0, candidate.agent_id)


def describe_loads(candidates: list[Candidate]) -> str:
    """"Ana 1/5, Bruno 0/5, +3": names with load and limit (the first few)."""
    shown = ", ".join(f"{c.name} {c.load}/{c.capacity}" for c in candidates[:LISTED_MEMBERS])
    more = len(candidates) - LISTED_MEMBERS
    return shown + (f", +{more}" if more > 0 else "")


def describe_rotation(candidates: list[Candidate]) -> str:
    """The members in rotation order, next first ("Bruno, Ana, +2")."""
    ordered = sorted(candidates, key=recency_key)
    shown = ", ".join(c.name for c in ordered[:LISTED_MEMBERS])
    more = len(candidates) - LISTED_MEMBERS
    return shown + (f", +{more}" if more > 0 else "")


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
                part("preferred_has_room", agent=c.name, load=c.load, capacity=c.capacity),
            )
    best = min(available, key=lambda c: (-c.free, *recency_key(c)))
    tied = sum(1 for c in available if c.free == best.free) > 1
    return Choice(
        best.agent_id,
        part(
            "by_capacity_tied" if tied else "by_capacity",
            loads=describe_loads(candidates), agent=best.name, free=best.free,
        ),
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
            return Choice(c.agent_id, part("preferred_in_rotation", agent=c.name))
    nxt = min(candidates, key=recency_key)
    return Choice(
        nxt.agent_id,
        part("by_rotation", members=describe_rotation(candidates), agent=nxt.name),
    )


def plan_backlog(
    backlog: list[tuple[int, int | None]],
    candidates: list[Candidate],
    *,
    by_capacity: bool,
    now: datetime,
    passed_over: dict[int, int] | None = None,
    within_limits: bool | None = None,
) -> list[BacklogAssignment]:
    """Assign a queue oldest first. ``backlog`` is [(conversation_id, preferred_agent_id)].

    By capacity: each goes to the member with the most free capacity (the starred agent first
    if they have room), never above a limit. Otherwise by rotation: least recently assigned
    next, load ignored, unless ``within_limits`` (a supervisor's distribution on demand):
    then rotation skips members at their limit, and what does not fit is left out of the
    plan (it stays queued). ``within_limits`` defaults to ``by_capacity``. A heap keeps it
    O(n log m), so a 10,000-conversation backlog plans in milliseconds. ``passed_over`` maps
    a conversation to the agent it must not go to (it was taken back from them for not
    replying); it waits if nobody else can take it.
    """
    passed_over = passed_over or {}
    capped = by_capacity if within_limits is None else within_limits
    by_id = {c.agent_id: c for c in candidates}
    version = dict.fromkeys(by_id, 0)

    def key(c: Candidate) -> tuple:
        return (-c.free, *recency_key(c)) if by_capacity else recency_key(c)

    def eligible(c: Candidate) -> bool:
        return c.free > 0 or not capped

    heap = [(key(c), 0, c.agent_id) for c in candidates if eligible(c)]
    heapq.heapify(heap)
    plan: list[BacklogAssignment] = []
    for tick, (conversation_id, preferred_id) in enumerate(backlog, start=1):
        excluded = passed_over.get(conversation_id)
        preferred = by_id.get(preferred_id) if preferred_id else None
        if preferred is not None and preferred.free > 0 and preferred.agent_id != excluded:
            chosen = preferred
            reason = part(
                "backlog_preferred", agent=chosen.name, load=chosen.load,
                capacity=chosen.capacity,
            )
        else:
            chosen, aside = None, None
            while heap:
                entry = heapq.heappop(heap)
                _key, entry_version, agent_id = entry
                if entry_version != version[agent_id]:
                    continue
                if agent_id == excluded:
                    aside = entry  # still eligible for the next conversations
                    continue
                chosen = by_id[agent_id]
                break
            if aside is not None:
                heapq.heappush(heap, aside)
            if chosen is None:
                if aside is None:
                    break  # nobody can take anything more
                continue  # only the agent it was taken from has room: it waits
            if by_capacity:
                reason = part(
                    "backlog_by_capacity", online=len(candidates), agent=chosen.name,
                    free=chosen.free, capacity=chosen.capacity,
                )
            elif capped:
                reason = part(
                    "backlog_by_rotation_within_limits", online=len(candidates),
                    agent=chosen.name, free=chosen.free, capacity=chosen.capacity,
                )
            else:
                reason = part("backlog_by_rotation", online=len(candidates), agent=chosen.name)
        chosen.load += 1
        chosen.last_assigned_at = now + timedelta(microseconds=tick)
        version[chosen.agent_id] += 1
        if eligible(chosen):
            heapq.heappush(heap, (key(chosen), version[chosen.agent_id], chosen.agent_id))
        plan.append(BacklogAssignment(conversation_id, chosen.agent_id, reason))
    return plan
