"""Structured logs: LOG_FORMAT=json writes one JSON object per line, every routing decision
carries its conversation and agent ids, and credentials in URLs stay redacted."""

import io
import json
import logging
import os
import subprocess
import sys

import pytest

from apps.core.logging import JsonFormatter, RedactCredentials
from apps.routing import services
from tests.factories import AgentFactory, TeamFactory
from tests.foundation.test_settings_modes import CLEARED, ROOT
from tests.helpers import arrive


@pytest.fixture
def json_log():
    """The "atende.routing" logger writing at INFO through the handler LOG_FORMAT=json
    configures (the JSON formatter and the redaction filter); yields the lines written."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactCredentials())
    logger = logging.getLogger("atende.routing")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.setLevel(previous)


@pytest.mark.django_db
def test_every_routing_decision_is_a_json_line_with_its_ids(
    json_log, django_capture_on_commit_callbacks
):
    agent = AgentFactory()
    team = TeamFactory(agents=[agent])
    with django_capture_on_commit_callbacks(execute=True):
        conversation = arrive(team=team)
    with django_capture_on_commit_callbacks(execute=True):
        services.claim_conversation(conversation_id=conversation.pk, agent=agent)
    queued, claimed = json_log()
    assert queued["message"] == "routing decision: queued"
    assert (queued["conversation_id"], queued["team_id"], queued["agent_id"]) == (
        conversation.pk, team.pk, None,
    )
    assert claimed["kind"] == "claimed"
    assert (claimed["conversation_id"], claimed["agent_id"]) == (conversation.pk, agent.pk)
    assert (claimed["from_status"], claimed["status"]) == ("queued", "assigned")
    assert claimed["level"] == "INFO" and claimed["logger"] == "atende.routing"
    assert claimed["time"].endswith("+00:00")


@pytest.mark.django_db
def test_a_decision_rolled_back_is_not_logged(json_log):
    team = TeamFactory()
    arrive(team=team)  # the test's transaction never commits
    assert json_log() == []


def run_logging(code: str, **env) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in CLEARED}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); import logging; " + code],
        cwd=ROOT, env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True, text=True, timeout=60,
    )


def test_log_format_json_makes_every_logger_write_json_lines_redacted():
    done = run_logging(
        "logging.getLogger('atende.routing').info('routing decision: assigned',"
        " extra={'conversation_id': 7, 'agent_id': 3});"
        "logging.getLogger('uvicorn.access').info('%s - \"GET %s\" %d', '10.0.0.1',"
        " '/ws/inbox/?token=abc123', 101);"
        "logging.getLogger('apps.anything').warning('a warning')",
        LOG_FORMAT="json", LOG_LEVEL="INFO",
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert lines[0]["conversation_id"] == 7 and lines[0]["agent_id"] == 3
    assert lines[1]["logger"] == "uvicorn.access"
    assert "abc123" not in done.stderr
    assert "token=[redacted]" in lines[1]["message"]
    assert lines[2] == {**lines[2], "level": "WARNING", "message": "a warning"}


def test_text_logs_stay_the_default_and_refuse_an_unknown_format():
    done = run_logging("logging.getLogger('x').warning('plain')")
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "WARNING x plain"
    bad = run_logging("", LOG_FORMAT="xml")
    assert bad.returncode != 0 and "LOG_FORMAT" in bad.stderr
