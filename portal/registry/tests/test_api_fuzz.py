"""Property-based calls generated from the register API's OpenAPI document: whatever anyone sends,
with or without a token, the public register answers as documented and never fails."""

import pytest
from schemathesis.generation import GenerationMode

from portal.api.tests.fuzzing import CHECKS, operations, run
from portal.registry.models import EntryStatus, Register
from portal.registry.services import register_record

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.urls("portal.registry.tests.urls"),
    pytest.mark.usefixtures("direct_wsgi_calls"),
]
OPENAPI = "/registry-api/openapi.json"


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_register_answers_generated_requests_as_documented(make_application, staff, mode):
    application = make_application(route="sit", market_role="MEM")
    for register, status in ((Register.REC_PARTY, EntryStatus.REC_APPROVED), (Register.MHHS, EntryStatus.QUALIFIED)):
        register_record(actor=None, application=application, register=register, status=status, conditions="WO-3")
    (operation,) = operations(OPENAPI)

    run(operation, lambda case: case.call_and_validate(checks=CHECKS), max_examples=40, mode=mode)
