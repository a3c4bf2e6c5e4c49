"""Property-based calls generated from the approvals API's OpenAPI document: whatever a client sends,
the API never fails with a server error, answers only as documented, and never reveals or changes
another organisation's target or deadlines."""

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
from portal.approvals.services import pab_target_set
from portal.approvals.tests.conftest import snapshot

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.urls("portal.approvals.tests.urls"),
    pytest.mark.usefixtures("direct_wsgi_calls"),
]
OPENAPI = "/approvals-api/openapi.json"


@pytest.fixture
def targeted(signed, make_meeting, analyst):
    application = signed()
    meeting = make_meeting(40)
    make_meeting(70)
    pab_target_set(actor=analyst, application_id=application.pk, meeting_id=meeting.pk)
    return application, meeting


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_generated_requests_as_documented(member, targeted, mode):
    headers = bearer(member)
    found = operations(OPENAPI)
    assert len(found) == 14
    for operation in found:
        run(operation, lambda case: case.call_and_validate(headers=headers, checks=CHECKS), max_examples=8, mode=mode)


def test_another_organisations_target_is_never_revealed_or_changed(other_member, targeted):
    application, _ = targeted
    headers = bearer(other_member)
    before = snapshot()

    def call(case):
        case.path_parameters["application_id"] = application.pk
        assert_refused_as_missing(case.call(headers=headers), case)

    for operation in operations(OPENAPI):
        if "application_id" in operation.path:
            run(operation, call, max_examples=6)
    assert snapshot() == before


@pytest.mark.parametrize("role", ["secretary", "analyst"])
def test_generated_requests_by_the_staff_who_act_answer_as_documented(request, role, targeted):
    """Aimed at a real application and meeting, generated input reaches the services themselves."""
    application, meeting = targeted
    headers = bearer(request.getfixturevalue(role))

    def call(case):
        if "application_id" in (case.path_parameters or {}):
            case.path_parameters["application_id"] = application.pk
        if "meeting_id" in (case.path_parameters or {}):
            case.path_parameters["meeting_id"] = meeting.pk
        case.call_and_validate(headers=headers, checks=RESPONSE_CHECKS)

    for operation in operations(OPENAPI):
        run(operation, call, max_examples=10)
