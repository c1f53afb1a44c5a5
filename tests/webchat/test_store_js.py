"""The web chat window's store, with Node's own test runner (tests/js/)."""

import shutil
import subprocess

import pytest

from tests.inbox.servers import ROOT


def test_the_window_store():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the window's store is tested with node --test")
    done = subprocess.run([node, "--test", "tests/js/webchat_store.test.mjs"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
