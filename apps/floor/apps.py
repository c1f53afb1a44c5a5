from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FloorConfig(AppConfig):
    name = "apps.floor"
    verbose_name = _("Floor view")
    label = "floor"
