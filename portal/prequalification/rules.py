"""The rules of the PQS as pure functions: what a complete PQS has, how test identifiers are read, and
which task states let whom change what. No database access."""

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings

from portal.qualification.workflow import TaskState

PQS_TASK = "pqs"

# The participant may change the PQS and its proposal while the task is with them.
EDITABLE_STATES = (TaskState.NOT_STARTED, TaskState.IN_PROGRESS, TaskState.CHANGES_REQUESTED)
# The Code Bodies decide on proposal items while the PQS is with them.
DECIDABLE_STATES = (TaskState.SUBMITTED,)

MAX_TEXT = 5000
MAX_SHORT_TEXT = 200
MAX_ITEMS = 200
MAX_IDENTIFIERS = 500
MAX_IDENTIFIER_LENGTH = 60
MAX_EVIDENCE_PER_ITEM = 20
# Dates outside this window are typing mistakes, not plans.
EARLIEST_YEAR = 2020
LATEST_YEAR = 2040

IDENTIFIER_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
IDENTIFIER_SEPARATORS = re.compile(r"[\s,;]+")

# Routes on which the PQS exists *because* the participant places reliance (a new-entrant LDSO that
# does not place reliance marks the task not required): there a submitted PQS must rely on something.
DEFAULT_RELIANCE_REQUIRED_ROUTES = ("new_entrant_ldso",)


def reliance_required_routes() -> tuple[str, ...]:
    return tuple(getattr(settings, "PORTAL_PQS_RELIANCE_REQUIRED_ROUTES", DEFAULT_RELIANCE_REQUIRED_ROUTES))


def reliance_required(route_code: str) -> bool:
    return route_code in reliance_required_routes()


@dataclass(frozen=True)
class Missing:
    """Something a PQS needs before it can be submitted: the field it is about and what to do."""

    field: str
    message: str


# The fields a complete PQS has, in the order of the form, with what to ask for when one is empty.
REQUIRED_FIELDS: tuple[tuple[str, str], ...] = (
    ("preferred_wave", "Select the preferred wave"),
    ("pit_approach", "Enter the PIT approach"),
    ("pit_start_date", "Enter the date PIT starts"),
    ("pit_completion_date", "Enter the date PIT will be completed"),
    ("qt_approach", "Enter the QT approach"),
    ("qt_start_date", "Enter the date QT starts"),
    ("qt_completion_date", "Enter the date QT will be completed"),
    ("target_migration_date", "Enter the target migration date"),
)

FIELD_LABELS: dict[str, str] = {
    "preferred_wave": "Preferred wave",
    "pit_approach": "PIT approach",
    "pit_start_date": "PIT start date",
    "pit_completion_date": "PIT completion date",
    "qt_approach": "QT approach",
    "qt_start_date": "QT start date",
    "qt_completion_date": "QT completion date",
    "target_migration_date": "Target migration date",
    "supplier_hub_relationships": "Supplier-hub relationships",
    "items": "Placing-reliance proposal",
}


def missing_fields(
    values: dict[str, Any] | None,
    *,
    wave_active: bool,
    relied_on_items: int,
    reliance_needed: bool,
) -> list[Missing]:
    """What stops a PQS with these `values` from being submitted (empty when it is complete)."""
    values = values or {}
    missing = []
    for name, message in REQUIRED_FIELDS:
        value = values.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            missing.append(Missing(name, message))
        elif name == "preferred_wave" and not wave_active:
            missing.append(Missing(name, "The preferred wave is no longer offered: select another wave"))
    if reliance_needed and relied_on_items == 0:
        missing.append(
            Missing(
                "items",
                "Add at least one item of testing you rely on: on this route the PQS is the placing-reliance proposal",
            )
        )
    return missing


def describe_missing(missing: Sequence[Missing]) -> str:
    first = "; ".join(m.message[0].lower() + m.message[1:] for m in missing)
    return f"The PQS is not complete yet: {first}."


@dataclass(frozen=True)
class DateProblem:
    field: str
    message: str


def date_problems(values: Mapping[str, date | None]) -> list[DateProblem]:
    """Dates out of range, or in an order that cannot be a plan."""
    problems = []
    for name, value in values.items():
        if value is not None and not (EARLIEST_YEAR <= value.year <= LATEST_YEAR):
            label = FIELD_LABELS.get(name, name)
            problems.append(DateProblem(name, f"{label} must be between {EARLIEST_YEAR} and {LATEST_YEAR}"))
    if problems:
        return problems
    pit_start, pit_end = values.get("pit_start_date"), values.get("pit_completion_date")
    if pit_start and pit_end and pit_end < pit_start:
        problems.append(
            DateProblem("pit_completion_date", "The PIT completion date must be on or after its start date")
        )
    qt_start, qt_end = values.get("qt_start_date"), values.get("qt_completion_date")
    if qt_start and qt_end and qt_end < qt_start:
        problems.append(DateProblem("qt_completion_date", "The QT completion date must be on or after its start date"))
    migration = values.get("target_migration_date")
    if qt_end and migration and migration <= qt_end:
        problems.append(
            DateProblem(
                "target_migration_date",
                "The target migration date must be after the QT completion date: migration follows qualification",
            )
        )
    return problems


class IdentifierError(ValueError):
    pass


def parse_identifiers(value: str | Iterable[str]) -> list[str]:
    """Test scenario or case identifiers, from text separated by commas, semicolons, spaces or new lines
    (or a list): each checked, duplicates dropped, order kept."""
    if isinstance(value, str):
        tokens = IDENTIFIER_SEPARATORS.split(value)
    else:
        tokens = []
        for part in value:
            tokens.extend(IDENTIFIER_SEPARATORS.split(str(part)))
    seen: dict[str, None] = {}
    for token in tokens:
        token = token.strip()
        if not token:
            continue
        if len(token) > MAX_IDENTIFIER_LENGTH:
            raise IdentifierError(f"Each identifier must be {MAX_IDENTIFIER_LENGTH} characters or fewer")
        if not IDENTIFIER_PATTERN.match(token):
            shown = "".join(ch for ch in token if ch.isprintable())[:30]
            raise IdentifierError(
                f"“{shown}” is not a test identifier: use letters, digits, dots, hyphens, underscores and slashes"
            )
        seen.setdefault(token, None)
    if not seen:
        raise IdentifierError("Enter the test scenario or test case identifiers")
    if len(seen) > MAX_IDENTIFIERS:
        raise IdentifierError(f"Enter {MAX_IDENTIFIERS} identifiers or fewer in one item")
    return list(seen)
