"""What every API fuzz test shares: the schemathesis checks, loading the operations of an OpenAPI
document served by the project's own WSGI application, and running generated calls against each.

Generation is derandomised so that CI runs repeat exactly; the examples per operation are kept small
so that the whole suite stays quick. Modules using it mark their tests with
`pytest.mark.usefixtures("direct_wsgi_calls")` (portal/conftest.py)."""

import itertools
from collections.abc import Callable
from typing import Any

import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from schemathesis import checks
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode
from schemathesis.generation.meta import CoverageScenario

from portal.accounts.services import api_token_create
from portal.api import idempotency

# Operations where a request the schema allows may still be refused as invalid (422), because the rule
# is one the OpenAPI document cannot express. Each is a known gap, not a licence: positive data is
# checked everywhere else.
POSITIVE_DATA_GAPS = {
    # `step_results` is a form field holding JSON (a list of steps): a string schema cannot say so.
    "POST /v1/applications/{application_id}/qt/executions/upload": "a form field holding JSON",
    # The MPID must be one the organisation holds, and the market role and route come from reference
    # data: a generated organisation id that happens to be the caller's own meets these checks.
    "POST /v1/applications": "an MPID of that organisation, and codes from reference data",
    # `application_id` is required for the `rttm` and `results` kinds only.
    "POST /v1/imports": "a field required for some kinds only",
    # Route, role group and wave codes are reference data, checked against the database.
    "GET /v1/reports/pipeline": "codes from reference data",
    "GET /v1/reports/pipeline/applications": "codes from reference data",
    # At least two characters, or an application's number of one digit; no format characters.
    "GET /v1/search": "a length that depends on the text",
}


def positive_data_acceptance(ctx: Any, response: Any, case: Any) -> bool | None:
    """schemathesis's `positive_data_acceptance`, except on the operations of POSITIVE_DATA_GAPS (wherever
    the document that holds them is mounted)."""
    method, path = case.operation.method.upper(), case.operation.path
    if any(method == gap.split(" ")[0] and path.endswith(gap.split(" ")[1]) for gap in POSITIVE_DATA_GAPS):
        return None
    return checks.positive_data_acceptance(ctx, response, case)


# Everything a response must honour, whatever was sent: every check schemathesis has that applies to
# this API. `missing_required_header` and `unsupported_method` judge the cases of the coverage phase
# (`coverage_cases`), `use_after_free` and `ensure_resource_availability` the calls of a stateful run;
# elsewhere they pass. Not used: `max_response_time` (timings belong to bench/) and
# `object_level_authorization`, which needs a second identity per call: the tenancy tests below point
# another organisation's requests at real objects instead.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
    checks.negative_data_rejection,
    positive_data_acceptance,
    checks.ignored_auth,
    checks.missing_required_header,
    checks.unsupported_method,
    checks.allow_header_conformance,
    checks.use_after_free,
    checks.ensure_resource_availability,
]
# For calls aimed at real objects: the answer is documented, whatever the services decided (a valid
# request may still be refused by a rule of the portal, so positive data need not be accepted).
RESPONSE_CHECKS = CHECKS[:5]
# A call aimed at another organisation's object answers as for a missing one.
REFUSED_STATUSES = {400, 404, 422}
REFUSED_CODES = {"bad_request", "not_found", "invalid_input"}


def bearer(user: Any) -> dict[str, str]:
    """The Authorization header of a fresh API token of `user`."""
    _, secret = api_token_create(actor=user, user=user, name="fuzz")
    return {"Authorization": f"Bearer {secret}"}


def operations(openapi_path: str) -> list[Any]:
    schema = schemathesis.openapi.from_wsgi(openapi_path, get_wsgi_application())
    results = list(schema.get_all_operations())
    found = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(found) == len(results), "the OpenAPI document has operations that cannot be tested"
    return found


_keys = itertools.count(1)


def fresh_idempotency_key(case: Any) -> None:
    """A generated `Idempotency-Key` is valid but not unique, and the schema cannot say that it must be:
    a well-formed one is made unique per call, so that two generated requests never share a key (which
    the API rightly refuses with 422). A malformed one is kept: the API must refuse it."""
    headers = case.headers or {}
    key = headers.get(idempotency.HEADER)
    if isinstance(key, str) and idempotency.KEY_RE.fullmatch(key):
        headers[idempotency.HEADER] = f"{key[:200]}-{next(_keys)}"


def run(operation: Any, call: Callable[[Any], None], *, max_examples: int, mode: Any = None) -> None:
    """Run `call` on generated cases of one operation."""
    strategy = operation.as_strategy(generation_mode=mode) if mode is not None else operation.as_strategy()

    @given(case=strategy)
    @settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,
    )
    def each(case: Any) -> None:
        fresh_idempotency_key(case)
        call(case)

    each()


def coverage_cases(operation: Any, *, sample: int) -> list[Any]:
    """The cases of schemathesis's coverage phase for one operation, deterministic: every case of a
    method the operation does not have and every case leaving out a required parameter, and the first
    `sample` of the others (boundary values, wrong types), positive and negative."""
    config = operation.schema.config.generation_for(operation=operation)
    kept: list[Any] = []
    others = 0
    for case in operation.schema.iter_coverage_cases(
        operation, generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], generation_config=config
    ):
        data = case.meta.phase.data if case.meta is not None else None
        scenario = getattr(data, "scenario", None)
        if scenario in (CoverageScenario.UNSPECIFIED_HTTP_METHOD, CoverageScenario.MISSING_PARAMETER):
            kept.append(case)
        elif others < sample:
            others += 1
            kept.append(case)
    return kept


def assert_refused_as_missing(response: Any, case: Any) -> None:
    assert response.status_code in REFUSED_STATUSES, (case.path, response.status_code)
    assert response.json()["code"] in REFUSED_CODES
