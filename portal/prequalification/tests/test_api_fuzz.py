"""Property-based calls generated from the PQS API's OpenAPI document: whatever a client sends, the API
never fails with a server error, answers only as documented, and never reveals or changes another
organisation's PQS."""

import pytest
from schemathesis.generation import GenerationMode

from portal.api.tests.fuzzing import CHECKS, RESPONSE_CHECKS, assert_refused_as_missing, bearer, operations, run
from portal.prequalification.services import pqs_save_draft, reliance_item_add
from portal.prequalification.tests.conftest import PLAN, RELIED_ON, snapshot

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.urls("portal.prequalification.tests.urls"),
    pytest.mark.usefixtures("direct_wsgi_calls"),
]
OPENAPI = "/pqs-api/openapi.json"
OPERATIONS = 10


@pytest.fixture
def pqs_app(member, make_application):
    application = make_application()
    pqs_save_draft(actor=member, application_id=application.pk, fields=PLAN)
    item = reliance_item_add(actor=member, application_id=application.pk, fields=RELIED_ON)
    return application, item


def _operations():
    found = operations(OPENAPI)
    assert len(found) == OPERATIONS
    return found


def _aim(case, application, item):
    if "application_id" in (case.path_parameters or {}):
        case.path_parameters["application_id"] = application.pk
    if "item_id" in (case.path_parameters or {}):
        case.path_parameters["item_id"] = item.pk


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_generated_requests_as_documented(member, pqs_app, mode):
    headers = bearer(member)
    for operation in _operations():
        run(operation, lambda case: case.call_and_validate(headers=headers, checks=CHECKS), max_examples=8, mode=mode)


def test_another_organisations_pqs_is_never_revealed_or_changed(other_member, pqs_app):
    application, item = pqs_app
    headers = bearer(other_member)
    before = snapshot()

    def call(case):
        _aim(case, application, item)
        assert_refused_as_missing(case.call(headers=headers), case)

    for operation in _operations():
        if "application_id" in operation.path:
            run(operation, call, max_examples=6)
    assert snapshot() == before


def test_generated_requests_on_the_callers_own_pqs_answer_as_documented(member, pqs_app):
    """Aimed at the caller's own application and item, generated input reaches the services themselves."""
    application, item = pqs_app
    headers = bearer(member)

    def call(case):
        _aim(case, application, item)
        case.call_and_validate(headers=headers, checks=RESPONSE_CHECKS)

    for operation in _operations():
        run(operation, call, max_examples=10)
