"""Which sites may use a web chat: the Origin a browser sends with every cross-site request
and socket, compared in full (scheme, host and port) with the chat's allowed origins."""

from apps.webchat.models import WebChat


def origin_of(scope) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == b"origin":
            return value.decode("latin-1")
    return None


def origin_allowed(webchat: WebChat, origin: str | None) -> bool:
    """A request without an Origin is not a browser on an allowed site: refused too."""
    if not origin:
        return False
    return origin.strip().lower().rstrip("/") in webchat.allowed_origins
