"""Presence (routing.md section 5): online, away, offline; heartbeats and the stale sweep.

Coming online lets distribution run (reserved conversations, then ``capacity`` backlogs);
leaving online releases the conversations reserved for the agent at once.
"""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.history import agent_change_row, record_agent_change, record_agent_changes
from apps.accounts.models import AgentChangeKind, ChangeCause, Presence, User
from apps.core.announce import announce
from apps.core.errors import InvalidInput
from apps.routing.errors import AccountDeactivated, UnknownTarget
from apps.routing.events import PresenceChanged
from apps.routing.services.backlog import release_reservations
from apps.routing.services.history import Actor
from apps.routing.services.load import distribute_when_available
from apps.routing.services.time_rules import expect_offline

HEARTBEAT_EVERY_SECONDS = 15


def _chosen_by_themselves(agent: User, actor: Actor, cause: str | None) -> bool:
    return cause in (None, ChangeCause.CHOSE) and getattr(actor, "pk", None) == agent.pk \
        and not getattr(actor, "is_integration", False)


def set_presence(
    *, agent: User, status: str, actor: Actor = None, cause: str | None = None
) -> str:
    """Change an agent's presence. Returns the presence before the change. A change is
    recorded in the history of people with its ``cause`` (by default: the agent chose it,
    a person changed it, or the system did, from ``actor``)."""
    if status not in Presence.values:
        raise InvalidInput(
            _("Presence must be one of %(values)s.") % {"values": ", ".join(Presence.values)},
            field="status",
        )
    now = timezone.now()
    with transaction.atomic():
        row = (
            User.objects.select_for_update()
            .filter(pk=agent.pk)
            .values_list("presence", "is_active")
            .first()
        )
        if row is None:
            raise UnknownTarget(_("There is no agent with id %(id)s.") % {"id": agent.pk})
        before, active = row
        if not active and status != Presence.OFFLINE:
            raise AccountDeactivated(
                _("This account is deactivated: it cannot be online or away.")
            )
        changes = {"presence": status, "last_heartbeat": now}
        if status != Presence.OFFLINE and _chosen_by_themselves(agent, actor, cause):
            # Their choice outlives connections and restarts: a new tab or a reconnect
            # after any restart (Redis's included) keeps them away (apps.inbox.presence).
            changes["chose_away"] = status == Presence.AWAY
        if status != Presence.OFFLINE:
            changes["offline_since"] = None
        elif before != Presence.OFFLINE:
            changes["offline_since"] = now  # teams may requeue after their limit
            expect_offline(agent.pk, now)
        User.objects.filter(pk=agent.pk).update(**changes)
        for field, value in changes.items():
            setattr(agent, field, value)
        if before != status:
            record_agent_change(
                agent_id=agent.pk, kind=AgentChangeKind.PRESENCE, before=before, after=status,
                actor=actor, cause=cause, at=now,
            )
            announce(PresenceChanged(agent_id=agent.pk, presence=status))
            if status == Presence.ONLINE:
                distribute_when_available(agent.pk)
    if before == Presence.ONLINE and status != Presence.ONLINE:
        release_reservations(agent_id=agent.pk)
    return before


def record_heartbeat(*, agent: User, every_seconds: int = HEARTBEAT_EVERY_SECONDS) -> None:
    """Any request of the agent's is a heartbeat; written at most every few seconds."""
    now = timezone.now()
    if agent.last_heartbeat and (now - agent.last_heartbeat).total_seconds() < every_seconds:
        return
    User.objects.filter(pk=agent.pk).update(last_heartbeat=now)
    agent.last_heartbeat = now


def sweep_stale_presence(*, timeout_seconds: int) -> int:
    """Agents with no heartbeat for ``timeout_seconds`` become offline.

    After a crash many agents are stale at once: all of them are marked offline first, in
    one transaction, and only then are their reservations released, so that what one of
    them held is never handed to another who is just as gone."""
    cutoff = timezone.now() - timezone.timedelta(seconds=timeout_seconds)
    stale = Q(
        ~Q(presence=Presence.OFFLINE),
        Q(last_heartbeat__lt=cutoff) | Q(last_heartbeat__isnull=True),
    )
    now = timezone.now()
    with transaction.atomic():
        # Locked in id order; the condition is checked again under the lock (a heartbeat may
        # have come in meanwhile).
        swept = list(
            User.objects.select_for_update()
            .filter(stale)
            .order_by("pk")
            .values_list("pk", "presence")
        )
        ids = [pk for pk, _before in swept]
        User.objects.filter(pk__in=ids).update(
            presence=Presence.OFFLINE, last_heartbeat=now, offline_since=now
        )
        record_agent_changes([
            agent_change_row(
                agent_id=pk, kind=AgentChangeKind.PRESENCE, before=before,
                after=Presence.OFFLINE, cause=ChangeCause.SWEPT, at=now,
            )
            for pk, before in swept
        ])
        for pk in ids:
            announce(PresenceChanged(agent_id=pk, presence=Presence.OFFLINE))
            expect_offline(pk, now)
    for pk, before in swept:
        if before == Presence.ONLINE:
            release_reservations(agent_id=pk)
    return len(swept)
