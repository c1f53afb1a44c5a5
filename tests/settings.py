"""The settings the suite runs with: the project's own, plus a SECRET_KEY for the tests
(production mode refuses to start without one). Server subprocesses inherit it."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-" + "k3y" * 16)

from config.settings import *  # noqa: E402, F403
