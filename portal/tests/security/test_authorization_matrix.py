"""The authorization matrix (ASVS v5.0.0-8.2.1, 8.2.2, 8.3.1, 8.4.1; goal S-04).

Every pattern of the URLconf and every operation of the API's OpenAPI document is asked for by every
subject — anonymous, Northern's member and director, each staff role — and answered as
`authz_table.py` says. For every address that names an organisation's object, Northern's participants
asking for Rival's object get exactly the answer for an object that does not exist. A refused call
changes nothing, and each 403 (and each 404 for another organisation's application) leaves exactly
one `authz.denied` audit event.

A pattern or operation without a row fails `test_every_address_has_a_row`, and its own test fails
too; an address parameter without a sample value fails its test with the parameter named.

Run with `AUTHZ_MATRIX_RECORD=/tmp/observed.jsonl` to write what was observed instead of checking it
(then `python -m portal.tests.security.record /tmp/observed.jsonl` prints it as table rows, to review
before pasting: a recorded answer is not a right answer).
"""

import json
import os
from typing import Any

import pytest
from django.urls import reverse

from portal.tests.security import authz_table as table
from portal.tests.security.matrix import (
    ACCOUNTS_PREFIX,
    ADMIN_PREFIX,
    API_PREFIX,
    LOGIN,
    OK,
    PARTICIPANT_SUBJECTS,
    Address,
    Caller,
    Cell,
    Operation,
    api_operations,
    change_count,
    check_call,
    classify,
    denied_count,
    expand,
    is_refusal,
    missing_kwargs,
    sample_kwargs,
    walk_urlconf,
)
from portal.tests.security.world import ANONYMOUS, SUBJECTS, World

pytestmark = pytest.mark.django_db

RECORD = os.environ.get("AUTHZ_MATRIX_RECORD", "")

ADDRESSES = walk_urlconf()
OPERATIONS = api_operations()
# The API's own patterns that are not operations: its document, its browsable docs, the API root and
# the catch-all that answers unknown addresses 404 in the API's error shape.
API_SPECIAL = {"api:openapi-json", "api:openapi-view", "api:api-root"}
API_CATCH_ALL = r"api/^[\s\S]*$"
WEB_ADDRESSES = [
    a
    for a in ADDRESSES
    if not a.route.startswith((ADMIN_PREFIX, ACCOUNTS_PREFIX, API_PREFIX)) and a.name not in API_SPECIAL
]
ADMIN_ADDRESSES = [a for a in ADDRESSES if a.route.startswith(ADMIN_PREFIX)]
ACCOUNT_ADDRESSES = [a for a in ADDRESSES if a.route.startswith(ACCOUNTS_PREFIX)]


def _api_route(route: str) -> str:
    """`api/v1/applications/<int:application_id>` as the document writes it."""
    import re

    return "/" + re.sub(r"<(?:[^>:]+:)?([^>]+)>", r"{\1}", route)


def test_every_address_has_a_row() -> None:
    operation_paths = {op.path for op in OPERATIONS}
    problems = []
    for address in ADDRESSES:
        if address.route.startswith((ADMIN_PREFIX, ACCOUNTS_PREFIX)):
            continue  # the rules below
        if address.route.startswith(API_PREFIX):
            if address.route == API_CATCH_ALL or address.name in API_SPECIAL:
                continue
            if _api_route(address.route) not in operation_paths:
                problems.append(f"{address.route} ({address.name}) is not an operation of the OpenAPI document")
            continue
        if not address.name or address.name.endswith(":None"):
            problems.append(f"{address.route} has no name")
        elif address.name not in table.WEB:
            problems.append(f"{address.name} ({address.route}) has no row in authz_table.WEB")
    problems += [
        f"API operation {op.operation_id} has no row in authz_table.API"
        for op in OPERATIONS
        if op.operation_id not in table.API
    ]
    stale = set(table.WEB) - {a.name for a in WEB_ADDRESSES}
    stale |= set(table.API) - {op.operation_id for op in OPERATIONS}
    problems += [f"{name} has a row but no longer exists" for name in sorted(stale)]
    assert not problems, "\n".join(problems)


def _record(kind: str, name: str, observed: dict[str, dict[str, Any]]) -> None:
    with open(RECORD, "a", encoding="utf-8") as out:
        out.write(json.dumps({"kind": kind, "name": name, "observed": observed}) + "\n")


def _run_row(
    caller: Caller, world: World, name: str, kwargs: tuple[str, ...], build: Any, methods: dict[str, Any], *, api: bool
) -> None:
    """`methods`: {HTTP method: compact expectation}. `build(values)` makes the path."""
    ours = sample_kwargs(name, kwargs, world.ours, table.SAMPLES)
    other = sample_kwargs(name, kwargs, world.other, table.SAMPLES)
    path = build(ours)
    anonymous = 401 if api else LOGIN
    wrong: list[Cell] = []
    observed: dict[str, dict[str, Any]] = {}
    for method, spec in methods.items():
        if RECORD:
            answers = {s: classify(caller.call(s, method, path, api=api)) for s in SUBJECTS}
            if method != "GET":
                answers = {s: o if is_refusal(o) else OK for s, o in answers.items()}
            observed[method] = answers
            continue
        expected = expand(spec, anonymous=anonymous)
        for subject in SUBJECTS:
            wrong += check_call(caller, subject, method, path, expected[subject], api=api)
    if RECORD:
        _record("api" if api else "web", name, observed)
        return
    # Tenancy: another organisation's object is answered as a missing one, and changes nothing.
    if other != ours:
        other_path, missing_path = build(other), build(missing_kwargs(ours, ours, other))
        for method in methods:
            for subject in PARTICIPANT_SUBJECTS:
                missing = classify(caller.call(subject, method, missing_path, api=api))
                denied, changes = denied_count(), change_count()
                got = classify(caller.call(subject, method, other_path, api=api))
                if got != missing:
                    wrong.append(Cell(subject, method, other_path, f"{missing} (as for a missing object)", got))
                if change_count() != changes:
                    wrong.append(Cell(subject, method, other_path, missing, got, " — and it changed something"))
                audited = 1 if got == 403 or (got == 404 and "application_id" in ours) else 0
                if denied_count() - denied != audited:
                    wrong.append(
                        Cell(subject, method, other_path, missing, got, f" — expected {audited} authz.denied event")
                    )
    assert not wrong, f"{len(wrong)} cells differ from the matrix:\n" + "\n".join(map(str, wrong))


@pytest.mark.parametrize("address", WEB_ADDRESSES, ids=lambda a: a.name)
def test_web_address(caller: Caller, world: World, address: Address) -> None:
    row = table.WEB.get(address.name)
    if row is None and not RECORD:
        pytest.fail(f"{address.name} has no row in authz_table.WEB")
    methods = {"GET": (row or {}).get("get"), "POST": (row or {}).get("post")}
    _run_row(
        caller,
        world,
        address.name,
        address.kwargs,
        lambda values: reverse(address.name, kwargs=values),
        methods,
        api=False,
    )


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.operation_id)
def test_api_operation(caller: Caller, world: World, operation: Operation) -> None:
    row = table.API.get(operation.operation_id)
    if row is None and not RECORD:
        pytest.fail(f"{operation.operation_id} has no row in authz_table.API")

    def build(values: dict[str, Any]) -> str:
        path = operation.path
        for key, value in values.items():
            path = path.replace("{" + key + "}", str(value))
        return path

    _run_row(
        caller,
        world,
        f"api:{operation.operation_id}",
        operation.params,
        build,
        {operation.method: row},
        api=True,
    )


def test_the_admin_site_is_for_administrators_only(caller: Caller) -> None:
    """The rule for the admin site's patterns: every page of it asks the admin site's own sign-in of
    anyone but an administrator (a superuser with staff status). Checked on its index and on each
    model's list page, for every subject."""
    pages = [reverse("admin:index")] + [
        reverse(a.name) for a in ADMIN_ADDRESSES if a.name.endswith("_changelist") and not a.kwargs
    ]
    assert len(pages) > 10
    login = reverse("admin:login")
    wrong = []
    for subject in SUBJECTS:
        for page in pages:
            response = caller.call(subject, "GET", page)
            if subject == table.ADMIN:
                ok = response.status_code == 200
            else:
                ok = response.status_code == 302 and response["Location"].startswith(login)
            if not ok:
                wrong.append(f"{page} as {subject}: {response.status_code} {response.get('Location', '')}")
    assert not wrong, "\n".join(wrong)


def test_the_account_pages_are_public_or_ask_for_sign_in(caller: Caller) -> None:
    """The rule for allauth's own patterns under /accounts/ (sign-in, password reset, two-factor set-up):
    an anonymous caller gets the page (the public sign-in and reset pages) or is sent to sign in, and
    none of them fails for a signed-in subject."""
    wrong = []
    for address in ACCOUNT_ADDRESSES:
        values = {kwarg: "x1-x2" for kwarg in address.kwargs}
        path = reverse(address.name, kwargs=values)
        for subject in (ANONYMOUS, table.M, table.D, table.ANALYST, table.ADMIN):
            response = caller.call(subject, "GET", path)
            if response.status_code >= 500 or response.status_code not in (200, 302, 400, 403, 404, 405):
                wrong.append(f"{path} as {subject}: {response.status_code}")
    assert not wrong, "\n".join(wrong)
