"""`make run` has no celery beat: the embedded ASGI server runs the periodic sweep itself,
so an agent left online with no heartbeat goes offline with nobody doing anything."""

import json
import sqlite3
import time

import httpx

from tests.inbox.servers import manage, server_env, uvicorn

SEED = """
import json
from datetime import timedelta
from django.utils import timezone
from apps.accounts.models import Presence, User
stale = User.objects.create_user(
    "stale", password="secret-pass-1", presence=Presence.ONLINE,
    last_heartbeat=timezone.now() - timedelta(hours=1),
)
print(json.dumps({"stale": stale.pk}))
"""


def presence_of(database, agent_id: int) -> str:
    with sqlite3.connect(database, timeout=10) as db:
        return db.execute(
            "SELECT presence FROM accounts_user WHERE id = ?", (agent_id,)
        ).fetchone()[0]


def test_the_embedded_server_sweeps_a_stale_agent_offline(tmp_path):
    database = tmp_path / "sweep.sqlite3"
    env = server_env(
        DATABASE_URL=None, REDIS_URL=None, SQLITE_PATH=database,
        EMBEDDED_SWEEP=None,  # make run's default
        DISTRIBUTION_SWEEP_SECONDS="0.3", PRESENCE_TIMEOUT="1",
    )
    manage("migrate", "--noinput", env=env)
    stale = json.loads(manage("shell", env=env, input_text=SEED).strip().splitlines()[-1])["stale"]
    assert presence_of(database, stale) == "online"

    with uvicorn(env, log_path=tmp_path / "uvicorn.log") as address:
        # Any first request starts the server's sweep; nothing else happens after it.
        assert httpx.get(f"http://{address}/accounts/login/", timeout=30).status_code == 200
        deadline = time.monotonic() + 30
        while presence_of(database, stale) != "offline" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert presence_of(database, stale) == "offline"
    assert "embedded sweep failed" not in (tmp_path / "uvicorn.log").read_text()
