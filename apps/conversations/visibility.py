"""Who may see a conversation: the one rule, used by the selectors (the API, the pages, the
services' refusals) and by the live inbox's websocket groups.

A conversation is seen by *audiences*: Waiting's audience (every agent), a team's members,
one agent (the conversation's assignee, or its preferred agent while it is reserved for
them) and the supervisors (supervisors and administrators see everything). A person
belongs to their audiences; they may see a conversation when the two share an audience.
``conversation_filter`` is the same rule as a database filter, next to it so that the two
are read (and tested) together.
"""

from django.db.models import Q

from apps.accounts.models import is_person
from apps.conversations.models import ConversationEvent, Status

WAITING = "waiting"
SUPERVISORS = "supervisors"


def team_audience(team_id: int) -> str:
    return f"team.{int(team_id)}"


def agent_audience(agent_id: int) -> str:
    return f"agent.{int(agent_id)}"


def audiences_of(placement) -> frozenset[str]:
    """Who may see a conversation standing at ``placement`` (a Placement, or None)."""
    if placement is None:
        return frozenset()
    seen = {SUPERVISORS}
    if placement.status == Status.WAITING:
        seen.add(WAITING)
    if placement.team_id:
        seen.add(team_audience(placement.team_id))
    if placement.assignee_id:
        seen.add(agent_audience(placement.assignee_id))
    if placement.status == Status.RESERVED and placement.preferred_agent_id:
        seen.add(agent_audience(placement.preferred_agent_id))
    return frozenset(seen)


def audiences_of_person(person, *, team_ids) -> frozenset[str]:
    """The audiences a person belongs to (``team_ids``: the teams they are a member of).
    Integrations and strangers belong to none."""
    if not is_person(person):
        return frozenset()
    own = agent_audience(person.pk)
    if person.is_supervisor:
        return frozenset({own, SUPERVISORS})
    return frozenset({own, WAITING, *(team_audience(t) for t in team_ids)})


def may_see(person, placement, *, team_ids) -> bool:
    """``team_ids`` may be a callable returning them: it is only called when the answer
    depends on the person's teams (most checks need no query)."""
    seen_by = audiences_of(placement)
    if seen_by & audiences_of_person(person, team_ids=()):
        return True
    if not any(a.startswith("team.") for a in seen_by):
        return False
    ids = team_ids() if callable(team_ids) else team_ids
    return bool(seen_by & audiences_of_person(person, team_ids=ids))


def conversation_filter(person, *, team_ids_query) -> Q | None:
    """``audiences_of`` as a filter on Conversation for one person: None means no filter
    (supervisors), ``Q(pk__in=[])`` nothing. ``team_ids_query`` is a subquery of the
    person's team ids."""
    if not is_person(person):
        return Q(pk__in=[])
    if person.is_supervisor:
        return None
    return (
        Q(status=Status.WAITING)
        | Q(team_id__in=team_ids_query)
        | Q(assignee_id=person.pk)
        | Q(status=Status.RESERVED, preferred_agent_id=person.pk)
    )



def opened_by_integration(integration) -> Q:
    """The conversations an integration opened through ``inbound`` (their first history
    event names it), as a filter on Conversation. An integration sees only these, and only
    where an endpoint says so (``conversations/{id}/queue``)."""
    return Q(
        pk__in=ConversationEvent.objects.filter(
            actor_integration_id=integration.pk, from_status=""
        ).values("conversation_id")
    )
