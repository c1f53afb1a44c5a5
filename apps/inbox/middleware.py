"""Websocket authentication: the Django session, or ``?token=<key>`` (a person's authtoken
Token) for non-browser clients. Integration tokens and inactive people get no user (the
consumer refuses anonymous connections before accepting them)."""

from urllib.parse import parse_qs

from channels.auth import AuthMiddleware
from channels.db import database_sync_to_async
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.contrib.auth.models import AnonymousUser
from rest_framework.authtoken.models import Token

MAX_TOKEN_LENGTH = 40  # authtoken keys; integration tokens are longer and never match


def token_from_scope(scope) -> str | None:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    values = query.get("token")
    return values[0] if values else None


def person_for_token(key: str):
    if not key or len(key) > MAX_TOKEN_LENGTH:
        return AnonymousUser()
    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return AnonymousUser()
    return token.user


class _TokenOrSessionAuth(AuthMiddleware):
    async def resolve_scope(self, scope):
        key = token_from_scope(scope)
        if key is None:
            await super().resolve_scope(scope)
        else:
            # A token that is given decides alone: a bad one never falls back to a session.
            scope["user"]._wrapped = await database_sync_to_async(person_for_token)(key)


def TokenOrSessionAuthMiddleware(inner):  # noqa: N802 - a middleware stack, named like one
    return CookieMiddleware(SessionMiddleware(_TokenOrSessionAuth(inner)))
