"""Property-based calls generated from the DIP onboarding API's OpenAPI document: whatever a client sends, the
API never fails with a server error, answers only as documented, and never reveals or changes another
organisation's onboarding."""

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
from portal.dip.tests.conftest import snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.urls("portal.dip.tests.urls")]

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
    checks.ignored_auth,
    checks.unsupported_method,
]


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Calls go straight to the WSGI application, whose request signals would close the database
    connection that holds the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _operations():
    schema = schemathesis.openapi.from_wsgi("/dip-api/openapi.json", get_wsgi_application())
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results)
    return operations


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_generated_requests_as_documented(member, dip_app, mode):
    _, secret = api_token_create(actor=member, user=member, name="fuzz")
    headers = {"Authorization": f"Bearer {secret}"}
    operations = _operations()
    assert len(operations) == 5
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True
        )
        def call(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        call()


def test_another_organisations_onboarding_is_never_revealed_or_changed(other_member, dip_app):
    _, secret = api_token_create(actor=other_member, user=other_member, name="fuzz")
    headers = {"Authorization": f"Bearer {secret}"}
    before = snapshot()
    for operation in _operations():

        @given(case=operation.as_strategy())
        @settings(
            max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True
        )
        def call(case):
            case.path_parameters["application_id"] = dip_app.pk
            response = case.call(headers=headers)
            assert response.status_code in {400, 404, 422}, (case.path, response.status_code)
            assert response.json()["code"] in {"bad_request", "not_found", "invalid_input"}

        call()
    assert snapshot() == before


def test_generated_requests_on_the_callers_own_application_answer_as_documented(member, dip_app):
    """Aimed at a real application of the caller's, generated input reaches the services themselves."""
    _, secret = api_token_create(actor=member, user=member, name="fuzz")
    headers = {"Authorization": f"Bearer {secret}"}
    for operation in _operations():

        @given(case=operation.as_strategy())
        @settings(
            max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True
        )
        def call(case):
            case.path_parameters["application_id"] = dip_app.pk
            case.call_and_validate(
                headers=headers,
                checks=[
                    checks.not_a_server_error,
                    checks.status_code_conformance,
                    checks.content_type_conformance,
                    checks.response_schema_conformance,
                ],
            )

        call()
