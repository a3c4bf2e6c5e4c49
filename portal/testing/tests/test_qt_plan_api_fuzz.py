"""Property-based calls generated from the QT plan API's OpenAPI document: whatever a client sends, the
API never fails with a server error, answers only as documented, and never reveals or changes another
organisation's plan, set, execution plan or readiness report.

This module is also the URL configuration of its tests: the project's URLs plus the QT plan router on
an API of its own, so the generated calls reach exactly these operations."""

import pytest
from django.urls import URLPattern, URLResolver, path
from schemathesis.generation import GenerationMode

from config.urls import urlpatterns as project_urlpatterns
from portal.api import errors
from portal.api.api import PortalAPI
from portal.api.auth import bearer_auth, session_auth
from portal.api.tests.fuzzing import CHECKS, RESPONSE_CHECKS, assert_refused_as_missing, bearer, operations, run
from portal.api.v1 import qt_plan
from portal.testing.tests import test_qt_plan_fixtures as fixtures
from portal.testing.tests.test_qt_plan_fixtures import snapshot

test_api = PortalAPI(
    title="QT plan tests", version="1", urls_namespace="qt-plan-test-api", auth=[bearer_auth, session_auth]
)
errors.install(test_api)
test_api.add_router("/v1", qt_plan.router)

urlpatterns: list[URLPattern | URLResolver] = [path("qt-plan-api/", test_api.urls), *project_urlpatterns]

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.urls("portal.testing.tests.test_qt_plan_api_fuzz"),
    pytest.mark.usefixtures("direct_wsgi_calls"),
]
OPENAPI = "/qt-plan-api/openapi.json"
OPERATION_COUNT = 15

# The shared fixtures of the QT plan tests.
catalogue, qt_app = fixtures.catalogue, fixtures.qt_app


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_generated_requests_as_documented(member, qt_app, mode):
    headers = bearer(member)
    found = operations(OPENAPI)
    assert len(found) == OPERATION_COUNT
    for operation in found:
        run(operation, lambda case: case.call_and_validate(headers=headers, checks=CHECKS), max_examples=8, mode=mode)


def test_another_organisations_plan_is_never_revealed_or_changed(other_member, qt_app, catalogue):
    headers = bearer(other_member)
    before = snapshot()

    def call(case):
        case.path_parameters["application_id"] = qt_app.pk
        assert_refused_as_missing(case.call(headers=headers), case)

    for operation in operations(OPENAPI):
        run(operation, call, max_examples=6)
    assert snapshot() == before


def test_generated_requests_on_the_callers_own_application_answer_as_documented(member, qt_app, catalogue):
    """Aimed at a real application of the caller's, generated input reaches the services themselves."""
    headers = bearer(member)

    def call(case):
        case.path_parameters["application_id"] = qt_app.pk
        case.call_and_validate(headers=headers, checks=RESPONSE_CHECKS)

    for operation in operations(OPENAPI):
        run(operation, call, max_examples=10)


def test_generated_reviews_by_testing_assurance_answer_as_documented(staff, member, qt_app, catalogue):
    from portal.accounts.roles import Role

    headers = bearer(staff(Role.TESTING_ASSURANCE))

    def call(case):
        case.path_parameters["application_id"] = qt_app.pk
        case.call_and_validate(headers=headers, checks=RESPONSE_CHECKS)

    for operation in operations(OPENAPI):
        run(operation, call, max_examples=5)
