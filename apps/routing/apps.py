from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    name = "apps.routing"
    verbose_name = _("Routing")
    label = "routing"

    def ready(self):
        from apps.accounts.models import is_person
        from apps.core.api import on_api_request
        from apps.routing.services import record_heartbeat

        def heartbeat(request):
            """Every permitted API request of a person is a presence heartbeat."""
            if is_person(request.user):
                record_heartbeat(agent=request.user)

        on_api_request(heartbeat)
