from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "apps.reports"
    verbose_name = _("Reports")
    label = "reports"

    def ready(self):
        from django.db.backends.signals import connection_created

        from apps.reports.sqlite import register_functions

        connection_created.connect(register_functions, dispatch_uid="atende-report-functions")
