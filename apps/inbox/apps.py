from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InboxConfig(AppConfig):
    name = "apps.inbox"
    verbose_name = _("Inbox")
    label = "inbox"

    def ready(self):
        from apps.core.announce import subscribe
        from apps.inbox import access
        from apps.inbox.realtime import on_announcement

        subscribe(on_announcement)
        subscribe(access.on_announcement)
