"""Who may see a conversation: the one rule, used by the selectors (the API, the pages, the
services' refusals) and by the live inbox's websocket groups.

A conversation is seen by *audiences*: Waiting's audience (every agent), a team's members,
one agent (the conversation's assignee, or its preferred agent while it is reserved for
them), the supervisors (supervisors and administrators see everything) and the integration
it belongs to (the one whose inbound opened it; an integration sees nothing else). A person
or an integration belongs to their audiences; they may see a conversation when the two
share an audience.
``conversation_filter`` is the same rule as a database filter, next to it so that the two
are read (and tested) together; ``script_table`` is the same rule as the inbox's script
applies it to a conversation it was sent (rendered into the page, never written twice).

For an integration this is also the ownership rule: it reads, routes and rates only the
conversations its own ``inbound`` opened, and every service that acts for one asks
``may_see`` (a conversation that is not its own is a 404, like one that does not exist).
``contact_filter`` follows from it: an integration lists the contacts of its own
conversations only.
"""

from django.db.models import Exists, OuterRef, Q

from apps.accounts.models import IntegrationClient, is_person
from apps.conversations.events import Placement
from apps.conversations.models import Conversation, Status

WAITING = "waiting"
SUPERVISORS = "supervisors"


def team_audience(team_id: int) -> str:
    return f"team.{int(team_id)}"


def agent_audience(agent_id: int) -> str:
    return f"agent.{int(agent_id)}"


def integration_audience(integration_id: int) -> str:
    return f"integration.{int(integration_id)}"


def is_integration_audience(audience: str) -> bool:
    return audience.startswith("integration.")


def _integration_of(principal) -> int | None:
    """The id of an integration client that may still read (not revoked), else None."""
    if isinstance(principal, IntegrationClient) and principal.revoked_at is None:
        return principal.pk
    return None


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
    if placement.integration_id:
        seen.add(integration_audience(placement.integration_id))
    return frozenset(seen)


def audiences_of_person(person, *, team_ids) -> frozenset[str]:
    """The audiences a person belongs to (``team_ids``: the teams they are a member of). An
    integration belongs to its own; strangers to none."""
    integration_id = _integration_of(person)
    if integration_id is not None:
        return frozenset({integration_audience(integration_id)})
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
    if not is_person(person) or not any(a.startswith("team.") for a in seen_by):
        return False
    ids = team_ids() if callable(team_ids) else team_ids
    return bool(seen_by & audiences_of_person(person, team_ids=ids))


def conversation_filter(person, *, team_ids_query) -> Q | None:
    """``audiences_of`` as a filter on Conversation for one person: None means no filter
    (supervisors), ``Q(pk__in=[])`` nothing. ``team_ids_query`` is a subquery of the
    person's team ids."""
    integration_id = _integration_of(person)
    if integration_id is not None:
        return Q(integration_id=integration_id)
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



def contact_filter(principal) -> Q | None:
    """Which contacts ``principal`` may list: an integration those of the conversations it
    opened (its own); anyone else is not filtered here (the view's permission decides)."""
    integration_id = _integration_of(principal)
    if integration_id is None:
        return None
    return Q(Exists(Conversation.objects.filter(
        contact_id=OuterRef("pk"), integration_id=integration_id
    )))


# A person's relations to a conversation, as the inbox's script can tell them from the
# conversation's payload and what it knows of the person (static/js/inbox/store.js).
_SAMPLE = {"team_id": 1, "assignee_id": 2, "preferred_agent_id": 3, "integration_id": 4}
_RELATIONS = {
    SUPERVISORS: "supervisor",
    WAITING: "waiting",
    team_audience(_SAMPLE["team_id"]): "team",
    agent_audience(_SAMPLE["assignee_id"]): "assignee",
    agent_audience(_SAMPLE["preferred_agent_id"]): "preferred",
    integration_audience(_SAMPLE["integration_id"]): "integration",
}


def script_table() -> dict[str, list[str]]:
    """``audiences_of`` as a table for the pages' scripts: for each status, the relations
    that let a person see a conversation standing there ("supervisor": the person is one;
    "waiting": an agent, who sees Waiting; "team": a member of its team; "assignee",
    "preferred": the person is its assignee or preferred agent). Made from the rule, so the
    script cannot drift from it."""
    return {
        status: sorted(
            _RELATIONS[audience]
            for audience in audiences_of(Placement(status=status, **_SAMPLE))
        )
        for status in Status.values
    }
