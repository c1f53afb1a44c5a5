"""Both configurations load: embedded (nothing set) and production (DATABASE_URL, REDIS_URL)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; django.setup(); from django.conf import settings; "
    "from config.celery import app; from config.embedded_beat import sweep_enabled; "
    "print(json.dumps({"
    "'sweep': sweep_enabled(), "
    "'engine': settings.DATABASES['default']['ENGINE'], "
    "'layer': settings.CHANNEL_LAYERS['default']['BACKEND'], "
    "'eager': settings.CELERY_TASK_ALWAYS_EAGER, "
    "'celery_eager': app.conf.task_always_eager, "
    "'broker': app.conf.broker_url}))"
)
CLEARED = ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DEBUG", "EMBEDDED_SWEEP")


def probe(**env) -> dict:
    base = {key: value for key, value in os.environ.items() if key not in CLEARED}
    base["DJANGO_SETTINGS_MODULE"] = "config.settings"
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env={**base, **env},
        capture_output=True, text=True, timeout=60, check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_embedded_mode_needs_nothing():
    loaded = probe()
    assert loaded["engine"] == "django.db.backends.sqlite3"
    assert loaded["layer"] == "channels.layers.InMemoryChannelLayer"
    assert loaded["eager"] is True
    assert loaded["celery_eager"] is True
    assert loaded["sweep"] is True  # the server runs the periodic sweep: no beat here


def test_production_mode_uses_postgresql_and_redis():
    loaded = probe(
        DATABASE_URL="postgres://atende:secret@db.example:5432/atende",
        REDIS_URL="redis://cache.example:6379/2",
        SECRET_KEY="x" * 50,
    )
    assert loaded["engine"] == "django.db.backends.postgresql"
    assert loaded["layer"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    assert loaded["eager"] is False
    assert loaded["celery_eager"] is False
    assert loaded["broker"] == "redis://cache.example:6379/2"
    assert loaded["sweep"] is False  # celery beat's job
