"""The history of people: every change to an agent is one ``AgentChange`` row, written in
the transaction of the change by the service that makes it (as Zulip keeps its
``RealmAuditLog``). What, from, to, who did it (``actor``) and why (``cause``).

Services call ``record_agent_change`` (one row) or ``record_agent_changes`` (a batch, one
INSERT). Another app that changes agents calls them too; for skills:

    record_agent_change(agent_id=agent.pk, kind=AgentChangeKind.SKILLS,
                        before=[{"skill": 3, "level": 2}], after=[...], actor=actor)

Heartbeats are not changes and write nothing. Reads of the presence history (who was
online when, with which teams and capacity) are ``apps.reports.timeline``.
"""

from datetime import datetime

from django.utils import timezone

from apps.accounts.models import AgentChange, AgentChangeKind, ChangeCause, User


def cause_for(actor, agent_id: int) -> str:
    """Why, when the caller does not say: the agent's own choice, a person's edit, or the
    system's."""
    if actor is None:
        return ChangeCause.SYSTEM
    return ChangeCause.CHOSE if getattr(actor, "pk", None) == agent_id else ChangeCause.EDITED


def agent_change_row(
    *, agent_id: int, kind: str, before=None, after=None, actor=None, cause: str | None = None,
    at: datetime | None = None,
) -> AgentChange:
    """An unsaved row (for batches)."""
    return AgentChange(
        agent_id=agent_id,
        at=at or timezone.now(),
        kind=kind,
        before=before,
        after=after,
        actor=actor if isinstance(actor, User) else None,
        cause=cause or cause_for(actor, agent_id),
    )


def record_agent_change(**fields) -> AgentChange:
    """Write one change of an agent (call it inside the change's transaction)."""
    row = agent_change_row(**fields)
    row.save(force_insert=True)
    return row


def record_agent_changes(rows: list[AgentChange]) -> None:
    if rows:
        AgentChange.objects.bulk_create(rows)


def record_skills_change(*, agent_id: int, before, after, actor) -> AgentChange | None:
    """The skills service's hook: ``before``/``after`` as ``[{"skill": id, "level": n}]``.
    Nothing is written when they are the same."""
    if before == after:
        return None
    return record_agent_change(
        agent_id=agent_id, kind=AgentChangeKind.SKILLS, before=before, after=after, actor=actor
    )


__all__ = [
    "AgentChangeKind", "ChangeCause", "agent_change_row", "cause_for", "record_agent_change",
    "record_agent_changes", "record_skills_change",
]
