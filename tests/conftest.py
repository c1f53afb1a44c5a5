import os
from urllib.parse import urlparse

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


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_newgateway(gateway):
    """Parallel workers (pytest-xdist, ``make test``) on Redis: each worker gets a Redis
    database of its own, the numbers after REDIS_URL's (gw0: +1, gw1: +2...), set before the
    worker loads the settings, so the servers and Celery workers it starts use it too. Their
    channel-layer groups, presence registry, pending flushes and broker never meet (each
    worker has its own test database already)."""
    url = os.environ.get("REDIS_URL")
    if not url:
        return
    parsed = urlparse(url)
    base = int(parsed.path.lstrip("/") or 0)
    number = base + 1 + int(gateway.id.removeprefix("gw"))
    worker_url = parsed._replace(path=f"/{number}").geturl()
    gateway.remote_exec(f"import os; os.environ['REDIS_URL'] = {worker_url!r}").waitclose()
