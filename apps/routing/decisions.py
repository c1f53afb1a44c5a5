"""Choosing an agent: pure functions over already-loaded candidates.

Each returns the choice and a reason a supervisor understands (a sentence code with its
parameters, apps.conversations.reasons). The services apply the choice (with the row locks
that make it safe) and write the reason into the history. The live services, the backlog
runs, the ladder and the simulator all call the same functions: ``choose_agent`` for one
conversation, ``plan_backlog`` for a queue (docs/routing.md, "The decision functions").

Skills (routing.md section 9): a conversation's ``requirements`` ({skill id: minimum
level}, those still in force) filter the candidates first; the team's mode then orders the
eligible, and a tie goes to the higher total level over the requirements.
"""

import heapq
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from apps.conversations.reasons import Part, part

LISTED_MEMBERS = 6
Levels = dict[int, int]  # skill id -> level


@dataclass
class Candidate:
    agent_id: int
    name: str
    capacity: int
    load: int
    last_assigned_at: datetime | None = None
    skills: Levels = field(default_factory=dict)

    @property
    def free(self) -> int:
        return max(self.capacity - self.load, 0)


@dataclass(frozen=True)
class Choice:
    agent_id: int
    reason: Part
    by: str = "mode"  # "mode", "preferred" (the star) or "last_agent" (sticky)


def eligible(candidate: Candidate, requirements: Levels | None) -> bool:
    """Meets every requirement in force."""
    return all(candidate.skills.get(s, 0) >= level for s, level in (requirements or {}).items())


def total_level(candidate: Candidate, requirements: Levels | None) -> int:
    return sum(candidate.skills.get(s, 0) for s in (requirements or {}))


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


def recency_key(candidate: Candidate, requirements: Levels | None = None) -> tuple:
    """Least recently assigned first; never-assigned before everyone; then the higher total
    level over the requirements; then by id."""
    stamp = candidate.last_assigned_at
    return (
        stamp is not None, stamp.timestamp() if stamp else 0.0,
        -total_level(candidate, requirements), candidate.agent_id,
    )


def capacity_key(candidate: Candidate, requirements: Levels | None = None) -> tuple:
    """Most free capacity first; then the higher total level; then least recently assigned."""
    stamp = candidate.last_assigned_at
    return (
        -candidate.free, -total_level(candidate, requirements), stamp is not None,
        stamp.timestamp() if stamp else 0.0, candidate.agent_id,
    )


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


def describe_requirements(requirements: Levels, names: dict[int, str] | None = None) -> str:
    """"english 3, billing 1" (skill ids when no names are given)."""
    names = names or {}
    return ", ".join(
        f"{names.get(s, s)} {level}" for s, level in sorted(
            requirements.items(), key=lambda item: str(names.get(item[0], item[0]))
        )
    )


def _with_requirements(reason: Part, requirements: Levels | None, eligible_count: int,
                       online: int, names: dict[int, str] | None) -> Part:
    if not requirements:
        return reason
    return part(
        "among_eligible", requirements=describe_requirements(requirements, names),
        eligible=eligible_count, online=online, then=reason,
    )


def choose_by_capacity(
    candidates: list[Candidate], *, preferred_agent_id: int | None = None,
    requirements: Levels | None = None, skill_names: dict[int, str] | None = None,
) -> Choice | None:
    """The eligible online member with the most free capacity; ties go to the higher total
    level, then the least recently assigned. A starred (preferred) agent who is eligible
    and has free capacity goes first."""
    able = [c for c in candidates if eligible(c, requirements)]
    available = [c for c in able if c.free > 0]
    if not available:
        return None
    for c in available:
        if c.agent_id == preferred_agent_id:
            return Choice(
                c.agent_id,
                _with_requirements(
                    part("preferred_has_room", agent=c.name, load=c.load, capacity=c.capacity),
                    requirements, len(able), len(candidates), skill_names,
                ),
                by="preferred",
            )
    best = min(available, key=lambda c: capacity_key(c, requirements))
    tied = sum(1 for c in available if c.free == best.free) > 1
    return Choice(
        best.agent_id,
        _with_requirements(
            part(
                "by_capacity_tied" if tied else "by_capacity",
                loads=describe_loads(able), agent=best.name, free=best.free,
            ),
            requirements, len(able), len(candidates), skill_names,
        ),
    )


def choose_by_rotation(
    candidates: list[Candidate], *, preferred_agent_id: int | None = None,
    requirements: Levels | None = None, skill_names: dict[int, str] | None = None,
) -> Choice | None:
    """The eligible online member assigned least recently: equal shares, load ignored. A
    starred agent who is eligible and below their limit goes first."""
    able = [c for c in candidates if eligible(c, requirements)]
    if not able:
        return None
    for c in able:
        if c.agent_id == preferred_agent_id and c.free > 0:
            return Choice(
                c.agent_id,
                _with_requirements(
                    part("preferred_in_rotation", agent=c.name),
                    requirements, len(able), len(candidates), skill_names,
                ),
                by="preferred",
            )
    nxt = min(able, key=lambda c: recency_key(c, requirements))
    return Choice(
        nxt.agent_id,
        _with_requirements(
            part("by_rotation", members=describe_rotation(able), agent=nxt.name),
            requirements, len(able), len(candidates), skill_names,
        ),
    )


def choose_agent(
    candidates: list[Candidate],
    *,
    mode: str,
    requirements: Levels | None = None,
    preferred_agent_id: int | None = None,
    last_agent_id: int | None = None,
    skill_names: dict[int, str] | None = None,
) -> Choice | None:
    """Who gets one conversation among ``candidates`` (online members, and the online
    members of teams it overflowed to), or None (it waits in the queue).

    ``mode`` is the team's distribution mode ("manual", "sequential", "capacity").
    ``requirements``: {skill id: minimum level} still in force. ``last_agent_id``: the agent
    who served the contact's previous conversation in the team (``sticky_days``), who goes
    first if eligible with free capacity, in any mode; then the starred agent; then the
    mode over the eligible (a manual team waits for a claim)."""
    if last_agent_id is not None:
        for c in candidates:
            if c.agent_id == last_agent_id and c.free > 0 and eligible(c, requirements):
                return Choice(c.agent_id, part("returning_contact", agent=c.name),
                              by="last_agent")
    if mode == "capacity":
        return choose_by_capacity(
            candidates, preferred_agent_id=preferred_agent_id, requirements=requirements,
            skill_names=skill_names,
        )
    if mode == "sequential":
        return choose_by_rotation(
            candidates, preferred_agent_id=preferred_agent_id, requirements=requirements,
            skill_names=skill_names,
        )
    return None


@dataclass
class BacklogAssignment:
    conversation_id: int
    agent_id: int
    reason: Part


def plan_backlog(
    backlog: list[tuple[int, int | None]],
    candidates: list[Candidate],
    *,
    by_capacity: bool,
    now: datetime,
    passed_over: dict[int, int] | None = None,
    requirements: dict[int, Levels] | None = None,
    pools: dict[int, set[int]] | None = None,
    within_limits: bool | None = None,
) -> list[BacklogAssignment]:
    """Assign a queue oldest first. ``backlog`` is [(conversation_id, preferred_agent_id)].

    By capacity: each goes to the eligible member with the most free capacity (the starred
    agent first if eligible with room), never above a limit. Otherwise by rotation: least
    recently assigned eligible member next, load ignored. ``passed_over`` maps a
    conversation to the agent it must not go to (taken back from them for not replying);
    ``requirements`` maps a conversation to its requirements in force; ``pools`` maps a
    conversation to the agent ids that may take it (the team's members and those of the
    teams it overflowed to; absent: every candidate). A conversation nobody eligible can
    take waits; the next ones are still planned. ``within_limits`` (a supervisor's
    distribution on demand): rotation too skips members at their limit, and what does not
    fit stays queued; it defaults to ``by_capacity``. Without requirements or pools a heap
    keeps it O(n log m), so a 10,000-conversation backlog plans in milliseconds.
    """
    capped = by_capacity if within_limits is None else within_limits
    if requirements and any(requirements.values()) or pools:
        return _plan_with_eligibility(
            backlog, candidates, by_capacity=by_capacity, now=now,
            passed_over=passed_over or {}, requirements=requirements or {}, pools=pools or {},
            capped=capped,
        )
    passed_over = passed_over or {}
    by_id = {c.agent_id: c for c in candidates}
    version = dict.fromkeys(by_id, 0)

    def key(c: Candidate) -> tuple:
        return capacity_key(c) if by_capacity else recency_key(c)

    def may_take(c: Candidate) -> bool:
        return c.free > 0 or not capped

    heap = [(key(c), 0, c.agent_id) for c in candidates if may_take(c)]
    heapq.heapify(heap)
    plan: list[BacklogAssignment] = []
    for tick, (conversation_id, preferred_id) in enumerate(backlog, start=1):
        excluded = passed_over.get(conversation_id)
        preferred = by_id.get(preferred_id) if preferred_id else None
        if preferred is not None and preferred.free > 0 and preferred.agent_id != excluded:
            chosen = preferred
            reason = _backlog_reason(chosen, candidates, by_capacity=by_capacity, preferred=True)
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
            reason = _backlog_reason(chosen, candidates, by_capacity=by_capacity, capped=capped)
        chosen.load += 1
        chosen.last_assigned_at = now + timedelta(microseconds=tick)
        version[chosen.agent_id] += 1
        if may_take(chosen):
            heapq.heappush(heap, (key(chosen), version[chosen.agent_id], chosen.agent_id))
        plan.append(BacklogAssignment(conversation_id, chosen.agent_id, reason))
    return plan


def _backlog_reason(chosen: Candidate, candidates: list[Candidate], *, by_capacity: bool,
                    capped: bool = False, preferred: bool = False,
                    requirements: Levels | None = None, eligible_count: int = 0) -> Part:
    if preferred:
        reason = part(
            "backlog_preferred", agent=chosen.name, load=chosen.load, capacity=chosen.capacity
        )
    elif by_capacity:
        reason = part(
            "backlog_by_capacity", online=len(candidates), agent=chosen.name,
            free=chosen.free, capacity=chosen.capacity,
        )
    elif capped:
        reason = part(
            "backlog_by_rotation_within_limits", online=len(candidates), agent=chosen.name,
            free=chosen.free, capacity=chosen.capacity,
        )
    else:
        reason = part("backlog_by_rotation", online=len(candidates), agent=chosen.name)
    return _with_requirements(reason, requirements, eligible_count, len(candidates), None)


def _plan_with_eligibility(
    backlog, candidates, *, by_capacity, now, passed_over, requirements, pools, capped
) -> list[BacklogAssignment]:
    """``plan_backlog`` when conversations differ in who may take them: each conversation
    looks at its own eligible candidates (O(n x m), m the candidates)."""
    plan: list[BacklogAssignment] = []
    for tick, (conversation_id, preferred_id) in enumerate(backlog, start=1):
        needs = requirements.get(conversation_id) or {}
        pool = pools.get(conversation_id)
        excluded = passed_over.get(conversation_id)
        able = [
            c for c in candidates
            if (pool is None or c.agent_id in pool) and c.agent_id != excluded
            and eligible(c, needs)
        ]
        room = [c for c in able if c.free > 0] if capped else able
        if not room:
            continue
        preferred = next(
            (c for c in room if c.agent_id == preferred_id and c.free > 0), None
        )
        if preferred is not None:
            chosen = preferred
        elif by_capacity:
            chosen = min(room, key=lambda c, needs=needs: capacity_key(c, needs))
        else:
            chosen = min(room, key=lambda c, needs=needs: recency_key(c, needs))
        reason = _backlog_reason(
            chosen, candidates, by_capacity=by_capacity, capped=capped,
            preferred=preferred is not None, requirements=needs, eligible_count=len(able),
        )
        chosen.load += 1
        chosen.last_assigned_at = now + timedelta(microseconds=tick)
        plan.append(BacklogAssignment(conversation_id, chosen.agent_id, reason))
    return plan
