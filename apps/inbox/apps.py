from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "apps.inbox"
    label = "inbox"

    def ready(self):
        from apps.core.announce import subscribe
        from apps.inbox import access
        from apps.inbox.realtime import on_announcement

        subscribe(on_announcement)
        subscribe(access.on_announcement)
