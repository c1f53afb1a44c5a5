"""Who an open websocket belongs to, and taking access away from it at once.

A socket is opened with a credential: a session, a person's token, or a ticket that one of
those asked for (the socket then belongs to that session or token). When access changes
(``AccessChanged``: deactivation, a role change, a sign-out, a revoked token, a new
password) a notice goes at once, through the channel layer, to the person's own group,
which reaches every socket of theirs in every process. Each socket closes if the notice
names its credential, and otherwise checks again who it is: closed (4401: the credential
is gone; 4403: the account is deactivated) or regrouped to what the person may see now.
The notice is sent when the change commits, before anything the change announces, so a
socket hears it before any push that reflects the change.
"""

import logging
from dataclasses import dataclass
from importlib import import_module

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import get_user
from django.utils import timezone

from apps.accounts.events import AccessChanged
from apps.accounts.models import PersonToken, User
from apps.accounts.services import session_hash
from apps.inbox import groups, realtime

logger = logging.getLogger(__name__)

CREDENTIAL_GONE = 4401  # signed out, token revoked or expired, password changed
ACCOUNT_DEACTIVATED = 4403


@dataclass(frozen=True)
class Credential:
    user_id: int
    token_id: int | None = None
    session_key: str | None = None

    @property
    def session_hash(self) -> str | None:
        return session_hash(self.session_key)


def on_announcement(announcement) -> None:
    """Subscriber of apps.core.announce: send the notice now (not coalesced)."""
    if not isinstance(announcement, AccessChanged):
        return
    notice = realtime.access_notice(
        session_hash=announcement.session_hash, token_ids=announcement.token_ids
    )
    async_to_sync(_send)([groups.agent_group(a) for a in announcement.agent_ids], notice)


async def _send(group_names: list[str], notice: dict) -> None:
    layer = get_channel_layer()
    for name in group_names:
        # The group it was sent to: each server process's hub hands it to that group's
        # sockets (apps.inbox.hub).
        await layer.group_send(name, {**notice, "group": name})


def named_in(notice: dict, credential: Credential) -> bool:
    """Whether a notice names this socket's own credential (signed out, token revoked)."""
    if credential.token_id is not None and credential.token_id in notice.get("tokens", ()):
        return True
    return credential.session_key is not None and notice.get("session") == (
        credential.session_hash
    )


class _SessionRequest:
    """What django.contrib.auth.get_user needs of a request: its session."""

    def __init__(self, session):
        self.session = session


def current_person(credential: Credential) -> tuple[User | None, int | None]:
    """The person as they are now, or (None, the close code) when the socket must close."""
    user = User.objects.filter(pk=credential.user_id).first()
    if user is None or not user.is_active:
        return None, ACCOUNT_DEACTIVATED
    if credential.token_id is not None:
        valid = PersonToken.objects.filter(
            pk=credential.token_id, user_id=user.pk, expires_at__gt=timezone.now()
        ).exists()
        if not valid:
            return None, CREDENTIAL_GONE
    if credential.session_key is not None:
        engine = import_module(settings.SESSION_ENGINE)
        session = engine.SessionStore(credential.session_key)
        # Django's own check: the session exists, is the person's, and its hash still
        # matches the password (a password change signs other sessions out).
        if get_user(_SessionRequest(session)).pk != user.pk:
            return None, CREDENTIAL_GONE
    return user, None
