import pytest
from django.core.cache import cache

from apps.inbox import realtime


@pytest.fixture(autouse=True)
def _explicit_flushes(settings):
    """Flushes happen when a test calls realtime.aflush(): the coalescing timer is pushed
    far out, and nothing pending leaks from one test into the next."""
    settings.COUNTS_COALESCE_SECONDS = 3600
    store = realtime.pending_store()
    store.take()
    store.disarm()
    yield
    store.take()
    store.disarm()
    cache.clear()
