"""Writes about people's access: their API tokens, websocket tickets and roles. Every change
that takes access away announces AccessChanged after commit, so that open websockets check
again who they are (apps.inbox.access)."""

import hashlib
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.events import AccessChanged
from apps.accounts.history import record_agent_change
from apps.accounts.models import AgentChangeKind, PersonToken, Role, User, hash_token
from apps.core.announce import announce
from apps.core.errors import InvalidInput

TICKET_KEY = "atende:ws-ticket:{}"
MAX_TICKET_LENGTH = 100


def session_hash(session_key: str | None) -> str | None:
    """How a session is named outside the session store (notices, logs)."""
    return hashlib.sha256(session_key.encode()).hexdigest() if session_key else None


# --------------------------------------------------------------------------- API tokens


def issue_person_token(*, user: User) -> str:
    """A new token for ``user`` (the only time it exists in clear). Their expired tokens
    go, and at most PERSON_TOKENS_PER_PERSON stay valid (the oldest make room)."""
    raw = PersonToken.new_token()
    now = timezone.now()
    with transaction.atomic():
        PersonToken.objects.filter(user=user, expires_at__lte=now).delete()
        PersonToken.objects.create(
            user=user, token_hash=hash_token(raw), token_prefix=raw[:8], created_at=now,
            expires_at=now + timedelta(days=settings.PERSON_TOKEN_LIFETIME_DAYS),
        )
        surplus = list(
            PersonToken.objects.filter(user=user)
            .order_by("-created_at", "-id")
            .values_list("pk", flat=True)[settings.PERSON_TOKENS_PER_PERSON :]
        )
        if surplus:
            PersonToken.objects.filter(pk__in=surplus).delete()
            announce(AccessChanged(agent_ids=(user.pk,), token_ids=tuple(surplus)))
    return raw


def person_token_for(raw: str) -> PersonToken | None:
    """The stored token for ``raw`` with its person (expired ones too: the caller says
    why it is refused), one query."""
    return PersonToken.objects.select_related("user").filter(token_hash=hash_token(raw)).first()


def revoke_person_token(*, token: PersonToken) -> None:
    with transaction.atomic():
        PersonToken.objects.filter(pk=token.pk).delete()
        announce(AccessChanged(agent_ids=(token.user_id,), token_ids=(token.pk,)))


def revoke_person_tokens(*, user: User) -> int:
    """Every token of ``user`` (a password change, a "sign out everywhere")."""
    with transaction.atomic():
        ids = tuple(PersonToken.objects.filter(user=user).values_list("pk", flat=True))
        PersonToken.objects.filter(pk__in=ids).delete()
        # Sessions are not deleted here; those the change invalidates (a new password) fail
        # Django's session hash check, which the sockets' check repeats.
        announce(AccessChanged(agent_ids=(user.pk,), token_ids=ids))
    return len(ids)


def change_password(*, user: User, password: str) -> int:
    """A new password for ``user`` (already validated by the caller's form): whoever held the
    old one may hold a token too, so every token goes, and open websockets check again who
    they are (sessions fail Django's hash check). Returns how many tokens went."""
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        return revoke_person_tokens(user=user)


# --------------------------------------------------------------------------- websocket tickets


def issue_ws_ticket(*, user: User, token_id: int | None, session_key: str | None) -> str:
    """A single-use ticket that opens one websocket as ``user`` within WS_TICKET_SECONDS.

    The socket it opens belongs to the credential that asked for it (that token or that
    session): revoking the credential closes the socket too."""
    raw = secrets.token_urlsafe(32)
    seconds = settings.WS_TICKET_SECONDS
    cache.set(
        TICKET_KEY.format(hash_token(raw)),
        {"user": user.pk, "token": token_id, "session": session_key,
         "until": time.time() + seconds},
        timeout=seconds + 1,
    )
    return raw


def consume_ws_ticket(raw: str) -> dict | None:
    """The ticket's content if it is valid, and it is spent: of concurrent uses exactly one
    gets it (the cache's delete reports whether it removed the key)."""
    if not raw or len(raw) > MAX_TICKET_LENGTH:
        return None
    key = TICKET_KEY.format(hash_token(raw))
    content = cache.get(key)
    if content is None or not cache.delete(key):
        return None
    if content["until"] < time.time():
        return None
    return content


# --------------------------------------------------------------------------- roles


def set_role(*, agent_id: int, role: str, actor) -> None:
    """An administrator changes a person's role: open websockets regroup at once (a demoted
    supervisor stops hearing other teams)."""
    if role not in Role.values:
        raise InvalidInput(
            _("Role must be one of %(roles)s.") % {"roles": ", ".join(Role.values)}, field="role"
        )
    with transaction.atomic():
        before = (
            User.objects.select_for_update().filter(pk=agent_id, is_superuser=False)
            .values_list("role", flat=True).first()
        )
        if before is not None and before != role:
            User.objects.filter(pk=agent_id).update(role=role)
            record_agent_change(
                agent_id=agent_id, kind=AgentChangeKind.ROLE, before=before, after=role,
                actor=actor,
            )
            announce(AccessChanged(agent_ids=(agent_id,)))


def access_changed(*, agent_ids, session_key: str | None = None) -> None:
    """Anything else that changed what these people may see (the admin's permission flags,
    a sign-out): their sockets check again."""
    announce(AccessChanged(agent_ids=tuple(agent_ids), session_hash=session_hash(session_key)))
