"""A bounded schemathesis run against /api/schema/ (the OpenAPI document the API serves): every
operation, 50 examples each, derandomized (the same cases every run); 0 server errors.

The document is loaded through the WSGI application when this module is collected; the cases call the
same application in-process, on the test's database."""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

import oms.urls  # noqa: F401 - the apps register their paths in the document when their URLs load
from oms.models import ApiToken
from oms.wsgi import application
from tests.factories import make_user

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def token(db, edges_world):
    """A key, and the application kept on the test's connection: as Django's test client does, the
    request signals must not close it (on PostgreSQL that would end the test's transaction)."""
    _, key = ApiToken.issue(make_user("schemathesis", "manager"))
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield key
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=50, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
def test_the_api_never_answers_a_server_error(case, token):
    response = case.call(headers={"Authorization": f"Token {token}"})

    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
    )
