"""Property-based calls generated from the PIT API's OpenAPI document: whatever a client sends, the
API never fails with a server error, answers only as documented, and never reveals or changes another
organisation's checklist."""

import pytest
from schemathesis.generation import GenerationMode

from portal.api.tests.fuzzing import (
    CHECKS,
    RESPONSE_CHECKS,
    assert_refused_as_missing,
    bearer,
    operations,
    run,
)
from portal.testing.tests.conftest import snapshot

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.urls("portal.testing.tests.urls"),
    pytest.mark.usefixtures("direct_wsgi_calls"),
]
OPENAPI = "/pit-api/openapi.json"


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_generated_requests_as_documented(member, pit_app, mode):
    headers = bearer(member)
    found = operations(OPENAPI)
    assert len(found) == 7
    for operation in found:
        run(operation, lambda case: case.call_and_validate(headers=headers, checks=CHECKS), max_examples=8, mode=mode)


def test_another_organisations_checklist_is_never_revealed_or_changed(other_member, pit_app):
    headers = bearer(other_member)
    before = snapshot()

    def call(case):
        case.path_parameters["application_id"] = pit_app.pk
        assert_refused_as_missing(case.call(headers=headers), case)

    for operation in operations(OPENAPI):
        run(operation, call, max_examples=6)
    assert snapshot() == before


def test_generated_requests_on_the_callers_own_application_answer_as_documented(member, pit_app):
    """Aimed at a real application of the caller's, generated input reaches the services themselves."""
    headers = bearer(member)

    def call(case):
        case.path_parameters["application_id"] = pit_app.pk
        case.call_and_validate(headers=headers, checks=RESPONSE_CHECKS)

    for operation in operations(OPENAPI):
        run(operation, call, max_examples=10)
