from django.urls import path

from apps.webchat.consumers import CustomerConsumer

# Public: no session, no ticket; the consumer checks the key and the Origin itself.
websocket_urlpatterns = [
    path("webchat/<str:key>/ws", CustomerConsumer.as_asgi()),
]
