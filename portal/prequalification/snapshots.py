"""The content of a PQS and of its proposal items as plain values: what the audit log records, what a
submitted version freezes, and what completeness is judged on."""

from datetime import date
from typing import Any

from portal.prequalification.models import PqsSubmission, RelianceProposalItem


def pqs_values(pqs: PqsSubmission | None) -> dict[str, Any]:
    """The PQS's content as plain values (for the audit log, frozen versions and completeness)."""
    if pqs is None:
        return {}
    return {
        "preferred_wave": pqs.preferred_wave.code if pqs.preferred_wave else None,
        "pit_approach": pqs.pit_approach,
        "pit_start_date": _iso(pqs.pit_start_date),
        "pit_completion_date": _iso(pqs.pit_completion_date),
        "qt_approach": pqs.qt_approach,
        "qt_start_date": _iso(pqs.qt_start_date),
        "qt_completion_date": _iso(pqs.qt_completion_date),
        "target_migration_date": _iso(pqs.target_migration_date),
        "supplier_hub_relationships": pqs.supplier_hub_relationships,
    }


def item_values(item: RelianceProposalItem) -> dict[str, Any]:
    evidence = list(item.evidence.all().order_by("id")) if item.pk else []
    return {
        "id": item.pk,
        "title": item.title,
        "scope": item.scope,
        "identifiers": list(item.identifiers),
        "relied_on": item.relied_on,
        "provider_kind": item.provider_kind,
        "provider_name": item.provider_name,
        "artefacts": item.artefacts,
        "rationale": item.rationale,
        "evidence": [{"id": e.pk, "name": e.original_name, "sha256": e.sha256} for e in evidence],
        "decision": item.decision,
        "decision_reason": item.decision_reason,
    }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
