"""Property-based check of the served OpenAPI schema: schemathesis reads /api/schema/,
generates requests for every operation (valid and invalid ones) and sends them as an
administrator, an agent and an integration to the WSGI app in-process (the test's database).
No response may be a 5xx, invalid requests must be refused with a 4xx, and every response
must match the schema: status code, content type and body.

Bounded and deterministic: a fixed number of examples per operation, derandomized."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import client_for

# Loaded at collection (pytest-django has configured Django by then; the schema view needs
# no database). The lazy ``from_fixture`` loader does not work with pytest 9.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
schema.config.generation.update(
    modes=["positive", "negative"],
    deterministic=True,
    with_security_parameters=False,
    database="none",
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

BOUNDED = settings(
    max_examples=6,  # about a minute per role on a loaded 2-core machine
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(autouse=True)
def _keep_the_test_transaction():
    """The bare WSGI handler closes "old" connections around every request, and inside the
    test's transaction every connection looks old: keep it open, as Django's test client
    does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def call_and_check(case, world, role):
    client = client_for(world.principal(role))
    response = case.call(headers={"Authorization": client._credentials["HTTP_AUTHORIZATION"]})
    case.validate_response(response, checks=CHECKS)


@schema.parametrize()
@BOUNDED
def test_as_admin(case, world):
    call_and_check(case, world, "admin")


@schema.parametrize()
@BOUNDED
def test_as_agent(case, world):
    call_and_check(case, world, "agent")


@schema.parametrize()
@BOUNDED
def test_as_integration(case, world):
    call_and_check(case, world, "integration")
