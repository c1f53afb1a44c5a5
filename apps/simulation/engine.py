"""The simulator's clock: a discrete-event loop over plain objects (docs/simulation.md).

Every choice of an agent is made by the live engine's own decision functions
(``apps.routing.decisions``: ``choose_by_capacity``, ``choose_by_rotation``,
``plan_backlog``) over ``Candidate`` objects kept up to date in memory, exactly as the
live services call them over the rows they load. What the services do around a choice
(arrival, a freed agent's backlog runs, presence, the offline requeue) is mirrored here
step by step; what differs is only the clock (a heap of events in virtual seconds) and the
storage (attributes instead of rows).
"""

import heapq
import random
from datetime import timedelta

from apps.organizations.models import RuleType
from apps.routing.decisions import (
    Candidate,
    RuleOutcome,
    choose_by_capacity,
    choose_by_rotation,
    decide_auto_rule,
    plan_backlog,
)
from apps.simulation.state import (
    ASSIGNED,
    DONE,
    GONE,
    QUEUED,
    RESERVED,
    AgentRun,
    Conv,
    Depth,
    TeamRun,
)
from apps.simulation.world import Arrival, Setup
from apps.teams.models import DistributionMode

# Event kinds, in the order they run when they fall on the same moment.
FINISH, OFFLINE, CAPACITY, ONLINE, REQUEUE, RELEASE, ARRIVAL, CLAIM, ABANDON = range(9)
PROGRESS_EVERY = 5000


class Simulator:
    def __init__(self, setup: Setup, arrivals: list[Arrival], *, progress=None,
                 depth_buckets: int = 48):
        self.setup, self.arrivals, self.progress = setup, arrivals, progress
        self.heap: list = []
        self.seq = 0
        self.teams = {
            pk: TeamRun(team, Depth(setup.seconds, depth_buckets))
            for pk, team in setup.teams.items()
        }
        self.agents: dict[int, AgentRun] = {}
        for agent_setup in setup.agents:
            agent = AgentRun(agent_setup)
            self.agents[agent.id] = agent
            for team_id in sorted(agent_setup.teams):
                if team_id in self.teams:
                    agent.teams.append(self.teams[team_id])
                    agent.cands[team_id] = Candidate(agent.id, agent.name, agent.capacity, 0)
            for start, end in agent_setup.online:
                self.push(start, ONLINE, agent)
                self.push(end, OFFLINE, agent)
            for at, capacity in agent_setup.capacity_changes:
                self.push(at, CAPACITY, agent, capacity)
        self.convs: list[Conv] = []
        self.samples, self.rng = setup.handle_samples, random.Random(setup.seed)
        self.assignments: list[tuple[int, int]] = []  # (conversation n, agent id), in order

    # ------------------------------------------------------------------ the loop

    def push(self, t: float, kind: int, obj, extra=None) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (t, kind, self.seq, obj, extra))

    def moment(self, t: float):
        return self.setup.start + timedelta(seconds=t)

    def run(self) -> "Simulator":
        arrivals, heap, handlers = self.arrivals, self.heap, self.handlers()
        if arrivals:
            self.push(arrivals[0].at, ARRIVAL, 0)
        done, total = 0, max(len(arrivals), 1)
        while heap:
            t, kind, _seq, obj, extra = heapq.heappop(heap)
            handlers[kind](t, obj, extra)
            if kind == ARRIVAL:
                done += 1
                if self.progress is not None and done % PROGRESS_EVERY == 0:
                    self.progress(done / total)
        end = max(self.setup.seconds, 0.0)
        for agent in self.agents.values():
            self._account(agent, max(end, agent.since))
        for team in self.teams.values():
            team.depth.move(end, 0)
        return self

    def handlers(self):
        return {FINISH: self._finish, OFFLINE: self._offline, CAPACITY: self._capacity,
                ONLINE: self._online, REQUEUE: self._requeue, RELEASE: self._release,
                ARRIVAL: self._arrival,
                CLAIM: self._claim, ABANDON: self._abandon}

    # ------------------------------------------------------------------ events

    def _arrival(self, t, index, _extra):
        arrival = self.arrivals[index]
        if index + 1 < len(self.arrivals):
            self.push(self.arrivals[index + 1].at, ARRIVAL, index + 1)
        conv = Conv(len(self.convs), arrival)
        self.convs.append(conv)
        team = self.teams.get(arrival.team)
        if team is not None and team.s.after_hours_team in self.teams:
            schedule = team.s.schedule
            if schedule is not None and not schedule.is_open(self.moment(t)):
                team = self.teams[team.s.after_hours_team]
        conv.team = team
        if team is None:
            return  # Waiting: nobody's queue, never served here
        if arrival.patience is not None:
            self.push(t + arrival.patience, ABANDON, conv)
        if arrival.rule is not None and self._apply_rule(conv, arrival.rule, t):
            return
        self._place(conv, team, t)

    def _apply_rule(self, conv: Conv, rule: tuple, t: float) -> bool:
        """routing.services.arrival.apply_preferential_rule: the star, and for an automatic
        rule ``decide_auto_rule`` over its agent. True when the rule decided (assigned or
        reserved) and routing stops."""
        kind, agent_id, wait_limit = rule
        conv.preferred = agent_id
        agent = self.agents.get(agent_id)
        if kind != RuleType.AUTO or agent is None:
            return False
        decision = decide_auto_rule(
            Candidate(agent.id, agent.name, agent.capacity, agent.load),
            online=agent.online, wait_limit=wait_limit,
        )
        if decision == RuleOutcome.ASSIGN:
            self._assign(conv, agent, t)
            return True
        if decision == RuleOutcome.RESERVE:
            conv.status, conv.agent = RESERVED, agent
            conv.version += 1
            agent.reserved.append(conv)
            if wait_limit is not None:
                self.push(t + wait_limit, RELEASE, conv, conv.version)
            return True
        return False

    def _release(self, t, conv, version):
        """A reservation ends. Its wait passed (``version`` given): back into its team at
        its place in the queue (routing.services.deadlines, ``return_to_team``). Its agent
        left (``version`` None): routed again as new (``release_reservations``). The star
        stays."""
        if conv.status != RESERVED or (version is not None and conv.version != version):
            return
        conv.agent.reserved.remove(conv)
        conv.agent = None
        if version is None:
            conv.queued_at = t
            self._place(conv, conv.team, t)
        else:
            self._return_to_team(conv.team, [conv], t)

    def _place(self, conv: Conv, team: TeamRun, t: float, exclude: int | None = None):
        """routing.services.placing.distribute_one, on the virtual clock."""
        mode = team.mode
        if mode == DistributionMode.MANUAL:
            team.add(conv, t)
            self.push(t + team.s.pick_up_seconds, CLAIM, conv, conv.version)
            return
        candidates = self._candidates(team, conv, exclude)
        choice = None
        if candidates:
            choose = choose_by_capacity if mode == DistributionMode.CAPACITY else (
                choose_by_rotation)
            choice = choose(candidates, preferred_agent_id=conv.preferred)
        if choice is None:
            team.add(conv, t)
            if mode == DistributionMode.SEQUENTIAL:  # the backlog waits for a person
                self.push(t + team.s.pick_up_seconds, CLAIM, conv, conv.version)
            return
        self._assign(conv, self.agents[choice.agent_id], t)

    def _candidates(self, team: TeamRun, conv: Conv, exclude: int | None) -> list[Candidate]:
        if exclude is None:
            return list(team.online.values())
        return [c for c in team.online.values() if c.agent_id != exclude]

    def _finish(self, t, conv, version):
        if conv.version != version:
            return
        agent = conv.agent
        agent.open.discard(conv)
        self._set_load(agent, t, agent.load - 1)
        conv.status = DONE
        conv.version += 1
        if agent.online:
            self._available(agent, t)

    def _online(self, t, agent, _extra):
        self._account(agent, t)
        agent.online = True
        for team in agent.teams:
            team.online[agent.id] = agent.cands[team.id]
        self._available(agent, t)

    def _offline(self, t, agent, _extra):
        self._account(agent, t)
        agent.online = False
        agent.offline_since = t
        for conv in list(agent.reserved):
            self._release(t, conv, None)
        for team in agent.teams:
            team.online.pop(agent.id, None)
            if team.s.offline_requeue_seconds:
                self.push(t + team.s.offline_requeue_seconds, REQUEUE, agent, (team, t))

    def _capacity(self, t, agent, capacity):
        self._account(agent, t)
        agent.capacity = capacity
        for cand in agent.cands.values():
            cand.capacity = capacity
        if agent.online:
            self._available(agent, t)

    def _requeue(self, t, agent, extra):
        """An assignee offline for the team's offline_requeue_seconds: their open
        conversations there go back to the team (routing.services.requeue)."""
        team, since = extra
        if agent.online or agent.offline_since != since:
            return
        back = sorted((c for c in agent.open if c.team is team), key=lambda c: c.n)
        if not back:
            return
        for conv in back:
            agent.open.discard(conv)
            self._set_load(agent, t, agent.load - 1)
        self._return_to_team(team, back, t)

    def _return_to_team(self, team: TeamRun, convs: list[Conv], t: float) -> None:
        """routing.services.requeue.return_to_team: back in the queue where their
        ``queued_at`` puts them, then the team's distribution."""
        for conv in convs:
            team.add(conv, t, keep_place=True)
        if team.mode == DistributionMode.CAPACITY:
            self._backlog(team, t)
        elif team.mode == DistributionMode.SEQUENTIAL:
            self._backlog(team, t, by_capacity=False, only=convs)
        for conv in convs:
            if conv.status == QUEUED and team.mode != DistributionMode.CAPACITY:
                self.push(t + team.s.pick_up_seconds, CLAIM, conv, conv.version)

    def _claim(self, t, conv, version):
        """A person of a manual team (or of a sequential team's backlog) takes it: the
        member with the most room, as ``choose_by_capacity`` ranks them."""
        if conv.status != QUEUED or conv.version != version:
            return
        team = conv.team
        conv.claimable = True
        team.claimable += 1
        with_room = [c for c in team.online.values() if c.free > 0]
        if with_room:
            choice = choose_by_capacity(with_room)
            self._assign(conv, self.agents[choice.agent_id], t)

    def _abandon(self, t, conv, _extra):
        if conv.status == RESERVED:
            conv.agent.reserved.remove(conv)
            conv.agent = None
        elif conv.status == QUEUED:
            conv.team.remove(conv, t)
        else:
            return
        conv.status = GONE
        conv.version += 1

    # ------------------------------------------------------------------ effects

    def _available(self, agent: AgentRun, t: float) -> None:
        """routing.services.backlog.handle_agent_available: each capacity team's backlog
        run in id order; then the agent takes what waits for a person in their other
        teams, oldest first, while they have room. Reserved conversations go first
        (assign_reserved_conversations)."""
        while agent.reserved and agent.load < agent.capacity:
            self._assign(agent.reserved.pop(0), agent, t, touch=False)
        for team in agent.teams:
            if team.mode == DistributionMode.CAPACITY and team.queued:
                self._backlog(team, t)
        self._claims(agent, t)

    def _claims(self, agent: AgentRun, t: float) -> None:
        """The agent takes what waits for a person in their manual (and sequential) teams,
        oldest first, while they have room."""
        for team in agent.teams:
            if team.mode != DistributionMode.CAPACITY and team.claimable:
                for conv in team.head(None):
                    if agent.load >= agent.capacity:
                        break
                    if conv.claimable:
                        self._assign(conv, agent, t)

    def _backlog(self, team: TeamRun, t: float, *, by_capacity: bool = True, only=None):
        """routing.services.backlog.distribute_locked: plan_backlog over the online
        members (with room, by capacity), then the plan applied."""
        if not team.queued:
            return
        if by_capacity:
            candidates = [c for c in team.online.values() if c.free > 0]
            if not candidates:
                return
            limit = sum(c.free for c in candidates)
        else:
            candidates = list(team.online.values())
            if not candidates:
                return
            limit = None
        rows = only if only is not None else team.head(limit)
        rows = [conv for conv in rows if conv.status == QUEUED]
        by_n = {conv.n: conv for conv in rows}
        plan = plan_backlog(
            [(conv.n, conv.preferred) for conv in rows], candidates, by_capacity=by_capacity,
            now=self.moment(t),
        )
        for item in plan:
            self._assign(by_n[item.conversation_id], self.agents[item.agent_id], t)

    def _assign(self, conv: Conv, agent: AgentRun, t: float, *, touch: bool = True) -> None:
        if conv.status == QUEUED:
            conv.team.remove(conv, t)
        conv.status, conv.agent = ASSIGNED, agent
        conv.version += 1
        if conv.wait is None:
            conv.wait = t - conv.a.at
            agent.served += 1
        self._set_load(agent, t, agent.load + 1)
        cand = agent.cands.get(conv.team.id) if touch else None
        if cand is not None:
            cand.last_assigned_at = self.moment(t)
        agent.open.add(conv)
        self.assignments.append((conv.n, agent.id))
        handle = conv.a.handle
        if self.samples is not None:
            sample = self.samples.get((agent.id, conv.team.id))
            handle = self.rng.choice(sample) if sample else handle
        self.push(t + handle, FINISH, conv, conv.version)

    def _set_load(self, agent: AgentRun, t: float, load: int) -> None:
        self._account(agent, t)
        agent.load = load
        for cand in agent.cands.values():
            cand.load = load

    @staticmethod
    def _account(agent: AgentRun, t: float) -> None:
        elapsed = t - agent.since
        if elapsed > 0:
            agent.load_area += agent.load * elapsed
            if agent.online:
                agent.cap_area += agent.capacity * elapsed
            agent.since = t
