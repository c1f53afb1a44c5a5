"""A process with no ASGI server loop (a Celery worker, a management command, the
benchmarks) that announces live-inbox changes, forks, and whose children announce and exit:
nothing it leaves behind (a timer thread, an event loop's executor, a lock held at fork
time) may hang the children or the parent. With Redis, every change still reaches the
channel layer, from the parent and from each child."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import redis
from channels.layers import get_channel_layer
from django.conf import settings

from apps.inbox import groups
from tests.inbox.servers import ROOT, manage, server_env

CHILDREN = 6

SCRIPT = textwrap.dedent(
    f"""
    import json, os, sys, threading, time
    import django
    django.setup()
    from django.db import connection
    from apps.conversations.services import receive_inbound_message

    run = time.time_ns()
    conversation, _, _ = receive_inbound_message(external_id=f"parent-{{run}}", body="hi")
    after_change = [t.name for t in threading.enumerate()]
    ids = [conversation.pk]
    connection.close()
    pids = []
    for k in range({CHILDREN}):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            conversation, _, _ = receive_inbound_message(
                external_id=f"child-{{run}}-{{k}}", body="hi"
            )
            os.write(write, str(conversation.pk).encode())
            os.close(write)
            connection.close()
            sys.exit(0)  # a normal interpreter exit: atexit, concurrent.futures' join
        os.close(write)
        pids.append((pid, read))
    exits = []
    for pid, read in pids:
        ids.append(int(os.read(read, 64) or 0))
        exits.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
    print(json.dumps({{
        "ids": ids, "exits": exits, "after_change": after_change,
        "threads": [t.name for t in threading.enumerate()],
    }}))
    """
)


def run_bounded(env: dict, *, seconds: float = 60) -> dict:
    """Run SCRIPT; kill its whole process group (children included) if it outlives
    ``seconds``, so this test can never hang."""
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        pytest.fail(f"the forking process did not exit within {seconds} s:\n{out}\n{err}")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0, err
    assert "Traceback" not in err, err
    result = json.loads(out.strip().splitlines()[-1])
    result["seconds"] = time.monotonic() - started
    return result


def test_a_process_that_announced_changes_can_fork_children_that_exit(tmp_path):
    """Embedded mode (SQLite, in-memory layer), as `manage.py` commands run it."""
    env = server_env(DATABASE_URL=None, REDIS_URL=None, SQLITE_PATH=tmp_path / "fork.sqlite3")
    manage("migrate", "--noinput", env=env)
    result = run_bounded(env)
    assert result["exits"] == [0] * CHILDREN
    assert len(set(result["ids"])) == CHILDREN + 1
    # Announcing started nothing beside the main thread, so a fork inherits nothing.
    assert result["after_change"] == ["MainThread"]
    assert result["threads"] == ["MainThread"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_with_redis_every_forked_child_publishes_its_changes(tmp_path):
    """Production mode, as a Celery prefork worker runs: the parent's and each child's
    change reach the Redis channel layer (servers' sockets listen there)."""
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL: the changes are published on Redis (CI sets it)")
    from channels_redis.pubsub import RedisPubSubLoopLayer

    from tests.inbox.test_multiprocess import database_url

    layer = get_channel_layer()
    naming = RedisPubSubLoopLayer(*layer._args, **layer._kwargs, channel_layer=layer)
    subscriber = redis.Redis.from_url(settings.REDIS_URL).pubsub(ignore_subscribe_messages=True)
    subscriber.subscribe(naming._get_group_channel_name(groups.waiting_group()))
    try:
        result = run_bounded(server_env(DATABASE_URL=database_url(), REDIS_URL=settings.REDIS_URL))
        assert result["exits"] == [0] * CHILDREN
        assert result["after_change"] == ["MainThread"]
        assert result["threads"] == ["MainThread"]
        heard: set[int] = set()
        deadline = time.monotonic() + 10
        while not set(result["ids"]) <= heard and time.monotonic() < deadline:
            message = subscriber.get_message(timeout=1)
            if message is not None:
                batch = layer.deserialize(message["data"])
                heard.update(c["id"] for c in batch.get("conversations", ()))
        assert set(result["ids"]) <= heard
    finally:
        subscriber.close()
