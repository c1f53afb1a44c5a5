"""API authentication: ``Authorization: Token <key>`` for people and integration clients."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.authtoken.models import Token

from apps.accounts.models import IntegrationClient, hash_token


class TokenAuthentication(BaseAuthentication):
    """A person's authtoken Token, or an integration client's token (stored hashed).

    Inactive people and revoked clients are refused (401). ``authenticate_header`` makes DRF
    answer 401, not 403, to a request without credentials.
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
        # authtoken keys are 40 characters; integration tokens are longer and never match.
        token = (
            Token.objects.select_related("user").filter(key=key).first()
            if len(key) <= 40
            else None
        )
        if token is not None:
            if not token.user.is_active:
                raise exceptions.AuthenticationFailed(_("This account is deactivated."))
            return token.user, token
        client = IntegrationClient.objects.filter(
            token_hash=hash_token(key), revoked_at__isnull=True
        ).first()
        if client is not None:
            return client, client
        raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))

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
