import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import translation

from apps.inbox import realtime
from config.celery import app as celery_app


@pytest.fixture(autouse=True)
def _eager_celery():
    """Tests run Celery tasks in-process unless a test starts a real worker itself."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _webhooks_sent_in_the_caller(settings):
    """Without a broker, webhook deliveries run right after commit in the caller (tests see
    them at once, and no background sender outlives a test); tests of the embedded
    background sender ask for it."""
    settings.WEBHOOK_EAGER_DELIVERY = "inline"


@pytest.fixture(autouse=True)
def _explicit_inbox_flushes(settings):
    """Live-inbox flushes happen when a test asks for them (realtime.aflush/flush_now): no
    timer thread may outlive its test and read a database that is gone. Nothing pending
    leaks from one test into the next."""
    settings.COUNTS_COALESCE_SECONDS = 3600
    store = realtime.pending_store()
    store.take()
    store.disarm()  # also stamps "just flushed": the next flush is an hour away
    yield
    store.take()
    store.disarm()
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """A request the test client makes in Portuguese leaves that language active in the
    thread (LocaleMiddleware activates, nothing deactivates): the next test would read
    history reasons in Portuguese."""
    yield
    translation.deactivate()


@pytest.fixture
def on_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL (CI does)")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "postgres" in item.keywords:
            item.fixturenames.insert(0, "on_postgres")


@pytest.fixture
def admin_user(db):
    """pytest-django's ``admin_client`` signs in as this administrator (its own default
    password, "password", is refused as too common, as it should be)."""
    from tests.factories import AdminFactory

    return AdminFactory(username="admin", is_superuser=True)
