import pytest
from django.core.cache import cache
from django.db import connection

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
def _fast_passwords(settings):
    """Hash passwords cheaply: PBKDF2's million rounds cost a third of a second per user
    created or login checked (seed_demo alone creates eight). What is hashed and checked
    is the same; servers the tests start as subprocesses keep the real hashers."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_embedded_sweep(settings):
    """The ASGI application the tests drive in-process never starts the embedded periodic
    sweep (config/embedded_beat.py); a test that wants it runs a server that asks for it."""
    settings.EMBEDDED_SWEEP = False


@pytest.fixture(autouse=True)
def _explicit_inbox_flushes(settings):
    """On a server loop (the consumer tests' communicators), live-inbox flushes happen when
    a test asks for them (realtime.aflush), never by themselves an hour later. Changes made
    in sync code with no running loop are flushed at commit (published with Redis, dropped
    with the in-memory layer). Nothing pending leaks from one test into the next."""
    settings.COUNTS_COALESCE_SECONDS = 3600
    store = realtime.pending_store()
    store.take()
    store.disarm()  # also stamps "just flushed": the next flush is an hour away
    yield
    store.take()
    store.disarm()
    cache.clear()


@pytest.fixture
def on_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL (CI does)")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "postgres" in item.keywords:
            item.fixturenames.insert(0, "on_postgres")
