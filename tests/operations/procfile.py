"""The Procfile's commands, run as a process manager would (``sh -c``), each in a process
group of its own so that stopping one stops whatever it forked (uvicorn and Celery
children), with a bound on every wait."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.inbox.servers import ROOT, free_port

PROCFILE = ROOT / "Procfile"


def procfile() -> dict[str, str]:
    """{process type: command} of the Procfile (comments and blank lines skipped)."""
    commands = {}
    for line in PROCFILE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            commands[name.strip()] = command.strip()
    return commands


def with_venv_on_path(env: dict) -> dict:
    """The commands name uvicorn and celery: this interpreter's, first on PATH."""
    return {**env, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"}


def stop(process: subprocess.Popen, *, grace: float = 20) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):  # children that outlived their parent
        os.killpg(process.pid, signal.SIGKILL)


@contextlib.contextmanager
def run(kind: str, env: dict, log_path: Path):
    """Start the Procfile's ``kind`` command with ``env``; stop it (and its group) after."""
    log = open(log_path, "w")  # noqa: SIM115
    process = subprocess.Popen(
        ["sh", "-c", f"exec {procfile()[kind]}"], cwd=ROOT, env=with_venv_on_path(env),
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        stop(process)
        log.close()


@contextlib.contextmanager
def web(env: dict, log_path: Path, *, within: float = 60):
    """One ``web`` process on a free port of 127.0.0.1; yields ``host:port`` once it listens."""
    port = free_port()
    env = {**env, "HOST": "127.0.0.1", "PORT": str(port)}
    with run("web", env, log_path) as process:
        deadline = time.monotonic() + within
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"web exited with {process.returncode}:\n"
                                   + log_path.read_text()[-3000:])
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"web did not listen within {within} s")
            time.sleep(0.1)
        yield f"127.0.0.1:{port}"
