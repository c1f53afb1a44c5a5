"""The conversations app's own refusals (intake and replies raise the routing engine's)."""

from apps.core.errors import Conflict


class NotYetClosed(Conflict):
    """A rating comes after the conversation is closed."""

    code = "not_closed"


class AlreadyRated(Conflict):
    code = "already_rated"


class AnotherIntegrations(Conflict):
    """An integration's inbound for a contact whose open conversation another integration
    (or a person) opened: it is not its own (apps.conversations.visibility)."""

    code = "not_its_conversation"
