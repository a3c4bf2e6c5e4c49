"""Property-based calls generated from the Service Activation API's OpenAPI document: whatever a client
sends, the API never fails with a server error, answers only as documented, and never reveals or changes
another organisation's hand-off."""

import pytest
from schemathesis.generation import GenerationMode

from portal.accounts.roles import Role
from portal.activation.tests.conftest import snapshot
from portal.api.tests.fuzzing import CHECKS, RESPONSE_CHECKS, assert_refused_as_missing, bearer, operations, run

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.urls("portal.activation.tests.urls"),
    pytest.mark.usefixtures("direct_wsgi_calls"),
]
OPENAPI = "/activation-api/openapi.json"


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_generated_requests_as_documented(team, qualified, mode):
    headers = bearer(team)
    found = operations(OPENAPI)
    assert len(found) == 7
    for operation in found:
        run(operation, lambda case: case.call_and_validate(headers=headers, checks=CHECKS), max_examples=8, mode=mode)


def test_another_organisations_hand_off_is_never_revealed_or_changed(other_member, qualified):
    headers = bearer(other_member)
    before = snapshot()

    def call(case):
        case.path_parameters["application_id"] = qualified.pk
        assert_refused_as_missing(case.call(headers=headers), case)

    for operation in operations(OPENAPI):
        if "{application_id}" in operation.path:
            run(operation, call, max_examples=6)
    assert snapshot() == before


@pytest.mark.parametrize("who", ["team", "member", "analyst"])
def test_generated_requests_on_a_real_hand_off_answer_as_documented(who, team, member, staff, qualified):
    """Aimed at a real hand-off the caller may see, generated input reaches the services themselves."""
    user = {"team": team, "member": member, "analyst": staff(Role.ELEXON_ANALYST)}[who]
    headers = bearer(user)

    def call(case):
        if "application_id" in (case.path_parameters or {}):
            case.path_parameters["application_id"] = qualified.pk
        case.call_and_validate(headers=headers, checks=RESPONSE_CHECKS)

    for operation in operations(OPENAPI):
        run(operation, call, max_examples=10)
