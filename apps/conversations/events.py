"""What changes of conversations announce after commit (see apps.core.announce).

The live inbox turns these into websocket pushes. Payloads hold ids and plain values only.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Placement:
    """Where a conversation stands: enough to know who may see it and whose counts it
    touches. ``assignee_id`` is whoever holds or last held it (a closed conversation keeps
    it: its former assignee still sees it)."""

    status: str
    team_id: int | None
    assignee_id: int | None
    preferred_agent_id: int | None
    integration_id: int | None = None  # the integration it belongs to (opened by its inbound)


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
