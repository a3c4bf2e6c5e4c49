"""What every API fuzz test shares: the schemathesis checks, loading the operations of an OpenAPI
document served by the project's own WSGI application, and running generated calls against each.

Generation is derandomised so that CI runs repeat exactly; the examples per operation are kept small
so that the whole suite stays quick. Modules using it mark their tests with
`pytest.mark.usefixtures("direct_wsgi_calls")` (portal/conftest.py)."""

from collections.abc import Callable
from typing import Any

import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from schemathesis import checks
from schemathesis.core.result import Ok

from portal.accounts.services import api_token_create

# Everything a response must honour, whatever was sent.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
    checks.ignored_auth,
    checks.unsupported_method,
]
# For calls aimed at real objects: the answer is documented, whatever the services decided.
RESPONSE_CHECKS = CHECKS[:4]
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
        call(case)

    each()


def assert_refused_as_missing(response: Any, case: Any) -> None:
    assert response.status_code in REFUSED_STATUSES, (case.path, response.status_code)
    assert response.json()["code"] in REFUSED_CODES
