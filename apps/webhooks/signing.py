"""The signature of a webhook request: ``X-Atende-Signature: sha256=<hex>``, the HMAC-SHA256
of the raw body with the integration's webhook secret."""

import hashlib
import hmac

PREFIX = "sha256="


def sign(body: bytes, secret: str) -> str:
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, signature: str | None) -> bool:
    """What a receiver does: recompute and compare in constant time."""
    return bool(signature) and hmac.compare_digest(sign(body, secret), signature)
