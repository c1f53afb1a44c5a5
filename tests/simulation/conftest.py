import pytest


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """``with committed():`` runs what a change registers for after its commit (the
    distribution a freed capacity enqueues, eager in tests) as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
