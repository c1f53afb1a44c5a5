"""Websocket authentication and origin checks.

A socket authenticates with ``?ticket=<ticket>`` (from POST /api/v1/ws-ticket: single-use,
short-lived), ``?token=<token>`` (a person's API token, for existing non-browser clients)
or the Django session cookie. A ticket or token that is given decides alone: a bad one
never falls back to the session. Integration tokens and inactive people get no user (the
consumer refuses anonymous connections before accepting them). The scope gets the
``credential`` the socket belongs to (apps.inbox.access).

Origins: a cookie is sent by the browser whatever page opens the socket, so a cookie
connection must come from an allowed origin, compared in full (scheme, host and port): the
site's own (its Host, which ALLOWED_HOSTS admits, with the scheme the client used) or one
of CSRF_TRUSTED_ORIGINS, as Django's CSRF check compares them. A ticket or token is not
ambient authority: such a connection needs no Origin (non-browser clients send none), but
one that sends a foreign Origin is refused like any other.
"""

import logging
from urllib.parse import parse_qs, urlsplit

from channels.auth import AuthMiddleware
from channels.db import database_sync_to_async
from channels.security.websocket import WebsocketDenier
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.request import split_domain_port, validate_host
from django.utils import timezone
from django.utils.http import is_same_domain
from redis.exceptions import RedisError

from apps.accounts.models import User, is_person
from apps.accounts.services import consume_ws_ticket, person_token_for
from apps.inbox.access import Credential

MAX_TOKEN_LENGTH = 200
logger = logging.getLogger(__name__)


def query_value(scope, name: str) -> str | None:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    values = query.get(name)
    return values[0] if values else None


def header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def person_for_token(key: str):
    """(user, credential) for a person's valid token; (AnonymousUser, None) otherwise."""
    if not key or len(key) > MAX_TOKEN_LENGTH:
        return AnonymousUser(), None
    token = person_token_for(key)
    if token is None or token.expires_at <= timezone.now() or not token.user.is_active:
        return AnonymousUser(), None
    return token.user, Credential(user_id=token.user_id, token_id=token.pk)


def person_for_ticket(raw: str):
    content = consume_ws_ticket(raw)
    if content is None:
        return AnonymousUser(), None
    user = User.objects.filter(pk=content["user"], is_active=True).first()
    if user is None:
        return AnonymousUser(), None
    return user, Credential(
        user_id=user.pk, token_id=content["token"], session_key=content["session"]
    )


def _is_secure(scope) -> bool:
    if scope.get("scheme") in ("wss", "https"):
        return True
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy:
        name, expected = proxy
        raw = name.removeprefix("HTTP_").lower().replace("_", "-").encode()
        value = header(scope, raw)
        return value is not None and value.split(",")[0].strip() == expected
    return False


def origin_allowed(scope) -> bool:
    origin = header(scope, b"origin")
    carries_credential = (
        query_value(scope, "ticket") is not None or query_value(scope, "token") is not None
    )
    if origin is None:
        return carries_credential
    origin = origin.lower()
    host = (header(scope, b"host") or "").lower()
    domain, _port = split_domain_port(host)
    own = f"{'https' if _is_secure(scope) else 'http'}://{host}"
    if domain and validate_host(domain, settings.ALLOWED_HOSTS) and origin == own:
        return True
    trusted = [o.lower() for o in settings.CSRF_TRUSTED_ORIGINS]
    if origin in trusted:
        return True
    parsed = urlsplit(origin)
    for pattern in trusted:
        if "*" in pattern:
            wanted = urlsplit(pattern)
            if parsed.scheme == wanted.scheme and is_same_domain(
                parsed.netloc, wanted.netloc.lstrip("*")
            ):
                return True
    return False


class _InboxSocketAuth(AuthMiddleware):
    async def __call__(self, scope, receive, send):
        if not origin_allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await super().__call__(scope, receive, send)

    async def resolve_scope(self, scope):
        try:
            await self._resolve(scope)
        except RedisError:
            logger.warning("inbox socket turned away: Redis is away", exc_info=True)
            # A ticket lives in the cache: with Redis away the consumer turns the socket
            # away with "try again later" (apps.inbox.consumers), never an error.
            scope["user"]._wrapped = AnonymousUser()
            scope["credential"] = None
            scope["live_unavailable"] = True

    async def _resolve(self, scope):
        ticket = query_value(scope, "ticket")
        token = query_value(scope, "token")
        if ticket is not None:
            user, credential = await database_sync_to_async(person_for_ticket)(ticket)
        elif token is not None:
            user, credential = await database_sync_to_async(person_for_token)(token)
        else:
            await super().resolve_scope(scope)
            user = scope["user"]._wrapped
            credential = (
                Credential(user_id=user.pk, session_key=scope["session"].session_key)
                if is_person(user)
                else None
            )
        scope["user"]._wrapped = user
        scope["credential"] = credential


class _KeepServerSend:
    """Puts the server's own ``send`` in the scope (``server_send``): the live inbox writes
    its pushes with it, past the session middleware's wrapper, which looks at the session on
    every message to save it on HTTP responses only (apps.inbox.hub)."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        return await self.inner(dict(scope, server_send=send), receive, send)


def InboxSocketAuthMiddleware(inner):  # noqa: N802 - a middleware stack, named like one
    return _KeepServerSend(CookieMiddleware(SessionMiddleware(_InboxSocketAuth(inner))))
