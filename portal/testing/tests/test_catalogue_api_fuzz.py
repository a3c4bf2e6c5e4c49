"""Property-based calls generated from the catalogue and RTTM API's OpenAPI document: whatever a client
sends, the API never fails with a server error and answers only as documented; another
organisation's RTTM is never revealed or changed; and generated writes by the staff who keep the
catalogue reach the services and are answered as documented."""

import pytest
from schemathesis.generation import GenerationMode

from portal.accounts.roles import Role
from portal.api.tests.fuzzing import CHECKS, RESPONSE_CHECKS, assert_refused_as_missing, bearer, operations, run
from portal.testing.tests.catalogue_support import state
from portal.testing.tests.catalogue_urls import OPENAPI

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.urls("portal.testing.tests.catalogue_urls"),
    pytest.mark.usefixtures("direct_wsgi_calls"),
]


@pytest.fixture
def rttm_app(make_application):
    return make_application(route="sit")


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_generated_requests_as_documented(member, rttm_app, mode):
    headers = bearer(member)
    found = operations(OPENAPI)
    assert len(found) == 29
    for operation in found:
        run(operation, lambda case: case.call_and_validate(headers=headers, checks=CHECKS), max_examples=6, mode=mode)


def test_another_organisations_rttm_is_never_revealed_or_changed(other_member, rttm_app):
    headers = bearer(other_member)
    before = state()
    targeted = [op for op in operations(OPENAPI) if "{application_id}" in op.path]
    assert len(targeted) == 7

    def call(case):
        case.path_parameters["application_id"] = rttm_app.pk
        assert_refused_as_missing(case.call(headers=headers), case)

    for operation in targeted:
        run(operation, call, max_examples=6)
    assert state() == before


def test_generated_requests_on_the_callers_own_rttm_answer_as_documented(member, rttm_app):
    headers = bearer(member)

    def call(case):
        case.path_parameters["application_id"] = rttm_app.pk
        case.call_and_validate(headers=headers, checks=RESPONSE_CHECKS)

    for operation in operations(OPENAPI):
        if "{application_id}" in operation.path:
            run(operation, call, max_examples=8)


def test_generated_catalogue_writes_by_testing_assurance_answer_as_documented(staff):
    headers = bearer(staff(Role.TESTING_ASSURANCE))
    writes = [op for op in operations(OPENAPI) if "/qt/catalogue/" in op.path and op.method.upper() in {"POST", "PUT"}]
    assert len(writes) == 10
    for operation in writes:
        run(operation, lambda case: case.call_and_validate(headers=headers, checks=RESPONSE_CHECKS), max_examples=8)
