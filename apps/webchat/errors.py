"""The web chat's refusals: each is a JSON ``{"detail", "code"}`` on its public endpoints and
a ``refused`` message on its socket; none changes anything."""

from apps.core.errors import DomainError, NotAllowed, NotFound


class UnknownChat(NotFound):
    """An unknown or disabled public key."""

    code = "unknown_key"


class OriginRefused(NotAllowed):
    code = "origin_not_allowed"


class BadIdentity(NotAllowed):
    """A hash that is not the HMAC of the external id, or a visitor token not signed here."""

    code = "bad_hash"


class TooMany(DomainError):
    status_code = 429
    code = "rate_limited"
