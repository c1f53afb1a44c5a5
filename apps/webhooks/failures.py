"""Why a delivery attempt failed, in words.

The worker writes the reason in English into ``Delivery.last_error`` (the API shows it as
it is, docs/webhooks.md); the admin reads it back in the reader's language: each phrase is
a translatable template, recognised in the stored text and rendered again through the
catalogue. A reason that matches no phrase (a receiver's own answer, a library's message)
is shown as it was stored.
"""

import re
from functools import cache

from django.utils.translation import gettext, gettext_noop

# Reasons, most specific first ("%(kind)s: %(detail)s" matches almost anything).
REFUSED = gettext_noop("refused: %(detail)s")
HTTP = gettext_noop("HTTP %(status)s: %(body)s")
CANNOT_CONNECT = gettext_noop("cannot connect to %(address)s: %(detail)s")
NO_ADDRESS = gettext_noop("no address to connect to")
NO_ANSWER = gettext_noop("no answer within %(seconds)s s")
OTHER = gettext_noop("%(kind)s: %(detail)s")
REASONS = (NO_ADDRESS, NO_ANSWER, CANNOT_CONNECT, REFUSED, HTTP, OTHER)

# What may stand in a reason's %(detail)s (the first three are apps.webhooks.targets', the
# last apps.webhooks.crypto's).
DETAILS = (
    gettext_noop("%(host)s does not resolve (%(error)s)"),
    gettext_noop("%(host)s does not resolve"),
    gettext_noop(
        "%(address)s is a loopback, private or otherwise non-public address "
        "(WEBHOOK_ALLOW_PRIVATE is off)"
    ),
    gettext_noop("connection refused"),
    gettext_noop(
        "The webhook secret cannot be decrypted (was SECRET_KEY changed?): set a new one."
    ),
)
CONNECTION_REFUSED = DETAILS[3]


def reason(template: str, **params) -> str:
    """The reason as stored: the English template with its values."""
    return template % params


def connect_detail(error: Exception) -> str:
    """A connection error's detail, in a phrase of DETAILS when it is a common one."""
    text = str(error)
    if "Connection refused" in text or isinstance(error.__cause__, ConnectionRefusedError):
        return CONNECTION_REFUSED
    return text


@cache
def _pattern(template: str) -> re.Pattern:
    parts = re.split(r"%\((\w+)\)s", template)
    regex = "".join(
        re.escape(part) if n % 2 == 0 else f"(?P<{part}>.*?)" for n, part in enumerate(parts)
    )
    return re.compile(f"^{regex}$", re.DOTALL)


def _translate(text: str, templates: tuple[str, ...]) -> str:
    for template in templates:
        found = _pattern(template).match(text)
        if found is None:
            continue
        values = found.groupdict()
        if "detail" in values:
            values["detail"] = _translate(values["detail"], DETAILS)
        return gettext(template) % values
    return text


def translated(stored: str) -> str:
    """A stored reason in the active language (unchanged when no phrase matches)."""
    return _translate(stored, REASONS) if stored else stored
