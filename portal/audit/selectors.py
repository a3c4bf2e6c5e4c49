from django.db.models import QuerySet

from portal.audit.models import AuditEvent


def audit_events_for_application(*, application_id: int) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(application_id=application_id).select_related("actor").order_by("-sequence")
