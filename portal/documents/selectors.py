from typing import Any

from django.db.models import QuerySet

from portal.documents.models import EvidenceFile
from portal.qualification.permissions import application_scope_for


def evidence_scope_for(user: Any) -> QuerySet[EvidenceFile]:
    """Evidence of the applications the user may see; anything else answers 404."""
    return EvidenceFile.objects.filter(application__in=application_scope_for(user))


def evidence_for_application(*, user: Any, application_id: int, purpose: str | None = None) -> QuerySet[EvidenceFile]:
    qs = evidence_scope_for(user).filter(application_id=application_id).select_related("uploaded_by")
    if purpose is not None:
        qs = qs.filter(purpose=purpose)
    return qs
