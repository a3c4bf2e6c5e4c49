"""How the authorization matrix is walked: every address of the URLconf and every API operation, the
sample value of each address's parameters, what an answer counts as, and the cells of one row.

The expectations themselves are in `authz_table.py`; this module only reads them.

Outcomes: the status code (200, 302, 400, 403, 404, 405, 409, 422, …), or `login` for a redirect to
the sign-in page (the web's answer to an anonymous caller). The API answers an anonymous caller 401.
"""

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from portal.audit.models import AuditEvent
from portal.core.authz_audit import DENIED_ACTION
from portal.tests.security.world import ANONYMOUS, DIRECTOR, MEMBER, MISSING, SUBJECTS, Side, World

Outcome = int | str
LOGIN = "login"
# An unsafe call that whoever may act would take (or refuse as bad input, or as not possible now): the
# matrix checks refusals of unsafe calls, so these cells are not called.
OK = "ok"
PARTICIPANT_SUBJECTS = (MEMBER, DIRECTOR)

# Addresses served by others' frameworks, covered by a rule each (see test_authorization_matrix.py).
ADMIN_PREFIX = "admin/"
ACCOUNTS_PREFIX = "accounts/"
API_PREFIX = "api/"


@dataclass(frozen=True)
class Address:
    """One named pattern of the URLconf."""

    name: str  # "web:application_detail"
    route: str  # "applications/<int:application_id>/"
    kwargs: tuple[str, ...]


def walk_urlconf() -> list[Address]:
    """Every pattern of the URLconf, with its full route and the names of its parameters."""
    found: list[Address] = []

    def walk(resolver: URLResolver, prefix: str, namespace: str) -> None:
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace
                if pattern.namespace:
                    inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                walk(pattern, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                name = f"{namespace}:{pattern.name}" if namespace and pattern.name else str(pattern.name or "")
                kwargs = tuple(re.findall(r"<(?:[^>:]+:)?([^>]+)>", route))
                if not kwargs and "(?P<" in route:
                    kwargs = tuple(re.findall(r"\(\?P<([^>]+)>", route))
                found.append(Address(name=name, route=route, kwargs=kwargs))

    walk(get_resolver(), "", "")
    return found


@dataclass(frozen=True)
class Operation:
    """One operation of the API's OpenAPI document."""

    operation_id: str
    method: str  # "GET", "POST", …
    path: str  # "/api/v1/applications/{application_id}"
    params: tuple[str, ...]


def api_operations() -> list[Operation]:
    from portal.api.api import api

    document = api.get_openapi_schema()
    operations = []
    for path, methods in document["paths"].items():
        for method, spec in methods.items():
            params = tuple(p["name"] for p in spec.get("parameters", []) if p.get("in") == "path")
            operations.append(Operation(spec["operationId"], method.upper(), path, params))
    return operations


def sample_kwargs(name: str, kwargs: tuple[str, ...], side: Side, samples: dict[str, Any]) -> dict[str, Any]:
    """The value of each parameter for the address `name` on `side`. `samples` maps a parameter name
    (or "route name.parameter", which wins) to a key of `side.ids` or a constant. A parameter with no
    sample is an error: a new address must be given one."""
    from portal.tests.security.authz_table import Key

    values = {}
    for kwarg in kwargs:
        sample = samples.get(f"{name}.{kwarg}", samples.get(kwarg))
        if sample is None:
            raise LookupError(f"{name}: no sample value for the parameter {kwarg!r}; add one to authz_table.SAMPLES")
        values[kwarg] = side.ids[sample.name] if isinstance(sample, Key) else sample
    return values


def missing_kwargs(values: dict[str, Any], ours: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """`values` with each organisation's own object (a parameter whose sample differs between the two
    organisations) replaced by an id that nothing has."""
    result = dict(values)
    for kwarg, value in ours.items():
        if other.get(kwarg) != value:
            result[kwarg] = MISSING if isinstance(value, int) else "no-such-thing"
    return result


def classify(response: Any) -> Outcome:
    if response.status_code in (301, 302) and response.get("Location", "").startswith(reverse("account_login")):
        return LOGIN
    return int(response.status_code)


def is_refusal(outcome: Outcome) -> bool:
    return outcome in (LOGIN, 401, 403, 404, 405)


def _flatten(who: Any) -> list[str]:
    """A subject, or a tuple of subjects and groups (tuples of subjects)."""
    if isinstance(who, str):
        return [who]
    return [subject for item in who for subject in _flatten(item)]


def expand(spec: dict[Any, Any], *, anonymous: Outcome) -> dict[str, Outcome]:
    """A row's compact expectation — {outcome: subjects, …, "*": outcome for everyone else signed in} —
    as one outcome per subject. The anonymous caller gets `anonymous` unless the row names it."""
    result: dict[str, Outcome] = {}
    for outcome, who in spec.items():
        if outcome == "*":
            continue
        for subject in _flatten(who):
            if subject in result:
                raise ValueError(f"{subject} is given two outcomes")
            result[subject] = outcome
    rest = spec.get("*")
    for subject in SUBJECTS:
        if subject not in result:
            if subject == ANONYMOUS:
                result[subject] = anonymous
            elif rest is None:
                raise ValueError(f"no outcome for {subject} and no '*'")
            else:
                result[subject] = rest
    return result


def denied_count() -> int:
    return AuditEvent.objects.filter(action=DENIED_ACTION).count()


def change_count() -> int:
    """Every audit event but the refusals' own and the sign-in bookkeeping: any write by a service."""
    return AuditEvent.objects.exclude(action=DENIED_ACTION).exclude(action__startswith="auth.").count()


class Caller:
    """One client per subject, signed in once."""

    def __init__(self, world: World) -> None:
        from portal.tests.security.world import sign_in

        self.world = world
        self.clients: dict[str, Client] = {}
        for subject in SUBJECTS:
            client = Client()
            user = world.user(subject)
            if user is not None:
                sign_in(client, user)
            self.clients[subject] = client

    def call(self, subject: str, method: str, path: str, *, api: bool = False) -> Any:
        client = self.clients[subject]
        if method == "GET":
            return client.get(path)
        if api:
            return client.generic(method, path, json.dumps({}), content_type="application/json")
        return client.generic(method, path, "", content_type="application/x-www-form-urlencoded")


@dataclass
class Cell:
    subject: str
    method: str
    path: str
    expected: Outcome
    got: Outcome
    note: str = ""

    def __str__(self) -> str:
        return f"{self.method} {self.path} as {self.subject}: expected {self.expected}, got {self.got}{self.note}"


def check_call(caller: Caller, subject: str, method: str, path: str, expected: Outcome, *, api: bool) -> Iterator[Cell]:
    """Make one call; yield a Cell for each thing that is wrong: the outcome, a change made by a refused
    unsafe call, or a refusal not audited exactly once."""
    if expected == OK and method != "GET":
        return
    denied_before, changes_before = denied_count(), change_count()
    got = classify(caller.call(subject, method, path, api=api))
    if got != expected:
        yield Cell(subject, method, path, expected, got)
    if is_refusal(got):
        if change_count() != changes_before:
            yield Cell(subject, method, path, expected, got, " — but the refused call changed something")
        if got == 403 and denied_count() != denied_before + 1:
            yield Cell(subject, method, path, expected, got, " — not audited exactly once as authz.denied")
