from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebchatConfig(AppConfig):
    """Atende's own channel: a chat window any site embeds with one script tag
    (docs/webchat.md). Its conversations belong to its integration client, like any
    integration's (webhooks included)."""

    name = "apps.webchat"
    verbose_name = _("Web chat")
    label = "webchat"

    def ready(self):
        from apps.core.announce import subscribe
        from apps.webchat.push import on_announcement

        subscribe(on_announcement)
