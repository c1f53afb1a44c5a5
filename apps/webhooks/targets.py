"""Where webhooks may go: http or https URLs whose host resolves only to public addresses.

Checked when an administrator sets the URL and again before every request (DNS can change
between the two): the host is resolved, every address it resolves to is checked, and the
request connects to one of the checked addresses (never resolving again behind our back).
Loopback, private, link-local (cloud metadata at 169.254.169.254), shared, reserved and
multicast addresses are refused (an IPv6 form that embeds an IPv4 address is judged by the
IPv4 one) unless ``WEBHOOK_ALLOW_PRIVATE`` is on (embedded mode's
default: the demo receiver listens on 127.0.0.1).
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from apps.core.errors import InvalidInput

MAX_URL_LENGTH = 2048
SCHEMES = ("http", "https")


class WebhookUrlInvalid(InvalidInput):
    """A webhook URL an administrator may not set (API 400, admin form error)."""

    def __init__(self, detail: str):
        super().__init__(detail, field="webhook_url")


class TargetRefused(Exception):
    """At delivery time: the host does not resolve, or resolves to an address we refuse."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written, without brackets (IDNA-encoded)
    port: int
    addresses: tuple[str, ...]  # every address it resolved to, all checked


# IPv6 forms that carry an IPv4 address in their low 32 bits: IPv4-compatible (::/96,
# deprecated but still routed by some stacks) and NAT64 (RFC 6052's well-known prefix).
_LOW_32_BITS = (ipaddress.ip_network("::/96"), ipaddress.ip_network("64:ff9b::/96"))
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: never global


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address leads to, for the forms that embed one (mapped,
    IPv4-compatible, NAT64, 6to4, Teredo's client), else None."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if any(ip in network for network in _LOW_32_BITS):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_address(address: str) -> bool:
    """Whether a webhook may connect to ``address``: a global unicast address, and, for an
    IPv6 form that embeds an IPv4 address, the embedded one too (``::7f00:1``,
    ``::ffff:127.0.0.1``, ``64:ff9b::7f00:1`` and ``2002:7f00:1::`` all reach 127.0.0.1)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6:
        if ip in _LOCAL_NAT64:
            return False
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return embedded.is_global and not embedded.is_multicast
    return ip.is_global and not ip.is_multicast


def _split(url) -> tuple[str, str, int]:
    """(scheme, host, port) of a well-formed webhook URL, or WebhookUrlInvalid."""
    if not isinstance(url, str) or not url.strip():
        raise WebhookUrlInvalid(_("The webhook URL must be an http or https URL."))
    if len(url) > MAX_URL_LENGTH:
        raise WebhookUrlInvalid(
            _("The webhook URL is longer than %(max)s characters.") % {"max": MAX_URL_LENGTH}
        )
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise WebhookUrlInvalid(_("The webhook URL must not contain spaces or control "
                                  "characters."))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise WebhookUrlInvalid(_("The webhook URL is not a valid URL.")) from error
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise WebhookUrlInvalid(_("The webhook URL must start with http:// or https://."))
    if not parts.hostname:
        raise WebhookUrlInvalid(_("The webhook URL needs a host."))
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlInvalid(
            _("Put no credentials in the webhook URL: every request is signed instead.")
        )
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError as error:
        raise WebhookUrlInvalid(_("The webhook URL's host is not a valid name.")) from error
    return scheme, host, port or (443 if scheme == "https" else 80)


def resolve(host: str, port: int) -> tuple[str, ...]:
    """Every address ``host`` resolves to, each checked (TargetRefused otherwise)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise TargetRefused(f"{host} does not resolve ({error})") from error
    addresses = tuple(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise TargetRefused(f"{host} does not resolve")
    if not settings.WEBHOOK_ALLOW_PRIVATE:
        refused = [a for a in addresses if not is_public_address(a)]
        if refused:
            where = host if refused[0] == host else f"{host} resolves to {refused[0]}, which"
            raise TargetRefused(
                f"{where} is a loopback, private or otherwise non-public address "
                f"(WEBHOOK_ALLOW_PRIVATE is off)"
            )
    return addresses


def validate_webhook_url(url) -> str:
    """The URL an administrator sets, checked now (WebhookUrlInvalid otherwise)."""
    scheme, host, port = _split(url)
    try:
        resolve(host, port)
    except TargetRefused as error:
        raise WebhookUrlInvalid(
            _("The webhook URL is refused: %(reason)s.") % {"reason": error}
        ) from error
    return url.strip()


def target_of(url: str) -> Target:
    """At delivery time: the URL split, its host resolved and every address checked
    (TargetRefused otherwise, including for a URL that is no longer valid)."""
    try:
        scheme, host, port = _split(url)
    except WebhookUrlInvalid as error:
        raise TargetRefused(error.detail) from error
    return Target(scheme=scheme, host=host, port=port, addresses=resolve(host, port))
