"""Property-based calls generated from the OpenAPI document: whatever a client sends, valid or not,
the API never fails with a server error and answers only in the statuses and shapes it documents."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis import checks
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode

from portal.accounts.services import api_token_create
from portal.api.tests.conftest import counts

pytestmark = pytest.mark.django_db

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
    checks.negative_data_rejection,
    checks.ignored_auth,
    checks.unsupported_method,
    checks.allow_header_conformance,
    checks.use_after_free,
]


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Calls go straight to the WSGI application, whose request signals would close the database
    connection that holds the test's transaction; Django's own test client unhooks them the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _operations():
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results), "the OpenAPI document has operations that cannot be tested"
    return operations


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_generated_requests_as_documented(member, make_application, mode):
    make_application()
    _, secret = api_token_create(actor=member, user=member, name="fuzz")
    headers = {"Authorization": f"Bearer {secret}"}
    operations = _operations()
    assert len(operations) == 64

    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True
        )
        def call(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        call()


def test_another_organisations_application_is_never_revealed_or_changed(other_member, make_application):
    """Schemathesis knows nothing of tenancy: point every generated request at a real application
    of another organisation and check that it answers only as for a missing one."""
    application = make_application()
    _, secret = api_token_create(actor=other_member, user=other_member, name="fuzz")
    headers = {"Authorization": f"Bearer {secret}"}
    before = counts()
    targeted = [op for op in _operations() if "{application_id}" in op.path]
    assert len(targeted) == 41

    for operation in targeted:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True
        )
        def call(case):
            case.path_parameters["application_id"] = application.pk
            if "task_code" in case.path_parameters:
                case.path_parameters["task_code"] = "pqs"
            response = case.call(headers=headers)
            assert response.status_code in {400, 404, 422}, (case.path, response.status_code)
            assert response.json()["code"] in {"bad_request", "not_found", "invalid_input"}

        call()
    assert counts() == before
