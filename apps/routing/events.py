"""What the routing engine announces after a change commits (see apps.core.announce),
besides the conversation changes of apps.conversations.events."""

from dataclasses import dataclass


@dataclass(frozen=True)
class PresenceChanged:
    agent_id: int
    presence: str
