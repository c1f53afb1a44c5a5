"""Presence (routing.md section 5): online, away, offline; heartbeats and the stale sweep.

Coming online lets distribution run (reserved conversations, then ``capacity`` backlogs);
leaving online releases the conversations reserved for the agent at once.
"""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import Presence, User
from apps.core.announce import announce
from apps.core.errors import InvalidInput
from apps.routing.errors import UnknownTarget
from apps.routing.events import PresenceChanged
from apps.routing.services.backlog import release_reservations
from apps.routing.services.history import Actor
from apps.routing.services.load import distribute_when_available

HEARTBEAT_EVERY_SECONDS = 15


def set_presence(*, agent: User, status: str, actor: Actor = None) -> str:
    """Change an agent's presence. Returns the presence before the change."""
    if status not in Presence.values:
        raise InvalidInput(
            _("Presence must be one of %(values)s.") % {"values": ", ".join(Presence.values)},
            field="status",
        )
    now = timezone.now()
    with transaction.atomic():
        before = (
            User.objects.select_for_update().filter(pk=agent.pk).values_list("presence", flat=True)
        ).first()
        if before is None:
            raise UnknownTarget(_("There is no agent with id %(id)s.") % {"id": agent.pk})
        User.objects.filter(pk=agent.pk).update(presence=status, last_heartbeat=now)
        agent.presence = status
        agent.last_heartbeat = now
        if before != status:
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
    """Agents with no heartbeat for ``timeout_seconds`` become offline."""
    cutoff = timezone.now() - timezone.timedelta(seconds=timeout_seconds)
    stale = User.objects.filter(
        ~Q(presence=Presence.OFFLINE),
        Q(last_heartbeat__lt=cutoff) | Q(last_heartbeat__isnull=True),
    )
    swept = 0
    for agent in stale:
        set_presence(agent=agent, status=Presence.OFFLINE)
        swept += 1
    return swept
