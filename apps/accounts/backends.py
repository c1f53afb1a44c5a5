"""Authentication backends.

``PasswordBackend`` replaces Django's ModelBackend for passwords. A password hash costs a
CPU core for a good fraction of a second on purpose; a flood of sign-ins must neither hold
pooled database connections while hashing (every other request would wait for one) nor
hash without bound (every other request would wait for a core). So the person is looked
up, the connection goes back to the pool, and the hash waits for one of a few slots per
process; once in a slot the lockout (django-axes, counted per username and per address) is
checked again, since the flood that queued for the slot may have locked the username
meanwhile. A sign-in that cannot get a slot within LOGIN_HASH_WAIT_SECONDS is a 503.

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

from apps.accounts.models import Role, User
from apps.core.http import ServiceBusy

_slots: threading.BoundedSemaphore | None = None
_slots_lock = threading.Lock()


def _hashing_slots() -> threading.BoundedSemaphore:
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(settings.LOGIN_HASH_CONCURRENCY)
        return _slots


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
        user = User._default_manager.filter(**{User.USERNAME_FIELD: username}).first()
        release_connection()
        credentials = get_credentials(username)
        slots = _hashing_slots()
        deadline = time.monotonic() + settings.LOGIN_HASH_WAIT_SECONDS
        # While waiting, look at the lockout now and then: once the flood that queued here
        # has locked the username or address, the rest of it is refused without a slot.
        while not slots.acquire(timeout=self.SLOT_POLL_SECONDS):
            _refuse_if_locked(request, credentials)
            if time.monotonic() > deadline:
                raise ServiceBusy(
                    _("Too many sign-ins are being checked right now: try again in a moment."),
                    retry_after=5,
                )
        try:
            _refuse_if_locked(request, credentials)
            if user is None:
                # Hash anyway: an unknown username takes as long as a wrong password.
                User().set_password(password)
                return None
            if user.check_password(password) and self.user_can_authenticate(user):
                return user
            return None
        finally:
            slots.release()


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
