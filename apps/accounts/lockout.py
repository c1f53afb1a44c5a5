"""Failed sign-ins (django-axes, docs/decisions.md "Failed sign-ins").

Axes locks the (username, address) pair: ``AXES_FAILURE_LIMIT`` failures of one username
from one address lock that pair for ``AXES_COOLOFF_TIME``; one person's typos never lock
their colleagues behind the same address, and nobody can lock a named account out from
elsewhere. ``LockoutHandler`` (axes' cache handler, ``AXES_HANDLER``) adds two counts of its
own in the same cache:

- per address, a much higher ceiling (``LOGIN_ADDRESS_FAILURE_LIMIT``) against password
  spraying: past it the address is locked like a pair;
- per username, failures from anywhere: never a lock, only a sign that the username is under
  attack (``LOGIN_SUSPECT_FAILURES``), so that its sign-ins wait in a lane of their own and
  do not starve everyone else's (apps.accounts.backends).

Every counted failure stores when its lock would end, so ``Retry-After`` is the time that
really remains.
"""

import hashlib
import math
import time

from axes.handlers.cache import AxesCacheHandler
from axes.helpers import (
    get_cache_timeout,
    get_client_cache_keys,
    get_client_ip_address,
    get_client_username,
    get_cool_off,
)
from axes.signals import user_locked_out
from django.conf import settings
from django.shortcuts import render
from django.utils.translation import gettext as _

from apps.core.http import json_refusal


def cool_off_seconds(request=None) -> int:
    cool_off = get_cool_off(request)
    return int(cool_off.total_seconds()) if cool_off else 300


def _digest(value) -> str:
    """Any username or address as a short, safe cache key part (axes hashes its own)."""
    return hashlib.sha256(str(value).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _address_key(address) -> str:
    return f"atende:signin:address:{_digest(address)}"


def _username_key(username) -> str:
    return f"atende:signin:username:{_digest(username)}"


def _until(key: str) -> str:
    return f"{key}:until"


class LockoutHandler(AxesCacheHandler):
    """Axes' cache handler (the pair) plus the per-address ceiling and the per-username
    count of failures; see the module's docstring."""

    def address_failures(self, request) -> int:
        return self.cache.get(_address_key(get_client_ip_address(request)), default=0)

    def username_failures(self, username) -> int:
        if not isinstance(username, str):
            return 0
        return self.cache.get(_username_key(username), default=0)

    def is_locked(self, request, credentials=None) -> bool:
        return super().is_locked(request, credentials) or (
            self.address_failures(request) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT
        )

    def _count(self, key: str, timeout: int) -> int:
        if self.cache.add(key, 1, timeout=timeout):
            count = 1
        else:
            count = self.cache.incr(key)
            self.cache.touch(key, timeout=timeout)
        self.cache.set(_until(key), time.time() + timeout, timeout=timeout)
        return count

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        if request is None:
            return super().user_login_failed(sender, credentials, request, **kwargs)
        if getattr(request, "atende_failure_counted", False):
            return None  # counted already, inside the hashing slot (backends.py)
        request.atende_failure_counted = True
        refused = request.axes_locked_out  # refused during a lockout: not counted again
        super().user_login_failed(sender, credentials, request, **kwargs)
        if refused or self.is_whitelisted(request, credentials):
            return None
        timeout = get_cache_timeout(request) or cool_off_seconds()
        for key in get_client_cache_keys(request, credentials):
            self.cache.set(_until(key), time.time() + timeout, timeout=timeout)
        username = get_client_username(request, credentials)
        if isinstance(username, str):
            self._count(_username_key(username), timeout)
        address = self._count(_address_key(request.axes_ip_address), timeout)
        if address >= settings.LOGIN_ADDRESS_FAILURE_LIMIT and not request.axes_locked_out:
            request.axes_locked_out = True
            request.axes_credentials = credentials
            user_locked_out.send(
                "axes", request=request, username=username, ip_address=request.axes_ip_address
            )
        return None

    def remaining_seconds(self, request, credentials=None) -> int:
        """How long the lock on this sign-in (its pair, or its address) still lasts."""
        ends = []
        if super().is_locked(request, credentials):
            ends += [self.cache.get(_until(k)) for k in get_client_cache_keys(request, credentials)]
        if self.address_failures(request) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            ends.append(self.cache.get(_until(_address_key(get_client_ip_address(request)))))
        ends = [end for end in ends if end is not None]
        if not ends:
            return cool_off_seconds(request)
        return max(1, math.ceil(max(ends) - time.time()))


def handler() -> LockoutHandler:
    from axes.handlers.proxy import AxesProxyHandler

    return AxesProxyHandler.get_implementation()


def retry_after(request, credentials=None) -> int:
    implementation = handler()
    if isinstance(implementation, LockoutHandler):
        return implementation.remaining_seconds(request, credentials)
    return cool_off_seconds(request)


def is_suspect(username) -> bool:
    """Whether a username has failed often enough lately (from anywhere) that its sign-ins
    are likely a flood: they hash in a lane of their own."""
    implementation = handler()
    return isinstance(implementation, LockoutHandler) and (
        implementation.username_failures(username) >= settings.LOGIN_SUSPECT_FAILURES
    )


def lockout_detail(seconds: int) -> str:
    return _(
        "Too many failed sign-ins for this username from this address, or from this "
        "address: try again in %(minutes)s minutes."
    ) % {"minutes": max(1, math.ceil(seconds / 60))}


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: 429 with Retry-After (the time the lock still lasts); JSON on
    the API, a page elsewhere (the login page, the admin login)."""
    seconds = retry_after(request, credentials or getattr(request, "axes_credentials", None))
    detail = lockout_detail(seconds)
    if request.path.startswith("/api/"):
        return json_refusal(429, detail, Retry_After=seconds)
    response = render(request, "registration/locked_out.html", {"detail": detail}, status=429)
    response["Retry-After"] = str(seconds)
    return response
