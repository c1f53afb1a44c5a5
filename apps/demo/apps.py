from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """Demo data for a newcomer's first look (``manage.py seed_demo``). It builds on every
    other app, so it lives apart from them."""

    name = "apps.demo"
    verbose_name = _("Demo data")
    label = "demo"
