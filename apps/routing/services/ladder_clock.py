"""When a conversation's next ladder step is due (routing.md section 9.4).

Each step is taken ``after_seconds`` after the conversation was queued in its team
(``queued_at``); ``Conversation.next_step_at`` holds the next one while it is queued, found
through a partial index, and whoever sets it arms a worker's wake-up after commit, as the
time rules do (``time_rules.expect``). A conversation that enters a team afresh starts that
team's ladder from the beginning: what a previous ladder relaxed is in force again.
"""

from datetime import timedelta

from django.db.models import Case, DateTimeField, ExpressionWrapper, F, Value, When

from apps.conversations.models import Conversation, Status
from apps.routing.decisions import Levels
from apps.routing.services.time_rules import DeadlineKind, expect
from apps.skills import selectors as skill_selectors
from apps.skills.models import ConversationOverflow, ConversationRequirement, Skill
from apps.skills.services import ladder_of
from apps.teams.models import Team


def skill_names(requirements: Levels | None) -> dict[int, str]:
    """The names of the skills a reason mentions (one query; none without requirements)."""
    if not requirements:
        return {}
    return dict(Skill.objects.filter(pk__in=list(requirements)).values_list("pk", "name"))


def restart_ladder(conversation: Conversation) -> Levels:
    """Before a conversation enters a team afresh: what its previous ladder relaxed is in
    force again. Returns its requirements in force (one query; three after steps)."""
    if conversation.pk is None:
        return {}
    if conversation.ladder_step:
        ConversationRequirement.objects.filter(conversation_id=conversation.pk).update(
            in_force=True, min_level=F("original_level")
        )
        ConversationOverflow.objects.filter(conversation_id=conversation.pk).delete()
    return skill_selectors.requirements_in_force([conversation.pk]).get(conversation.pk, {})


def step_due(team: Team | None, step: int, queued_at):
    """When step number ``step`` (0 first) of the team's ladder is due, or None."""
    if team is None or queued_at is None:
        return None
    steps = ladder_of(team.pk)
    if step >= len(steps):
        return None
    return queued_at + timedelta(seconds=steps[step].after_seconds)


def arm_ladder(conversation: Conversation, team: Team) -> None:
    """A conversation is queued in ``team`` (in memory; the caller saves it): its next
    step's deadline, and a wake-up at that moment once this commits."""
    conversation.next_step_at = step_due(team, conversation.ladder_step, conversation.queued_at)
    expect(DeadlineKind.LADDER, conversation.next_step_at)


def next_step_expression(team: Team | None):
    """``next_step_at`` as SQL for conversations queued in ``team`` (by their step)."""
    steps = ladder_of(team.pk) if team is not None else ()
    if not steps:
        return Value(None, output_field=DateTimeField())
    return Case(
        *[
            When(ladder_step=n, then=ExpressionWrapper(
                F("queued_at") + timedelta(seconds=s.after_seconds),
                output_field=DateTimeField(),
            ))
            for n, s in enumerate(steps)
        ],
        default=Value(None, output_field=DateTimeField()),
        output_field=DateTimeField(),
    )


def rearm_queued(team: Team) -> int:
    """The team's ladder changed: the deadlines of the conversations queued in it follow
    (a step already passed stays passed). Returns how many are queued."""
    queued = Conversation.objects.filter(team_id=team.pk, status=Status.QUEUED)
    moved = queued.update(next_step_at=next_step_expression(team))
    first = queued.filter(next_step_at__isnull=False).order_by("next_step_at").values_list(
        "next_step_at", flat=True
    ).first()
    expect(DeadlineKind.LADDER, first)
    return moved
