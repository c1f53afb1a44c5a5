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
