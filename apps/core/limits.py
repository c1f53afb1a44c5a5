"""Bounds every app enforces, defined once (api.md "Limits")."""

import json

MAX_TEXT_LENGTH = 255  # names, usernames, emails, phones, external ids
MAX_BODY_LENGTH = 10_000  # a message body, in characters
MAX_RATING_COMMENT_LENGTH = 2_000  # a customer's comment on their rating
MAX_CAPACITY = 10_000  # an agent's limit of open conversations
MAX_ID = 2**63 - 1  # a 64-bit primary key
MAX_PATH_ID = 10**18 - 1  # the longest id a URL may carry (18 digits)


def is_id(value) -> bool:
    """A positive 64-bit integer as JSON gives it (not a boolean, not a string)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID

MAX_REQUEST_BODY_BYTES = 1024 * 1024  # any HTTP request body: larger ones are a 413
MAX_JSON_DEPTH = 64  # nesting levels of arrays and objects in any JSON we are sent
JSON_TOO_DEEP = f"JSON nested deeper than {MAX_JSON_DEPTH} levels is refused."


class JsonTooDeep(ValueError):
    pass


def json_depth_within(value, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether parsed JSON nests at most ``limit`` arrays and objects deep (iteratively: a
    recursive walk is what deep JSON breaks)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if depth > limit:
            return False
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return True


def _no_constants(name):
    raise ValueError(f"{name} is not valid JSON")


def loads_bounded_json(text):
    """``json.loads`` that refuses JSON nested deeper than MAX_JSON_DEPTH (JsonTooDeep, a
    ValueError like any other malformed JSON) instead of exhausting the stack, and NaN or
    Infinity (not JSON either)."""
    try:
        value = json.loads(text, parse_constant=_no_constants)
    except RecursionError as error:
        raise JsonTooDeep(JSON_TOO_DEEP) from error
    if isinstance(value, (dict, list)) and not json_depth_within(value):
        raise JsonTooDeep(JSON_TOO_DEEP)
    return value
MAX_WAIT_SECONDS = 30 * 24 * 3600  # any time rule's seconds (a wait, a reply, an absence)
