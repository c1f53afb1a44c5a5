from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data for a newcomer's first look (``manage.py seed_demo``). It builds on every
    other app, so it lives apart from them."""

    name = "apps.demo"
    label = "demo"
