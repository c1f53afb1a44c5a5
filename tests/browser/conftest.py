"""The browser tests need Debian's Chromium (Playwright drives it; it cannot download a
browser of its own here). Without it they are skipped with one reason, so ``make test``
works on any machine; CI sets ATENDE_REQUIRE_BROWSER=1, and there a missing browser fails
the run instead. CHROMIUM_PATH points at another executable (default /usr/bin/chromium)."""

import os

import pytest

DEFAULT_CHROMIUM = "/usr/bin/chromium"


def chromium_path() -> str:
    return os.environ.get("CHROMIUM_PATH") or DEFAULT_CHROMIUM


def browser_required() -> bool:
    return os.environ.get("ATENDE_REQUIRE_BROWSER", "").strip() not in ("", "0")


@pytest.fixture(scope="session")
def chromium() -> str:
    """The Chromium executable, or a skip (a failure when ATENDE_REQUIRE_BROWSER=1)."""
    path = chromium_path()
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    reason = (
        f"Chromium not found at {path}: install it (apt-get install -y chromium) "
        "to run the browser tests"
    )
    if browser_required():
        pytest.fail(f"{reason} (ATENDE_REQUIRE_BROWSER=1: CI must run them)", pytrace=False)
    pytest.skip(reason)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """With ATENDE_REQUIRE_BROWSER=1 a browser test that was skipped, for whatever reason,
    counts as failed: CI always runs them."""
    report = yield
    if report.skipped and browser_required() and item.get_closest_marker("browser"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"browser test skipped under ATENDE_REQUIRE_BROWSER=1: {reason}"
    return report
