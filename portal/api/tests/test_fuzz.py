"""Property-based calls generated from the OpenAPI document: whatever a client sends, valid or not,
the API never fails with a server error and answers only in the statuses and shapes it documents."""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from schemathesis import checks
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode

from portal.accounts.services import api_token_create

pytestmark = pytest.mark.django_db

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


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
    assert len(operations) == 17

    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def call(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        call()
