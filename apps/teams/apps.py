from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TeamsConfig(AppConfig):
    name = "apps.teams"
    verbose_name = _("Teams and routing")
    label = "teams"

    def ready(self):
        from apps.teams import config_cache

        config_cache.connect()
