"""The webhook secrets at rest: encrypted, because signing needs them back.

The key is derived from ``SECRET_KEY`` (HMAC-SHA256 with a purpose of its own, so the
derived key is useful for nothing else); ``SECRET_KEY_FALLBACKS`` still decrypt, so the
Django key can be rotated the usual way. Fernet (AES-128-CBC with HMAC-SHA256, from
``cryptography``) authenticates what it decrypts: a tampered value fails instead of signing
with garbage.
"""

import base64
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils.crypto import salted_hmac

PURPOSE = "apps.webhooks.crypto.webhook-secret"


class SecretUnreadable(Exception):
    """The stored secret was encrypted with a key that is gone (SECRET_KEY changed)."""


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _fernet_for(key: str) -> Fernet:
    digest = salted_hmac(PURPOSE, "", secret=key, algorithm="sha256").digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _fernet() -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_fernet_for(key) for key in keys])


def encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt(stored: str) -> str:
    try:
        return _fernet().decrypt(stored.encode()).decode()
    except InvalidToken as error:
        raise SecretUnreadable(
            "The webhook secret cannot be decrypted (was SECRET_KEY changed?): set a new one."
        ) from error
