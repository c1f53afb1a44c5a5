"""Bounds every app enforces, defined once (api.md "Limits")."""

MAX_TEXT_LENGTH = 255  # names, usernames, emails, phones, external ids
MAX_BODY_LENGTH = 10_000  # a message body, in characters
MAX_CAPACITY = 10_000  # an agent's limit of open conversations
MAX_ID = 2**63 - 1  # a 64-bit primary key
MAX_PATH_ID = 10**18 - 1  # the longest id a URL may carry (18 digits)


def is_id(value) -> bool:
    """A positive 64-bit integer as JSON gives it (not a boolean, not a string)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID
MAX_WAIT_SECONDS = 30 * 24 * 3600  # any time rule's seconds (a wait, a reply, an absence)
