from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "apps.routing"
    label = "routing"

    def ready(self):
        from apps.core.announce import subscribe
        from apps.routing.tasks import enqueue_distribution

        subscribe(enqueue_distribution)
