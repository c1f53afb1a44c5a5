import pytest

from apps.routing.invariants import check_invariants
from tests import helpers


@pytest.fixture
def arrive():
    """A contact writes in (tests.helpers.arrive)."""
    return helpers.arrive


@pytest.fixture
def invariants_hold():
    def _check():
        problems = check_invariants()
        assert problems == []

    return _check


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """``with committed():`` runs what the wrapped change registers for after its commit
    (the distribution task a freed capacity enqueues, in eager mode) as a real commit would,
    without a transactional test database."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
