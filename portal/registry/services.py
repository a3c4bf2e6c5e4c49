"""Every write to the public register goes through here.

Entries are recorded by domain code, never as a user action: the task transitions record them through
the effects in `portal.registry.effects` (the REC Code Manager's approval, qualification, Service
Activation), inside the transition's transaction and under its authorisation.
"""

import unicodedata
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.audit.services import audit_record
from portal.core.calendar import uk_today
from portal.core.errors import Conflict, InvalidInput
from portal.qualification.models import Application
from portal.registry.models import REGISTER_STATUSES, EntryStatus, Register, RegisterEntry

# Long enough for the conditions of every approving body together (each comment is at most 5,000 characters).
MAX_CONDITIONS_LENGTH = 20_000


def register_record(
    *,
    actor: Any,
    application: Application,
    register: str,
    status: str,
    effective_date: date | None = None,
    conditions: str = "",
) -> RegisterEntry:
    """Record that `application`'s MPID and market role now has `status` on `register`, effective on
    `effective_date` (default: today in the UK).

    Locks the application and the current entry for the register, MPID and market role, marks that
    entry superseded, adds the new one pointing at it and writes one audit event, all in one
    transaction. Recording the status the current entry already has changes nothing and answers the
    current entry. Refused (InvalidInput) for a status the register does not record."""
    entry, _ = register_record_change(
        actor=actor,
        application=application,
        register=register,
        status=status,
        effective_date=effective_date,
        conditions=conditions,
    )
    return entry


@transaction.atomic
def register_record_change(
    *,
    actor: Any,
    application: Application,
    register: str,
    status: str,
    effective_date: date | None = None,
    conditions: str = "",
) -> tuple[RegisterEntry, bool]:
    """`register_record`, also answering whether a new entry was added (False when the status was
    already recorded)."""
    if register not in Register.values:
        raise InvalidInput(f"“{register}” is not a register.", details={"field": "register"})
    allowed = REGISTER_STATUSES[Register(register)]
    if status not in allowed:
        raise InvalidInput(
            f"The {Register(register).label} does not record “{status}”; it records "
            + ", ".join(f"“{s.value}”" for s in allowed)
            + ".",
            details={"field": "status"},
        )
    conditions = _clean_conditions(conditions)
    locked = (
        Application.objects.select_for_update()
        .select_related("organisation", "mpid", "market_role")
        .get(pk=application.pk)
    )
    mpid, role = locked.mpid.code, locked.market_role
    current = (
        RegisterEntry.objects.select_for_update()
        .filter(register=register, mpid_code=mpid, market_role_code=role.code, is_current=True)
        .first()
    )
    if current is not None and current.status == status and current.application_id == locked.pk:
        return current, False

    now = timezone.now()
    if current is not None:
        current.is_current = False
        current.superseded_at = now
        current.save(update_fields=["is_current", "superseded_at"])
    try:
        with transaction.atomic():
            entry = RegisterEntry.objects.create(
                application=locked,
                organisation=locked.organisation,
                organisation_name=locked.organisation.name,
                mpid_code=mpid,
                market_role_code=role.code,
                market_role_name=role.name,
                register=register,
                status=status,
                conditions=conditions,
                effective_date=effective_date or uk_today(),
                recorded_at=now,
                recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
                previous=current,
            )
    except IntegrityError as exc:  # another transaction recorded an entry for the same MPID and role
        raise Conflict(f"The {Register(register).label} entry for {mpid} as {role.name} changed meanwhile.") from exc

    audit_record(
        actor=actor,
        action="register.record",
        target=entry,
        summary=f"{Register(register).label}: {entry.organisation_name} {mpid} as {role.name} recorded as "
        f"“{EntryStatus(status).label}” from {entry.effective_date:%d %b %Y}",
        before=entry_snapshot(current) if current is not None else {},
        after=entry_snapshot(entry),
        organisation_id=locked.organisation_id,
        application_id=locked.pk,
    )
    return entry, True


def entry_snapshot(entry: RegisterEntry) -> dict[str, Any]:
    """What the audit event records of an entry."""
    return {
        "id": entry.pk,
        "register": entry.register,
        "organisation": entry.organisation_name,
        "mpid": entry.mpid_code,
        "market_role": entry.market_role_code,
        "status": entry.status,
        "conditions": entry.conditions,
        "effective_date": entry.effective_date.isoformat(),
        "previous_id": entry.previous_id,
    }


def _clean_conditions(value: str) -> str:
    text = (value or "").strip()
    if len(text) > MAX_CONDITIONS_LENGTH:
        raise InvalidInput(
            f"The conditions must be {MAX_CONDITIONS_LENGTH} characters or fewer.", details={"field": "conditions"}
        )
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in text):
        raise InvalidInput("The conditions contain control characters.", details={"field": "conditions"})
    return text
