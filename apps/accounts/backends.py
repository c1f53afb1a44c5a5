"""Authentication backends.

``PasswordBackend`` replaces Django's ModelBackend for passwords. A password hash costs a
CPU core for a good fraction of a second on purpose; a flood of sign-ins must neither hold
pooled database connections while hashing (every other request would wait for one) nor
hash without bound (every other request would wait for a core). So the person is looked
up, the connection goes back to the pool, and the hash waits for one of a few slots per
process. A sign-in whose username is under attack (apps.accounts.lockout.is_suspect) first
needs the one place of the suspects' lane, and is refused at once (503, cheaply, before any
hashing) when that place is taken: a flood against one account hashes one guess at a time
per process and never queues in front of everyone else's sign-ins. Once in a slot the
lockout (django-axes, the (username, address) pair and the address's ceiling) is checked
again, and a failure is counted before the slot is given back: the next guess sees it, so a
flood gets exactly the limit's number of tries, whatever the timing. A sign-in that cannot
get a slot within LOGIN_HASH_WAIT_SECONDS is a 503.

``AdminRoleBackend`` gives the ``admin`` role every permission of the Django admin.
"""

import threading
import time

from axes.exceptions import AxesBackendPermissionDenied
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_credentials
from django.conf import settings
from django.contrib.auth.backends import BaseBackend, ModelBackend
from django.db import connection
from django.utils.translation import gettext as _

from apps.accounts import lockout
from apps.accounts.models import Role, User
from apps.core.http import ServiceBusy

_slots: threading.BoundedSemaphore | None = None
_suspects = threading.Lock()  # the suspects' lane: one sign-in under attack at a time
_slots_lock = threading.Lock()


def _hashing_slots() -> threading.BoundedSemaphore:
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(settings.LOGIN_HASH_CONCURRENCY)
        return _slots


def _busy() -> ServiceBusy:
    return ServiceBusy(
        _("Too many sign-ins are being checked right now: try again in a moment."),
        retry_after=5,
    )


def release_connection() -> None:
    """Give this thread's database connection back (to the pool) before slow work that
    needs none. Inside a transaction (tests) there is nothing to give back."""
    if not connection.in_atomic_block:
        connection.close()


def _refuse_if_locked(request, credentials) -> None:
    if request is not None and AxesProxyHandler.is_locked(request, credentials):
        request.axes_locked_out = True
        request.axes_credentials = credentials
        raise AxesBackendPermissionDenied("locked out while waiting to be checked")


class PasswordBackend(ModelBackend):
    SLOT_POLL_SECONDS = 0.25

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if not isinstance(username, str) or not isinstance(password, str):
            return None
        lane = _Lane(username if request is not None else None)
        try:
            lane.enter_if_suspect()  # before anything else: a refusal costs one cache read
            user = User._default_manager.filter(**{User.USERNAME_FIELD: username}).first()
            release_connection()
            return self._check(request, user, password, get_credentials(username), lane)
        finally:
            lane.leave()

    def _check(self, request, user, password, credentials, lane):
        slots = _hashing_slots()
        deadline = time.monotonic() + settings.LOGIN_HASH_WAIT_SECONDS
        # While waiting, look at the lockout now and then: once the flood that queued here
        # has locked the pair or the address, the rest of it is refused without a slot; and
        # once the username is under attack, the rest of it needs the suspects' lane.
        while not slots.acquire(timeout=self.SLOT_POLL_SECONDS):
            _refuse_if_locked(request, credentials)
            lane.enter_if_suspect()
            if time.monotonic() > deadline:
                raise _busy()
        try:
            _refuse_if_locked(request, credentials)
            if user is None:
                # Hash anyway: an unknown username takes as long as a wrong password.
                User().set_password(password)
            elif user.check_password(password) and self.user_can_authenticate(user):
                return user
            if request is not None:
                # Counted before the slot is given back (the signal Django sends next
                # finds it counted): the next guess waiting for the slot sees it.
                AxesProxyHandler.user_login_failed(
                    sender=__name__, credentials=credentials, request=request
                )
            return None
        finally:
            slots.release()


class _Lane:
    """The suspects' lane for one sign-in: entered (without waiting) once its username is
    under attack; a sign-in that finds it taken is refused at once, before any hashing."""

    def __init__(self, username):
        self.username = username
        self.inside = False

    def enter_if_suspect(self) -> None:
        if self.inside or self.username is None or not lockout.is_suspect(self.username):
            return
        if not _suspects.acquire(blocking=False):
            raise _busy()
        self.inside = True

    def leave(self) -> None:
        if self.inside:
            self.inside = False
            _suspects.release()


class AdminRoleBackend(BaseBackend):
    """Grants permissions only; authentication stays with PasswordBackend and the token
    class. An administrator may do everything in the Django admin, as a superuser may,
    without needing Django's per-model permission rows."""

    def _is_admin(self, user_obj) -> bool:
        return bool(user_obj.is_active and getattr(user_obj, "role", None) == Role.ADMIN)

    def has_perm(self, user_obj, perm, obj=None):
        return self._is_admin(user_obj)

    def has_module_perms(self, user_obj, app_label):
        return self._is_admin(user_obj)
