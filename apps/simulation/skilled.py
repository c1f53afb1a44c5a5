"""Skills in the simulator (routing.md section 9; docs/simulation.md): requirements and
eligibility, the ladder, and the last agent first, through the live engine's own code:
``choose_agent`` and ``plan_backlog`` with requirements and pools, ``eligible`` for the
oldest conversations an agent who frees room can serve, and the ladder's step as the
worker takes it (over requirement objects: no database)."""

from itertools import islice
from types import SimpleNamespace

from apps.routing.decisions import Candidate, choose_agent, eligible, plan_backlog
from apps.routing.services.ladder import _apply as take_step
from apps.simulation.engine import CLAIM, Simulator
from apps.simulation.state import QUEUED, live
from apps.teams.models import DistributionMode

STEP = 5.5  # after a reservation's end, before an arrival at the same moment
DAY = 86400.0


def restart(conv) -> None:
    """Entering a team afresh: every requirement in force at its own level, step 0."""
    conv.reqs = [SimpleNamespace(skill_id=skill, min_level=level, original_level=level,
                                 in_force=True) for skill, level in conv.a.requirements]
    conv.step, conv.overflow = 0, set()


def in_force(conv) -> dict[int, int]:
    return {r.skill_id: r.min_level for r in conv.reqs or () if r.in_force}


class SkilledSimulator(Simulator):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for agent in self.agents.values():
            for cand in agent.cands.values():
                cand.skills = agent.skills
        self.last_closer: dict[tuple, tuple[int, float]] = {}
        self.overflowed_into: dict[int, list] = {pk: [] for pk in self.teams}

    def handlers(self):
        return {**super().handlers(), STEP: self._step}

    # ------------------------------------------------------------------ placing

    def _place(self, conv, team, t, exclude=None):
        """routing.services.placing.place_in_team with skills: the ladder restarts, the
        last agent first, then the team's mode over the eligible (``choose_agent``)."""
        restart(conv)
        last = self._last_agent(conv, team, t)
        mode = team.mode
        choice = None
        if mode != DistributionMode.MANUAL or last is not None:
            candidates = self._candidates(team, conv, exclude)
            if candidates:
                choice = choose_agent(
                    candidates, mode=mode, requirements=in_force(conv),
                    preferred_agent_id=conv.preferred, last_agent_id=last,
                )
        if choice is not None:
            self._assign(conv, self.agents[choice.agent_id], t)
            return
        team.add(conv, t)
        if mode != DistributionMode.CAPACITY:  # a person claims it
            self.push(t + team.s.pick_up_seconds, CLAIM, conv, conv.version)
        self._arm(conv, team)

    def _last_agent(self, conv, team, t) -> int | None:
        days = team.s.sticky_days
        if not days or conv.a.contact is None:
            return None
        found = self.last_closer.get((conv.a.contact, team.id))
        return found[0] if found and t - found[1] <= days * DAY else None

    def _finish(self, t, conv, version):
        if conv.version == version and conv.a.contact is not None and conv.team is not None:
            self.last_closer[(conv.a.contact, conv.team.id)] = (conv.agent.id, t)
        super()._finish(t, conv, version)

    # ------------------------------------------------------------------ the ladder

    def _arm(self, conv, team) -> None:
        steps = team.s.ladder
        if conv.status == QUEUED and conv.step < len(steps):
            self.push(conv.queued_at + steps[conv.step].after_seconds, STEP, conv,
                      conv.version)

    def _step(self, t, conv, version):
        """routing.services.ladder: every due step, then a distribution attempt."""
        if conv.status != QUEUED or conv.version != version:
            return
        team = conv.team
        steps = team.s.ladder
        named = SimpleNamespace(pk=team.id, name=team.s.name)
        while conv.step < len(steps) and conv.queued_at + steps[conv.step].after_seconds <= t:
            _reason, _changed, overflow = take_step(
                steps[conv.step], conv.step + 1, conv.reqs, names={}, team=named,
                overflow_name="",
            )
            if overflow is not None and overflow in self.teams:
                conv.overflow.add(overflow)
                self.overflowed_into[overflow].append(conv)
            conv.step += 1
        self._arm(conv, team)
        if team.mode != DistributionMode.MANUAL:
            self._backlog(team, t, by_capacity=team.mode == DistributionMode.CAPACITY,
                          only=[conv])

    def _return_to_team(self, team, convs, t):
        super()._return_to_team(team, convs, t)
        for conv in convs:
            self._arm(conv, team)

    # ------------------------------------------------------------------ backlogs

    def _backlog(self, team, t, *, by_capacity=True, only=None):
        """routing.services.backlog.distribute_locked with skills: each conversation to an
        agent eligible at its step, the members of teams it overflowed to included, the
        queue read in chunks of the room left."""
        if not team.queued:
            return
        if only is not None:
            rows = iter([c for c in only if c.status == QUEUED])
            overflowed = set().union(*(c.overflow for c in only if c.overflow))
        else:
            rows = (entry[0] for entry in team.prune() if live(entry))
            overflowed = set().union(*(
                entry[0].overflow for entry in team.queue if live(entry) and entry[0].overflow
            )) if team.s.ladder else set()
        candidates = [c for c in team.online.values() if c.free > 0 or not by_capacity]
        members = {team.id: {c.agent_id for c in candidates}}
        for other in sorted(overflowed):
            found = set()
            for cand in self.teams[other].online.values():
                if cand.agent_id not in members[team.id] and (cand.free > 0 or not by_capacity):
                    if all(c.agent_id != cand.agent_id for c in candidates):
                        candidates.append(Candidate(cand.agent_id, cand.name, cand.capacity,
                                                    cand.load, None, cand.skills))
                found.add(cand.agent_id)
            members[other] = found
        if not candidates:
            return
        while True:
            room = sum(c.free for c in candidates) if by_capacity else None
            if room == 0:
                break
            chunk = list(islice(rows, room))
            if not chunk:
                break
            by_n = {c.n: c for c in chunk}
            plan = plan_backlog(
                [(c.n, c.preferred) for c in chunk], candidates, by_capacity=by_capacity,
                now=self.moment(t), requirements={c.n: in_force(c) for c in chunk},
                pools={c.n: members[team.id].union(*(members[o] for o in c.overflow))
                       for c in chunk} if overflowed else None,
            )
            for item in plan:
                self._assign(by_n[item.conversation_id], self.agents[item.agent_id], t)
            if not by_capacity or len(chunk) < room:
                break

    def _available(self, agent, t):
        """routing.services.available.give_agent_backlog: after their reserved ones, the
        oldest queued conversations the agent can serve (their capacity teams' and those
        overflowed to their teams), up to their room; then what waits for a person."""
        while agent.reserved and agent.load < agent.capacity:
            self._assign(agent.reserved.pop(0), agent, t, touch=False)
        room = agent.capacity - agent.load
        if room > 0:
            me = Candidate(agent.id, agent.name, agent.capacity, agent.load, skills=agent.skills)
            found = {}
            for team in agent.teams:
                if team.mode == DistributionMode.CAPACITY and team.queued:
                    taken = 0
                    for entry in team.prune():
                        conv = entry[0]
                        if live(entry) and eligible(me, in_force(conv)):
                            found[conv.n] = conv
                            taken += 1
                            if taken >= room:
                                break
                for conv in self.overflowed_into[team.id]:
                    if (conv.status == QUEUED and team.id in conv.overflow
                            and conv.team.mode == DistributionMode.CAPACITY
                            and eligible(me, in_force(conv))):
                        found[conv.n] = conv
            for conv in sorted(found.values(), key=lambda c: (c.queued_at, c.n))[:room]:
                self._assign(conv, agent, t)
        self._claims(agent, t)
