"""Acting on the time rules' deadlines (routing.md section 8, docs/time-rules.md).

``act_on_due(kind=...)`` is what a woken worker and the periodic sweep both run: it takes
the due rows of one team at a time in batches (``SELECT ... FOR UPDATE SKIP LOCKED``, so
concurrent runs share the work and never wait on each other), and acts on each row it
holds only if it is still due in the same state. A row another run acted on no longer
matches (its deadline is cleared in the same transaction), so no deadline is acted on twice.

- Reservation ended (``reserved_until``): back to its team (or Waiting), still starred.
- No first reply (``reply_due_at``): taken back from the agent, who is told, into the team,
  never automatically back to them.
- Offline too long (``User.offline_since`` + the team's ``offline_requeue_seconds``): the
  agent's open conversations in that team go back to the team.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Presence
from apps.conversations.models import Conversation, EventKind, Status
from apps.conversations.reasons import part
from apps.core.announce import announce
from apps.core.db import retry_on_deadlock
from apps.core.time import iso
from apps.routing.events import HandedOver, Handover
from apps.routing.services.history import announce_changes
from apps.routing.services.requeue import return_to_team
from apps.routing.services.time_rules import DeadlineKind, arm_next
from apps.teams.models import Team

BATCH_SIZE = 200
PERSON = ("name", "first_name", "last_name", "username")  # a display name
ROW_FIELDS = (  # what acting on a due row reads, and no more
    "status", "team", "assignee", "preferred_agent", "contact", "queued_at", "assigned_at",
    "reserved_until", "reply_due_at", "ladder_step", "next_step_at", "contact__name",
    "contact__external_id", "integration",
    *(f"assignee__{f}" for f in (*PERSON, "offline_since")),
    *(f"preferred_agent__{f}" for f in PERSON),
)


def act_on_due(*, kind: str) -> int:
    """Act on every deadline of ``kind`` that is due now, then arm the wake-up of the next
    one. Returns how many conversations moved."""
    from apps.routing.services.ladder import take_due_steps  # it imports this module

    run = {
        DeadlineKind.LADDER: take_due_steps,
        DeadlineKind.RESERVATION: _end_reservations,
        DeadlineKind.REPLY: _hand_over_unanswered,
        DeadlineKind.OFFLINE: _requeue_offline,
    }[DeadlineKind(kind)]
    moved = run(now=timezone.now())
    arm_next(kind)
    return moved


def sweep_deadlines() -> dict[str, int]:
    """The safety net: whatever a lost wake-up left due, and the next wake-ups."""
    return {kind.value: act_on_due(kind=kind) for kind in DeadlineKind}


def _each_team_in_batches(due, now, act) -> int:
    """Run ``act(team, rows)`` on the locked due rows of ``due`` (a queryset), one team
    per transaction, BATCH_SIZE rows at a time, until none is left that nobody holds."""
    moved = 0
    team_ids = list(due.order_by().values_list("team_id", flat=True).distinct())
    teams = Team.objects.in_bulk([t for t in team_ids if t is not None])
    for team_id in sorted(team_ids, key=lambda t: (t is None, t or 0)):
        while True:
            done, taken = _batch(due.filter(team_id=team_id), teams.get(team_id), act)
            moved += done
            if taken < BATCH_SIZE or done == 0:
                break
    return moved


@retry_on_deadlock
def _batch(due, team, act) -> tuple[int, int]:
    with transaction.atomic():
        rows = list(
            due.select_related("contact", "assignee", "preferred_agent")
            .only(*ROW_FIELDS)
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("pk")[:BATCH_SIZE]
        )
        if not rows:
            return 0, 0
        for row in rows:
            row.team = team
        return len(act(team, rows)), len(rows)


# --------------------------------------------------------------------------- 8.1 reservations


def _end_reservations(*, now) -> int:
    due = Conversation.objects.filter(
        status=Status.RESERVED, reserved_until__isnull=False, reserved_until__lte=now
    )

    def act(team, rows):
        reasons, data, acted = {}, {}, iso(now)
        for c in rows:
            limit = round((c.reserved_until - c.queued_at).total_seconds())
            agent = c.preferred_agent.display_name
            reasons[c.pk] = [
                part("reservation_expired", agent=agent, limit=limit, team=team.name)
                if team is not None
                else part("reservation_expired_waiting", agent=agent, limit=limit)
            ]
            data[c.pk] = {"deadline": iso(c.reserved_until), "acted_at": acted}
        return return_to_team(team, rows, kind=EventKind.RELEASED, reasons=reasons, data=data)

    return _each_team_in_batches(due, now, act)


# --------------------------------------------------------------------------- 8.2 first reply


def _hand_over_unanswered(*, now) -> int:
    due = Conversation.objects.filter(
        status=Status.ASSIGNED, reply_due_at__isnull=False, reply_due_at__lte=now
    )

    def act(team, rows):
        reasons, data, holders, limits, acted = {}, {}, {}, {}, iso(now)
        for c in rows:
            limits[c.pk] = round((c.reply_due_at - c.assigned_at).total_seconds())
            reasons[c.pk] = [
                part(
                    "no_reply_handed_over", agent=c.assignee.display_name,
                    limit=limits[c.pk], team=team.name,
                )
            ]
            data[c.pk] = {"deadline": iso(c.reply_due_at), "acted_at": acted}
            holders[c.pk] = c.assignee_id
        moved = return_to_team(
            team, rows, kind=EventKind.HANDED_OVER, reasons=reasons, data=data,
            pass_over_holder=True,
        )
        if moved:
            announce(HandedOver(handovers=tuple(
                Handover(
                    conversation_id=c.pk, agent_id=holders[c.pk], team_id=team.pk,
                    team_name=team.name, contact_name=str(c.contact),
                    reply_seconds=limits[c.pk], at=acted,
                )
                for c in moved
            )))
        return moved

    return _each_team_in_batches(due, now, act)


def reply_sent(*, conversation: Conversation, author_id: int) -> bool:
    """The assignee answered (inside post_reply's transaction, which holds the row): their
    first reply ends the handover clock. Returns whether a deadline was cleared."""
    if (
        conversation.reply_due_at is None
        or conversation.status != Status.ASSIGNED
        or conversation.assignee_id != author_id
    ):
        return False
    Conversation.objects.filter(pk=conversation.pk).update(reply_due_at=None)
    conversation.reply_due_at = None
    announce_changes([(conversation.pk, conversation.placement, conversation.placement)])
    return True


def first_reply_rule_off(*, team_id: int) -> int:
    """The team no longer hands over unanswered conversations: pending handovers are
    cancelled (a changed, still positive limit leaves the deadlines already set as they
    are). Returns how many were cancelled."""
    with transaction.atomic():
        pending = list(
            Conversation.objects.filter(
                team_id=team_id, status=Status.ASSIGNED, reply_due_at__isnull=False
            )
            .select_for_update()
            .order_by("pk")
        )
        Conversation.objects.filter(pk__in=[c.pk for c in pending]).update(reply_due_at=None)
        announce_changes([(c.pk, c.placement, c.placement) for c in pending])
        return len(pending)


# --------------------------------------------------------------------------- 8.3 offline


def _requeue_offline(*, now) -> int:
    limits = dict(
        Team.objects.filter(offline_requeue_seconds__isnull=False).values_list(
            "pk", "offline_requeue_seconds"
        )
    )
    if not limits:
        return 0
    # Only the teams where someone has been offline at least the shortest limit.
    candidates = (
        Conversation.objects.filter(
            status=Status.ASSIGNED, team_id__in=list(limits),
            assignee__presence=Presence.OFFLINE,
            assignee__offline_since__lte=now - timedelta(seconds=min(limits.values())),
        )
        .order_by()
        .values_list("team_id", flat=True)
        .distinct()
    )
    moved = 0
    for team in Team.objects.filter(pk__in=list(candidates)).order_by("pk"):
        limit = team.offline_requeue_seconds
        cutoff = now - timedelta(seconds=limit)
        due = Conversation.objects.filter(
            team_id=team.pk,
            status=Status.ASSIGNED,
            assignee__presence=Presence.OFFLINE,
            assignee__offline_since__lte=cutoff,
        )

        def still_offline(conversation, holder, cutoff=cutoff):
            presence, since = holder or (None, None)
            return presence == Presence.OFFLINE and since is not None and since <= cutoff

        def act(team, rows, limit=limit, still_offline=still_offline):
            reasons = {
                c.pk: [
                    part(
                        "offline_requeued", agent=c.assignee.display_name, limit=limit,
                        team=team.name,
                    )
                ]
                for c in rows
            }
            data = {c.pk: {"offline_since": iso(c.assignee.offline_since)} for c in rows}
            return return_to_team(
                team, rows, kind=EventKind.REQUEUED, reasons=reasons, data=data,
                still_due=still_offline,
            )

        moved += _each_team_in_batches(due, now, act)
    return moved
