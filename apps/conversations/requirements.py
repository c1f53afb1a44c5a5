"""A conversation's requirements as the conversation object shows them (routing.md 9.2):
read for a whole list at once, and only for the conversations that require skills."""

from apps.conversations.models import Conversation
from apps.skills.selectors import requirement_rows


def attach_requirements(conversations) -> None:
    """Set ``requirement_rows`` on each conversation: one query for a whole list, none when
    nothing in it requires skills."""
    conversations = list(conversations)
    wanted = [c.pk for c in conversations if c.has_requirements]
    found = {}
    if wanted:
        found = requirement_rows(wanted)
    for conversation in conversations:
        conversation.requirement_rows = found.get(conversation.pk, [])


def requirements_of(conversation: Conversation) -> list[dict]:
    """``[{"skill": {id, name}, "min_level", "in_force"}]``: attached for lists, else read
    (one query, only when it requires skills)."""
    if not hasattr(conversation, "requirement_rows"):
        attach_requirements([conversation])
    return conversation.requirement_rows
