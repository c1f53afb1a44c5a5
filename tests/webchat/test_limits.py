"""The web chat's limits count in the cache; a cache that cannot be reached does not take
the chat down with it (the limits are then not applied, and the failure is logged)."""

from apps.webchat import limits

UNREACHABLE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


def test_without_the_cache_the_chat_keeps_working(settings, caplog):
    working = settings.CACHES
    settings.CACHES = UNREACHABLE
    settings.WEBCHAT_MESSAGES_PER_MINUTE_PER_ADDRESS = 1
    settings.WEBCHAT_CONNECTIONS_PER_ADDRESS = 1
    try:
        for _ in range(3):
            limits.count_per_minute("message", key="wc_k", address="198.51.100.1")
            limits.open_connection(key="wc_k", address="198.51.100.1")
            limits.close_connection(key="wc_k", address="198.51.100.1")
    finally:
        settings.CACHES = working  # the other fixtures' teardown clears the cache
    assert "unavailable" in caplog.text
