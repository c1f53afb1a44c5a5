"""The Django admin as Atende's administrators use it.

Administrators are users with the ``admin`` role (superusers always have it). They may be
created through the API without ``is_staff``, so the site admits the role as well as staff,
and ``apps.accounts.backends.AdminRoleBackend`` gives the role every model permission.
"""

from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def may_use_admin(user) -> bool:
    return bool(
        user.is_active
        and user.is_authenticated
        and (user.is_staff or getattr(user, "is_admin", False))
    )


class AtendeAdminLoginForm(AdminAuthenticationForm):
    def confirm_login_allowed(self, user):
        if not may_use_admin(user):
            raise ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


class AtendeAdminSite(AdminSite):
    site_header = _("Atende administration")
    site_title = _("Atende admin")
    index_title = _("Teams, organizations and routing")
    login_form = AtendeAdminLoginForm

    def has_permission(self, request):
        return may_use_admin(request.user)
