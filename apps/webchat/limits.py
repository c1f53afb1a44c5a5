"""The web chat's limits, per public key and per address: new conversations and messages a
minute, open connections. Counters live in the cache (Redis with REDIS_URL, so every server
process counts together; this process's memory in embedded mode). If the cache cannot be
reached the limit is not applied (the chat keeps working; the failure is logged) rather
than refusing every customer."""

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from apps.webchat.errors import TooMany

logger = logging.getLogger(__name__)

PREFIX = "webchat.limit."
CONNECTION_TTL = 3600  # a counter a crashed process never lowered fades after this long


def _limit(name: str) -> int:
    return int(getattr(settings, name))


def _incr(key: str, timeout: int) -> int | None:
    try:
        cache.add(key, 0, timeout)
        return cache.incr(key)
    except Exception:  # the cache is down: do not limit, do not fail the customer
        logger.warning("web chat limit counter %s unavailable", key, exc_info=True)
        return None


def _decr(key: str) -> None:
    try:
        cache.decr(key)
    except ValueError:
        pass  # expired meanwhile
    except Exception:
        logger.warning("web chat limit counter %s unavailable", key, exc_info=True)


PER_MINUTE = {
    # what: (setting per key, setting per address, refusal)
    "conversation": (
        "WEBCHAT_CONVERSATIONS_PER_MINUTE_PER_KEY", "WEBCHAT_CONVERSATIONS_PER_MINUTE_PER_ADDRESS",
    ),
    "message": (
        "WEBCHAT_MESSAGES_PER_MINUTE_PER_KEY", "WEBCHAT_MESSAGES_PER_MINUTE_PER_ADDRESS",
    ),
}


def count_per_minute(what: str, *, key: str, address: str) -> None:
    """Count one ``what`` ("conversation" or "message") for the key and the address in
    this minute; TooMany (and nothing done) past either limit."""
    per_key, per_address = PER_MINUTE[what]
    minute = int(time.time() // 60)
    counted_key = _incr(f"{PREFIX}{what}.k.{key}.{minute}", 90)
    counted_address = _incr(f"{PREFIX}{what}.a.{address}.{minute}", 90)
    if (counted_key or 0) > _limit(per_key) or (counted_address or 0) > _limit(per_address):
        if what == "conversation":
            raise TooMany(_("Too many new conversations from here: try again in a minute."))
        raise TooMany(_("Too many messages: wait a moment before writing again."))


def message_too_long(body) -> bool:
    return isinstance(body, str) and len(body) > _limit("WEBCHAT_MAX_MESSAGE_CHARS")


def open_connection(*, key: str, address: str) -> None:
    """Count an open socket of the key and of the address; TooMany (and not counted) past
    either limit."""
    names = (f"{PREFIX}open.k.{key}", f"{PREFIX}open.a.{address}")
    counted = [_incr(name, CONNECTION_TTL) for name in names]
    limits = (_limit("WEBCHAT_CONNECTIONS_PER_KEY"), _limit("WEBCHAT_CONNECTIONS_PER_ADDRESS"))
    if any((c or 0) > limit for c, limit in zip(counted, limits, strict=True)):
        for name, c in zip(names, counted, strict=True):
            if c is not None:
                _decr(name)
        raise TooMany(_("Too many chat windows are open from here."))


def close_connection(*, key: str, address: str) -> None:
    _decr(f"{PREFIX}open.k.{key}")
    _decr(f"{PREFIX}open.a.{address}")
