import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import re_path  # noqa: E402

from apps.core.logging import redact_server_logs  # noqa: E402
from apps.inbox.middleware import InboxSocketAuthMiddleware  # noqa: E402
from apps.inbox.ws_urls import websocket_urlpatterns  # noqa: E402
from apps.webchat.ws_urls import websocket_urlpatterns as webchat_urlpatterns  # noqa: E402

# The ASGI server logs request lines: credentials in query strings never reach the logs.
redact_server_logs()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter(
            [
                # The web chat's customers: public, keyed, its own origin rule (apps.webchat).
                *webchat_urlpatterns,
                # Origins are checked there, in full (scheme, host, port) for cookie
                # connections.
                re_path(r"^", InboxSocketAuthMiddleware(URLRouter(websocket_urlpatterns))),
            ]
        ),
    }
)

if settings.EMBEDDED:
    # No celery beat here: the server runs the periodic sweep itself (config/embedded_beat.py).
    from config.embedded_beat import EmbeddedBeat

    application = EmbeddedBeat(application)
