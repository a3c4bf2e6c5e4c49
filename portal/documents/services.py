"""Storing and serving evidence files."""

from typing import Any

from django.db import transaction

from portal.accounts.selectors import user_organisation_ids
from portal.audit.services import audit_record
from portal.core.errors import NotFound
from portal.documents.evidence import check_evidence_file
from portal.documents.models import EvidenceFile
from portal.documents.selectors import evidence_scope_for


@transaction.atomic
def evidence_store(*, actor: Any, application: Any, upload: Any, purpose: str = "") -> EvidenceFile:
    """Check one uploaded file and store it under a server-generated name.

    The caller has already decided that `actor` may add evidence to `application`; a file that breaks
    a rule raises InvalidInput naming the rule, and nothing is stored."""
    checked = check_evidence_file(upload)
    evidence = EvidenceFile(
        organisation_id=application.organisation_id,
        application=application,
        original_name=checked.name,
        file_type=checked.file_type,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        uploaded_by=actor,
        purpose=purpose[:60],
    )
    upload.seek(0)
    evidence.file.save(checked.name, upload, save=False)
    evidence.save(force_insert=True)
    audit_record(
        actor=actor,
        action="evidence.upload",
        target=evidence,
        summary=f"Uploaded {checked.name} ({checked.size} bytes) to {application.reference}",
        after={"name": checked.name, "sha256": checked.sha256, "size": checked.size, "purpose": purpose},
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    return evidence


@transaction.atomic
def evidence_open_for_download(*, actor: Any, evidence_id: int) -> EvidenceFile:
    """The evidence file if the actor may see its application (else NotFound); every download by
    someone outside the participant's organisation (a reviewer) is audited."""
    evidence = evidence_scope_for(actor).select_related("application").filter(pk=evidence_id).first()
    if evidence is None:
        raise NotFound("No evidence file was found with that reference.")
    if evidence.organisation_id not in user_organisation_ids(actor):
        audit_record(
            actor=actor,
            action="evidence.download",
            target=evidence,
            summary=f"Downloaded {evidence.original_name} from {evidence.application.reference}",
            after={"sha256": evidence.sha256},
            organisation_id=evidence.organisation_id,
            application_id=evidence.application_id,
        )
    return evidence
