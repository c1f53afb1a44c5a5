from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Outbound webhooks: what agents say and do in an integration's conversations reaches
    the integration (an outbox written with each change, delivered by workers)."""

    name = "apps.webhooks"
    label = "webhooks"
