"""Property-based calls generated from the work-off API's OpenAPI document: whatever a client sends, the
API never fails with a server error, answers only as documented, and never reveals or changes another
organisation's work-off plan."""

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
from portal.workoff.tests.conftest import snapshot

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.urls("portal.workoff.tests.urls"),
    pytest.mark.usefixtures("direct_wsgi_calls"),
]
OPENAPI = "/workoff-api/openapi.json"


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_generated_requests_as_documented(member, qt_app, mode):
    headers = bearer(member)
    found = operations(OPENAPI)
    assert len(found) == 9
    for operation in found:
        run(operation, lambda case: case.call_and_validate(headers=headers, checks=CHECKS), max_examples=8, mode=mode)


def test_another_organisations_plan_is_never_revealed_or_changed(other_member, agreed_item):
    headers = bearer(other_member)
    before = snapshot()

    def call(case):
        if "application_id" not in (case.path_parameters or {}):
            return  # the list across applications: scoped, tested below
        case.path_parameters["application_id"] = agreed_item.application_id
        if "item_id" in case.path_parameters:
            case.path_parameters["item_id"] = agreed_item.pk
        assert_refused_as_missing(case.call(headers=headers), case)

    for operation in operations(OPENAPI):
        run(operation, call, max_examples=6)
    assert snapshot() == before


def test_the_list_never_shows_another_organisations_items(other_member, agreed_item):
    headers = bearer(other_member)

    def call(case):
        response = case.call(headers=headers)
        if response.status_code == 200:
            assert response.json()["count"] == 0

    [operation] = [op for op in operations(OPENAPI) if op.path.endswith("/workoff/items") and "{" not in op.path]
    run(operation, call, max_examples=20)


def test_generated_requests_on_the_callers_own_items_answer_as_documented(member, agreed_item):
    """Aimed at a real item of the caller's, generated input reaches the services themselves."""
    headers = bearer(member)

    def call(case):
        if "application_id" in (case.path_parameters or {}):
            case.path_parameters["application_id"] = agreed_item.application_id
            if "item_id" in case.path_parameters:
                case.path_parameters["item_id"] = agreed_item.pk
        case.call_and_validate(headers=headers, checks=RESPONSE_CHECKS)

    for operation in operations(OPENAPI):
        run(operation, call, max_examples=10)
