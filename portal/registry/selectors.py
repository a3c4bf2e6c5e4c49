"""Every read of the public register. The register is public: nothing here depends on who asks, and
nothing here reveals more than the register itself (no application, no user, no conditions' text)."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Q, QuerySet

from portal.participants.models import MarketRole
from portal.registry.models import REGISTER_STATUSES, EntryStatus, Register, RegisterEntry

REGISTER_ORDER = (Register.REC_PARTY, Register.MHHS)


def register_entries(
    *, history: bool = False, register: str = "", market_role: str = "", status: str = "", search: str = ""
) -> QuerySet[RegisterEntry]:
    """The current entries (by register, organisation, MPID and role), or with `history` every entry
    ever recorded (newest first); filtered by register, market role code, status and a search (part of
    the organisation's name, or the MPID) when given."""
    entries = RegisterEntry.objects.all()
    if search:
        entries = entries.filter(Q(organisation_name__icontains=search) | Q(mpid_code__iexact=search))
    if not history:
        entries = entries.filter(is_current=True)
    if register:
        entries = entries.filter(register=register)
    if market_role:
        entries = entries.filter(market_role_code=market_role)
    if status:
        entries = entries.filter(status=status)
    if history:
        return entries.order_by("-recorded_at", "-id")
    return entries.order_by("register", "organisation_name", "mpid_code", "market_role_code", "id")


@dataclass(frozen=True)
class RegisterSection:
    register: Register
    entries: QuerySet[RegisterEntry]

    @property
    def title(self) -> str:
        return {
            Register.REC_PARTY: "REC Party Register",
            Register.MHHS: "MHHS qualified participants",
        }[self.register]


def register_sections(*, market_role: str = "", status: str = "", search: str = "") -> list[RegisterSection]:
    """The current register in its two sections, the REC Party Register then MHHS qualification, each
    a query for its entries (a page of them is shown at a time)."""
    return [
        RegisterSection(r, register_entries(register=r, market_role=market_role, status=status, search=search))
        for r in REGISTER_ORDER
    ]


def register_role_choices() -> list[tuple[str, str]]:
    """The market roles to filter by: every role of the reference data, and any role an entry still
    names that the reference data no longer has."""
    roles = dict(MarketRole.objects.order_by("order", "code").values_list("code", "name"))
    # order_by() drops the model's ordering, which would otherwise make every row distinct.
    named = RegisterEntry.objects.order_by().values_list("market_role_code", "market_role_name").distinct()
    for code, name in named:
        roles.setdefault(code, name)
    return list(roles.items())


def register_status_choices() -> list[tuple[str, str]]:
    return [(s.value, s.label) for r in REGISTER_ORDER for s in REGISTER_STATUSES[r]]


# --- the register as data (CSV, JSON) ------------------------------------------------------------------

EXPORT_FIELDS = (
    "id",
    "register",
    "register_name",
    "organisation",
    "mpid",
    "market_role",
    "market_role_name",
    "status",
    "status_name",
    "with_conditions",
    "effective_date",
    "recorded_at",
    "is_current",
    "superseded_at",
    "previous_id",
)


def entry_record(entry: RegisterEntry) -> dict[str, Any]:
    """One entry as the public sees it in the CSV and JSON files."""
    return {
        "id": entry.pk,
        "register": entry.register,
        "register_name": Register(entry.register).label,
        "organisation": entry.organisation_name,
        "mpid": entry.mpid_code,
        "market_role": entry.market_role_code,
        "market_role_name": entry.market_role_name,
        "status": entry.status,
        "status_name": EntryStatus(entry.status).label,
        "with_conditions": bool(entry.conditions),
        "effective_date": entry.effective_date,
        "recorded_at": entry.recorded_at,
        "is_current": entry.is_current,
        "superseded_at": entry.superseded_at,
        "previous_id": entry.previous_id,
    }


def register_records(*, history: bool = False) -> Iterator[dict[str, Any]]:
    """Every entry of the export, streamed from the database."""
    for entry in register_entries(history=history).iterator(chunk_size=500):
        yield entry_record(entry)


def json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def json_records(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: json_value(v) for k, v in record.items()} for record in records]
