"""What the routing engine announces after a change commits (see apps.core.announce).

The live inbox turns these into websocket pushes; the Celery enqueuer turns
``AgentAvailable`` into backlog distribution. Payloads hold ids and plain values only.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Placement:
    """Where a conversation stands: enough to know whose queues and counts it touches."""

    status: str
    team_id: int | None
    assignee_id: int | None
    preferred_agent_id: int | None


Change = tuple[int, Placement | None, Placement]  # (conversation id, before, after)


@dataclass(frozen=True)
class ConversationsChanged:
    """One transaction changed these conversations; ``before`` is None for a new one."""

    changes: tuple[Change, ...]


@dataclass(frozen=True)
class MessageCreated:
    conversation_id: int
    message_id: int
    placement: Placement


@dataclass(frozen=True)
class AgentAvailable:
    """The agent came online, freed capacity or had their limit raised: distribute."""

    agent_id: int
    why: str


@dataclass(frozen=True)
class PresenceChanged:
    agent_id: int
    presence: str


@dataclass(frozen=True)
class MembershipsChanged:
    """These agents joined or left a team: what they may see changed."""

    agent_ids: tuple[int, ...]
