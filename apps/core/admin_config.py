"""django.contrib.admin with Atende's site (apps.core.admin_site): listed in INSTALLED_APPS
in place of "django.contrib.admin". Kept apart from the site so that nothing here imports
models before the app registry is ready."""

from django.contrib.admin.apps import AdminConfig


class AtendeAdminConfig(AdminConfig):
    default_site = "apps.core.admin_site.AtendeAdminSite"
