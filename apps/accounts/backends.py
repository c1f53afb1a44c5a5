"""Permissions of the ``admin`` role: an administrator may do everything in the Django admin,
as a superuser may, without needing Django's per-model permission rows."""

from django.contrib.auth.backends import BaseBackend

from apps.accounts.models import Role


class AdminRoleBackend(BaseBackend):
    """Grants permissions only; authentication stays with ModelBackend and the token class."""

    def _is_admin(self, user_obj) -> bool:
        return bool(user_obj.is_active and getattr(user_obj, "role", None) == Role.ADMIN)

    def has_perm(self, user_obj, perm, obj=None):
        return self._is_admin(user_obj)

    def has_module_perms(self, user_obj, app_label):
        return self._is_admin(user_obj)
