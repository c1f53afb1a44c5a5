"""Who the customer is: an identified customer of the site (its external id, signed by the
site's server with the web chat's secret) or an anonymous visitor (a random id that Atende
signs and the browser keeps)."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.core import signing
from django.utils.translation import gettext as _

from apps.core.limits import MAX_TEXT_LENGTH
from apps.webchat.errors import BadIdentity
from apps.webchat.models import WebChat
from apps.webhooks import crypto

VISITOR_SALT = "apps.webchat.visitor"
MAX_VISITOR_TOKEN = 200


@dataclass(frozen=True)
class Customer:
    external_id: str  # the contact's external id
    identified: bool
    name: str = ""
    email: str = ""
    visitor: str | None = None  # the signed token an anonymous visitor keeps


def expected_hash(secret: str, external_id: str) -> str:
    return hmac.new(secret.encode(), external_id.encode(), hashlib.sha256).hexdigest()


def _text(value, limit=MAX_TEXT_LENGTH) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def identified(webchat: WebChat, identity: dict) -> Customer:
    """The identified customer, or BadIdentity when the hash is not the hex HMAC-SHA256 of
    the external id under the chat's secret."""
    external_id = identity.get("externalId") if isinstance(identity, dict) else None
    given = identity.get("hash") if isinstance(identity, dict) else None
    if (not isinstance(external_id, str) or not external_id.strip()
            or len(external_id) > MAX_TEXT_LENGTH or not isinstance(given, str)):
        raise BadIdentity(_("The identity needs an externalId and its hash."))
    wanted = expected_hash(crypto.decrypt(webchat.secret), external_id)
    if not hmac.compare_digest(wanted, given.strip().lower()):
        raise BadIdentity(_("The hash does not match the external id: you stay anonymous."))
    return Customer(
        external_id=external_id, identified=True, name=_text(identity.get("name")),
        email=_text(identity.get("email")),
    )


def new_visitor(webchat: WebChat) -> Customer:
    token = signing.dumps(
        {"w": webchat.pk, "v": secrets.token_urlsafe(16)}, salt=VISITOR_SALT, compress=False
    )
    return visitor(webchat, token)


def visitor(webchat: WebChat, token) -> Customer:
    """The anonymous visitor whose token this chat signed, or BadIdentity."""
    if not isinstance(token, str) or len(token) > MAX_VISITOR_TOKEN:
        raise BadIdentity(_("That visitor id was not given by this chat."))
    try:
        content = signing.loads(token, salt=VISITOR_SALT)
    except signing.BadSignature:
        raise BadIdentity(_("That visitor id was not given by this chat.")) from None
    if not isinstance(content, dict) or content.get("w") != webchat.pk:
        raise BadIdentity(_("That visitor id was not given by this chat."))
    return Customer(
        external_id=f"webchat-{webchat.pk}-{content['v']}", identified=False, visitor=token
    )
