"""API authentication: ``Authorization: Token <key>`` for people and integration clients."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from apps.accounts.models import IntegrationClient, hash_token
from apps.accounts.services import person_token_for

INTEGRATION_PREFIX = "int_"
MAX_TOKEN_LENGTH = 200


class TokenAuthentication(BaseAuthentication):
    """A person's token (PersonToken) or an integration client's token, both stored hashed:
    one query either way (integration tokens start with ``int_``).

    Inactive people, expired person tokens and revoked clients are refused (401).
    ``authenticate_header`` makes DRF answer 401, not 403, to a request without credentials.
    """

    keyword = "Token"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                _("Invalid token header: send 'Authorization: Token <token>'.")
            )
        try:
            key = parts[1].decode("ascii")
        except UnicodeError as error:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from error
        return self.authenticate_credentials(key)

    def authenticate_credentials(self, key: str):
        if not key or len(key) > MAX_TOKEN_LENGTH:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        if key.startswith(INTEGRATION_PREFIX):
            client = IntegrationClient.objects.filter(
                token_hash=hash_token(key), revoked_at__isnull=True
            ).first()
            if client is not None:
                return client, client
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        token = person_token_for(key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        if token.expires_at <= timezone.now():
            raise exceptions.AuthenticationFailed(
                _("This token has expired: ask auth/token for a new one.")
            )
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("This account is deactivated."))
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema describes TokenAuthentication."""

    target_class = TokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'A token from auth/token (or an integration\'s), as "Token <token>".',
        }
