"""The conversations app's own refusals (intake and replies raise the routing engine's)."""

from apps.core.errors import Conflict


class NotYetClosed(Conflict):
    """A rating comes after the conversation is closed."""

    code = "not_closed"


class AlreadyRated(Conflict):
    code = "already_rated"
