"""The routing engine: every change of a conversation's team, agent or state.

Each public function is one transaction, takes keyword arguments and an ``actor`` (a User,
an IntegrationClient, or None for the system), writes a ConversationEvent explaining the
decision (``history.record_event``) and announces the change after commit.

Modules, by what they change:
- ``arrival``: a new conversation opened and routed (the preferential rule, then the team);
- ``transitions``: route again, claim, assign, transfer, close;
- ``backlog``: team backlog runs, reserved conversations, the safety sweep;
- ``presence``: online/away/offline, heartbeats, the stale-presence sweep;
- ``agents``: capacity, skills, deactivation, activation;
- ``requirements``: a conversation's required skills and the last agent (section 9);
- ``ladder``: the ladder's steps taken when due; ``ladder_clock``: when they fall due;
- ``available``: an agent with room gets the oldest conversations they can serve;
- ``applying``: a backlog plan written in a few statements;
- ``time_rules``: when the time rules fall due, and waking a worker at that moment;
- ``deadlines``: acting on due deadlines (reservation ends, no first reply, offline too
  long), the first reply, a rule switched off; ``requeue``: back into the team;
- shared: ``history`` (events and actors), ``guards`` (who may act, locked loads),
  ``load`` (capacity and rotation primitives, distribution enqueued on commit),
  ``placing`` (routing steps 2-3 for one conversation).

Concurrency design (routing.md section 7):
- An agent's load is ``User.open_count``. Automatic distribution raises it with one
  conditional UPDATE (``open_count < capacity``); PostgreSQL re-checks that condition on the
  newest row version after any lock wait, so concurrent workers can never exceed a limit.
- A claim is a conditional UPDATE on the conversation's own columns (state as observed and
  ``assignee IS NULL``): of concurrent claims exactly one matches a row.
- Lock order: a team's backlog advisory lock, then agent rows in id order, then
  conversations with SKIP LOCKED (backlog runs never wait on a conversation); single-
  conversation services lock the conversation first, then at most the agents it touches
  in id order. Deadlocks that remain possible are retried by ``retry_on_deadlock``.
"""

from apps.routing.services.agents import (
    activate_agent,
    deactivate_agent,
    set_agent_skills,
    set_capacity,
)
from apps.routing.services.arrival import open_conversation
from apps.routing.services.backlog import (
    Distribution,
    assign_reserved_conversations,
    distribute_on_demand,
    distribute_team_backlog,
    handle_agent_available,
    record_sweep_run,
    release_reservations,
    sweep_routing,
)
from apps.routing.services.deadlines import (
    act_on_due,
    first_reply_rule_off,
    reply_sent,
    sweep_deadlines,
)
from apps.routing.services.history import Actor, actor_kind_of, name_of
from apps.routing.services.ladder import ladder_changed, set_team_ladder
from apps.routing.services.presence import record_heartbeat, set_presence, sweep_stale_presence
from apps.routing.services.transitions import (
    assign_conversation,
    claim_conversation,
    close_conversation,
    route_to_team,
    transfer_conversation,
)

__all__ = [
    "Actor",
    "Distribution",
    "act_on_due",
    "activate_agent",
    "actor_kind_of",
    "assign_conversation",
    "assign_reserved_conversations",
    "claim_conversation",
    "close_conversation",
    "deactivate_agent",
    "distribute_on_demand",
    "distribute_team_backlog",
    "first_reply_rule_off",
    "ladder_changed",
    "handle_agent_available",
    "name_of",
    "open_conversation",
    "record_heartbeat",
    "record_sweep_run",
    "release_reservations",
    "reply_sent",
    "route_to_team",
    "set_agent_skills",
    "set_capacity",
    "set_team_ladder",
    "set_presence",
    "sweep_deadlines",
    "sweep_routing",
    "sweep_stale_presence",
    "transfer_conversation",
]
