"""A conversation's requirements (routing.md section 9.2) and the last agent (9.5): what
arrival and routing again need before the team's distribution."""

from datetime import timedelta

from apps.conversations.models import Conversation, Status
from apps.organizations.models import Contact
from apps.routing.decisions import Levels
from apps.skills import selectors as skill_selectors
from apps.skills.models import (
    ConversationOverflow,
    ConversationRequirement,
    RequirementSource,
)
from apps.teams.models import Team

Needs = dict[int, tuple[int, str]]  # skill id -> (minimum level, source)


def arrival_requirements(contact: Contact, named: Levels | None) -> Needs:
    """The channel's named requirements and those the contact's organization inherits
    (the nearest node with any); for a skill in both, the higher minimum."""
    needs: Needs = {
        skill: (level, RequirementSource.ORGANIZATION)
        for skill, level in skill_selectors.requirements_for_contact(contact).items()
    }
    for skill, level in (named or {}).items():
        if level >= needs.get(skill, (0, ""))[0]:
            needs[skill] = (level, RequirementSource.CHANNEL)
    return needs


def write_requirements(conversation_id: int, needs: Needs) -> None:
    if needs:
        ConversationRequirement.objects.bulk_create(
            ConversationRequirement(
                conversation_id=conversation_id, skill_id=skill, min_level=level,
                original_level=level, source=source,
            )
            for skill, (level, source) in sorted(needs.items())
        )


def replace_requirements(conversation: Conversation, levels: Levels) -> Levels:
    """A bot or supervisor names the requirements anew (``route``): they replace all of
    them, in force from the start, and what a ladder widened is forgotten."""
    ConversationRequirement.objects.filter(conversation_id=conversation.pk).delete()
    ConversationOverflow.objects.filter(conversation_id=conversation.pk).delete()
    conversation.has_requirements = bool(levels)
    write_requirements(
        conversation.pk, {s: (level, RequirementSource.BOT) for s, level in levels.items()}
    )
    return dict(levels)


def last_agent_of(contact: Contact, team: Team | None, *, now) -> int | None:
    """The agent who served the contact's latest conversation in ``team`` if it closed
    within the team's ``sticky_days`` (one query; none when the team has no such rule)."""
    if team is None or not team.sticky_days or contact.pk is None:
        return None
    return (
        Conversation.objects.filter(
            contact_id=contact.pk, team_id=team.pk, status=Status.CLOSED,
            closed_at__gte=now - timedelta(days=team.sticky_days),
            assignee__isnull=False,
        )
        .order_by("-closed_at", "-id")
        .values_list("assignee_id", flat=True)
        .first()
    )
