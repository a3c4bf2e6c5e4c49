"""Property-based calls generated from the OpenAPI document: whatever a client sends, valid or not,
the API never fails with a server error and answers only in the statuses and shapes it documents."""

import pytest
from schemathesis.generation import GenerationMode

from portal.api.tests.conftest import counts
from portal.api.tests.fuzzing import (
    CHECKS,
    assert_refused_as_missing,
    bearer,
    coverage_cases,
    fresh_idempotency_key,
    operations,
    run,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("direct_wsgi_calls")]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_generated_requests_as_documented(member, make_application, mode):
    make_application()
    headers = bearer(member)
    found = operations("/api/openapi.json")
    assert len(found) == 183
    for operation in found:
        run(operation, lambda case: case.call_and_validate(headers=headers, checks=CHECKS), max_examples=12, mode=mode)


def test_every_operation_answers_the_coverage_phase_as_documented(member, make_application):
    """Schemathesis's coverage phase: methods an address does not have (405 with `Allow`), required
    parameters left out, boundary values and wrong types, with every check on."""
    make_application()
    headers = bearer(member)
    calls = 0
    for operation in operations("/api/openapi.json"):
        for case in coverage_cases(operation, sample=6):
            fresh_idempotency_key(case)
            case.call_and_validate(headers=headers, checks=CHECKS)
            calls += 1
    assert calls > 1500


def test_another_organisations_application_is_never_revealed_or_changed(other_member, make_application):
    """Schemathesis knows nothing of tenancy: point every generated request at a real application
    of another organisation and check that it answers only as for a missing one."""
    application = make_application()
    headers = bearer(other_member)
    before = counts()
    targeted = [op for op in operations("/api/openapi.json") if "{application_id}" in op.path]
    assert len(targeted) == 106

    def call(case):
        case.path_parameters["application_id"] = application.pk
        if "task_code" in case.path_parameters:
            case.path_parameters["task_code"] = "pqs"
        assert_refused_as_missing(case.call(headers=headers), case)

    for operation in targeted:
        run(operation, call, max_examples=10)
    assert counts() == before
