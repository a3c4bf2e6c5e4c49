from django.db.models import QuerySet

from portal.audit.models import AuditEvent


def audit_events_for_application(*, application_id: int) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(application_id=application_id).select_related("actor").order_by("-sequence")


def latest_change_sequence() -> int:
    """The sequence number of the newest event that records a change to the portal's records (0 before
    the first). Every change writes one, so a figure worked out when this was N is current for as long
    as it stays N. Sign-ins, sign-outs and refusals (`auth.*`, `authz.*`) change no record."""
    latest = AuditEvent.objects.exclude(action__startswith="auth").order_by("-sequence")
    return latest.values_list("sequence", flat=True).first() or 0
