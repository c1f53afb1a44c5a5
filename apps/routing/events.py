"""What the routing engine announces after a change commits (see apps.core.announce),
besides the conversation changes of apps.conversations.events."""

from dataclasses import dataclass


@dataclass(frozen=True)
class PresenceChanged:
    agent_id: int
    presence: str


@dataclass(frozen=True)
class Handover:
    """A conversation taken back from ``agent_id`` because they did not reply within
    ``reply_seconds`` (routing.md 8.2)."""

    conversation_id: int
    agent_id: int
    team_id: int
    team_name: str
    contact_name: str
    reply_seconds: int
    at: str  # ISO 8601


@dataclass(frozen=True)
class HandedOver:
    """One transaction took these conversations back: their agents' live inboxes tell
    them."""

    handovers: tuple[Handover, ...]
