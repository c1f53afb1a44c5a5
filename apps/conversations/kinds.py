"""What a history event says happened and who did it (``ConversationEvent.kind`` and
``actor_kind``)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventKind(models.TextChoices):
    ROUTED = "routed", _("Routed to a team")
    QUEUED = "queued", _("Queued")
    WAITING = "waiting", _("Left in Waiting")
    RESERVED = "reserved", _("Reserved for preferred agent")
    RELEASED = "released", _("Reservation released")
    ASSIGNED = "assigned", _("Assigned")
    CLAIMED = "claimed", _("Claimed")
    TRANSFERRED = "transferred", _("Transferred")
    CLOSED = "closed", _("Closed")
    HANDED_OVER = "handed_over", _("Taken back: no reply")
    REQUEUED = "requeued", _("Requeued: agent offline")
    GIVEN_BACK = "given_back", _("Given back: agent deactivated")
    RATED = "rated", _("Rated by the customer")
    STEP = "step", _("Ladder step passed")
    OVERFLOWED = "overflowed", _("Overflowed to another team")


# The kinds a report counts as moves (docs/reports.md). "overflowed" is the ladder's
# (routing.md section 9): counted when such events exist.
MOVEMENT_KINDS = ("transferred", "handed_over", "requeued", "overflowed")


class ActorKind(models.TextChoices):
    AGENT = "agent", _("Agent")
    SUPERVISOR = "supervisor", _("Supervisor")
    ADMIN = "admin", _("Administrator")
    BOT = "bot", _("Bot / integration")
    DISTRIBUTION = "distribution", _("Automatic distribution")
    PREFERENTIAL_RULE = "preferential_rule", _("Preferential rule")
    TIME_RULE = "time_rule", _("Time rule")
    SYSTEM = "system", _("System")
    CUSTOMER = "customer", _("Customer")
    LADDER = "ladder", _("Ladder")
    STICKY = "sticky", _("Last agent first")
