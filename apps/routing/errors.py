from apps.core.errors import Conflict, InvalidInput, NotAllowed, NotFound


class ConversationNotFound(NotFound):
    code = "conversation_not_found"


class ConversationAlreadyTaken(Conflict):
    """A lost race: someone else holds the conversation. Carries the current assignee."""

    code = "already_taken"

    def __init__(self, detail: str, *, assignee: dict | None):
        super().__init__(detail, assignee=assignee)
        self.assignee = assignee


class ConversationClosed(Conflict):
    code = "closed"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class NotAllowedToRoute(NotAllowed):
    code = "not_allowed"


class AccountDeactivated(NotAllowed):
    code = "deactivated"


class UnknownTarget(InvalidInput):
    code = "unknown_target"
