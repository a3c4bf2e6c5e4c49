"""Property-based calls generated from the QT execution API's OpenAPI document: whatever a client sends,
the API never fails with a server error, answers only as documented, and never reveals or changes
another organisation's runs, defects or reports."""

import pytest
from schemathesis.generation import GenerationMode

from portal.api.tests.fuzzing import CHECKS, RESPONSE_CHECKS, assert_refused_as_missing, bearer, operations, run
from portal.testing.tests.execution_support import raise_defect, record, snapshot

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.urls("portal.testing.tests.urls_qt_execution"),
    pytest.mark.usefixtures("direct_wsgi_calls"),
]
OPENAPI = "/qt-execution-api/openapi.json"
OPERATIONS = 18


@pytest.fixture
def busy_app(member, execution_app):
    """An application with a run (and its evidence) and a defect, so generated ids can hit real objects."""
    run = record(member, execution_app)
    raise_defect(member, execution_app, execution_ids=[run.pk])
    return execution_app


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_generated_requests_as_documented(member, busy_app, mode):
    headers = bearer(member)
    found = operations(OPENAPI)
    assert len(found) == OPERATIONS
    for operation in found:
        run(operation, lambda case: case.call_and_validate(headers=headers, checks=CHECKS), max_examples=6, mode=mode)


def test_another_organisations_testing_is_never_revealed_or_changed(other_member, busy_app):
    headers = bearer(other_member)
    before = snapshot()

    def call(case):
        case.path_parameters["application_id"] = busy_app.pk
        assert_refused_as_missing(case.call(headers=headers), case)

    for operation in operations(OPENAPI):
        run(operation, call, max_examples=5)
    assert snapshot() == before


@pytest.mark.parametrize("who", ["member", "execution_assurer"])
def test_generated_requests_on_a_real_application_answer_as_documented(request, who, busy_app):
    """Aimed at a real application, as its participant and as Testing Assurance, generated input reaches
    the services themselves."""
    headers = bearer(request.getfixturevalue(who))

    def call(case):
        case.path_parameters["application_id"] = busy_app.pk
        case.call_and_validate(headers=headers, checks=RESPONSE_CHECKS)

    for operation in operations(OPENAPI):
        run(operation, call, max_examples=8)
