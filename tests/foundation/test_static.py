"""Static files and the favicon, through the ASGI application as uvicorn serves them."""

import os
import subprocess
import sys
import warnings
from pathlib import Path

from asgiref.sync import async_to_sync
from channels.testing import ApplicationCommunicator

from config.asgi import application

ROOT = Path(__file__).resolve().parents[2]


def asgi_get(path: str, method: str = "GET") -> dict:
    scope = {"type": "http", "http_version": "1.1", "method": method, "path": path,
             "query_string": b"", "headers": [(b"host", b"testserver")]}

    async def fetch():
        comm = ApplicationCommunicator(application, scope)
        await comm.send_input({"type": "http.request", "body": b""})
        start = await comm.receive_output(timeout=10)
        assert start["type"] == "http.response.start"
        body = b""
        while True:
            part = await comm.receive_output(timeout=10)
            body += part.get("body", b"")
            if not part.get("more_body"):
                break
        await comm.wait(timeout=5)
        return {"status": start["status"], "headers": start["headers"], "body": body}

    with warnings.catch_warnings():
        # Django warns when it must read a synchronous file iterator under ASGI.
        warnings.simplefilter("error")
        response = async_to_sync(fetch)()
    response["headers"] = {k.decode().lower(): v.decode() for k, v in response["headers"]}
    return response


def test_a_static_file_streams_under_asgi_without_a_warning():
    response = asgi_get("/static/css/atende.css")
    assert response["status"] == 200
    assert response["headers"]["content-type"].startswith("text/css")
    assert response["body"] == (ROOT / "static/css/atende.css").read_bytes()

    head = asgi_get("/static/css/atende.css", method="HEAD")
    assert head["status"] == 200 and head["body"] == b""


def test_favicon_ico_leads_to_the_icon_the_pages_link(client):
    response = asgi_get("/favicon.ico")
    assert response["status"] == 302
    icon_url = response["headers"]["location"]
    icon = asgi_get(icon_url)
    assert icon["status"] == 200
    assert icon["headers"]["content-type"].startswith("image/svg+xml")
    assert icon["body"] == (ROOT / "static/favicon.svg").read_bytes()

    login = client.get("/accounts/login/").content.decode()
    assert f'<link rel="icon" href="{icon_url}"' in login


def test_embedded_mode_starts_without_warnings():
    """`make run`: loading the ASGI application (which builds the middleware) warns about
    nothing, e.g. not about a static directory that only collectstatic would create."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "DEBUG", "PYTHONWARNINGS")}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", "import config.asgi"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
