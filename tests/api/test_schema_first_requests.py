"""The API schema answers every one of several first requests that arrive at once.

drf-spectacular resolves its extensions lazily on the first schema generation of a process;
two generations racing there crashed one of them (a 500 seen under load). A fresh process is
needed to see the first generation, so this runs in one."""

import subprocess
import sys
import textwrap

from tests.inbox.servers import ROOT, server_env

SCRIPT = textwrap.dedent("""
    import threading
    import django
    django.setup()
    from django.test import Client

    N = 16
    barrier = threading.Barrier(N)
    answers = []

    def ask():
        client = Client(raise_request_exception=False)
        barrier.wait()
        answers.append(client.get("/api/schema/", HTTP_HOST="localhost").status_code)

    threads = [threading.Thread(target=ask) for _ in range(N)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    print(sorted(answers))
""")


def test_concurrent_first_schema_requests_all_succeed():
    env = server_env(DATABASE_URL=None, REDIS_URL=None, SECRET_KEY=None)
    for _attempt in range(3):
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True,
            text=True, timeout=120,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.strip() == str([200] * 16), done.stdout + done.stderr[-2000:]
