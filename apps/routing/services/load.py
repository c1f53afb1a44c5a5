"""Agents' load and rotation: the primitives every assignment uses.

An agent's load is ``User.open_count``; every +1/-1 runs in the transaction of the
assignment. Automatic distribution raises it only through ``take_capacity``, one
conditional UPDATE that no number of concurrent workers can push past a limit.
"""

from django.db import connection
from django.db.models import F, Q

from apps.accounts.models import Presence, User
from apps.core.queue import enqueue_on_commit
from apps.routing.decisions import Candidate
from apps.teams.models import Membership


def take_capacity(agent_id: int, *, skip_locked: bool = False) -> bool:
    """Raise an online agent's load by one if they are below their limit: the one place where
    automatic distribution checks capacity, as a single conditional UPDATE. With
    ``skip_locked`` an agent whose row another transaction holds is passed over at once
    instead of waited for (concurrent arrivals spread out instead of queueing on one row)."""
    target = Q(pk=agent_id)
    if skip_locked and connection.vendor == "postgresql":
        target = Q(
            pk__in=User.objects.filter(pk=agent_id)
            .select_for_update(skip_locked=True)
            .values("pk")
        )
    return (
        User.objects.filter(
            target,
            presence=Presence.ONLINE,
            is_active=True,
            open_count__lt=F("capacity"),
        ).update(open_count=F("open_count") + 1)
        == 1
    )


def take_and_touch(
    agent_id: int, team_id: int | None, now, *, skip_locked: bool = False
) -> User | None:
    """``take_capacity`` and, when it succeeds, ``touch_rotation``: on PostgreSQL one
    statement (the conditional UPDATE of the agent's load, the membership's rotation
    touched only for a row it raised), so the guarantee is ``take_capacity``'s own. Returns
    the agent as the UPDATE left them (their limit is the one it checked), or None."""
    users, members = User._meta.db_table, Membership._meta.db_table
    quote = connection.ops.quote_name
    fields = [f.attname for f in User._meta.concrete_fields]
    columns = ", ".join(quote(f.column) for f in User._meta.concrete_fields)
    take = (
        f"UPDATE {users} SET open_count = open_count + 1 WHERE id = %s AND presence = %s"
        " AND is_active AND open_count < capacity"
    )
    params: list = [agent_id, Presence.ONLINE]
    if connection.vendor != "postgresql":  # SQLite: one writer at a time, two statements
        with connection.cursor() as cursor:
            cursor.execute(f"{take} RETURNING {columns}", params)
            row = cursor.fetchone()
        if row is None:
            return None
        touch_rotation(team_id, agent_id, now)
        return User.from_db(connection.alias, fields, row)
    if skip_locked:
        take += f" AND id IN (SELECT id FROM {users} WHERE id = %s FOR UPDATE SKIP LOCKED)"
        params.append(agent_id)
    sql = f"WITH taken AS ({take} RETURNING {columns})"
    if team_id:
        sql += (
            f", touched AS (UPDATE {members} SET last_assigned_at = %s"
            " WHERE team_id = %s AND agent_id IN (SELECT id FROM taken))"
        )
        params += [now, team_id]
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} SELECT {columns} FROM taken", params)
        row = cursor.fetchone()
    return None if row is None else User.from_db(connection.alias, fields, row)


def shift_loads(deltas: dict[int, int]) -> None:
    """Apply load changes (manual assignments may go above the limit), rows in id order."""
    for agent_id in sorted(deltas):
        delta = deltas[agent_id]
        if delta:
            User.objects.filter(pk=agent_id).update(open_count=F("open_count") + delta)


def touch_rotation(team_id: int | None, agent_id: int, now) -> None:
    if team_id:
        Membership.objects.filter(team_id=team_id, agent_id=agent_id).update(last_assigned_at=now)


def take_rotation_slot(team_id: int, chosen: Candidate, now) -> bool:
    """Advance the rotation only if nobody advanced it for this member since we looked, so
    that concurrent arrivals spread over members instead of piling on one."""
    observed = (
        Q(last_assigned_at=chosen.last_assigned_at)
        if chosen.last_assigned_at
        else Q(last_assigned_at__isnull=True)
    )
    return (
        Membership.objects.filter(observed, team_id=team_id, agent_id=chosen.agent_id).update(
            last_assigned_at=now
        )
        == 1
    )


def distribute_when_available(agent_id: int | None) -> None:
    """The agent came online, freed capacity or had their limit raised: once this
    transaction commits, a worker gives them their reserved conversations and their
    ``capacity`` teams' backlog."""
    if agent_id:
        from apps.routing.tasks import agent_available  # tasks import the services

        enqueue_on_commit(agent_available, agent_id)

