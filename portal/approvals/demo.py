"""The approvals part of the demo data: the BSC PAB meetings of the months ahead (from the rule, as the
daily job makes them) and a target meeting for each demo application whose Final QAD is signed and that
needs BSC PAB approval, set by a demo Elexon analyst through the ordinary service, so that the
participants are told as they would be. Idempotent: generating again adds nothing, and an application
that already has a target keeps it."""

from dataclasses import dataclass, field

from django.db import transaction

from portal.accounts.roles import Role
from portal.accounts.selectors import users_with_roles
from portal.approvals.models import MeetingStatus, PabMeeting, PabTarget
from portal.approvals.permissions import PAB_TASK, SIGNOFF_TASK
from portal.approvals.services import pab_meetings_generate, pab_target_set
from portal.core.calendar import uk_today
from portal.qualification.models import Application
from portal.qualification.workflow import CLOSED_STATUSES, TaskState


@dataclass
class ApprovalsDemoReport:
    meetings_added: int = 0
    targeted: list[str] = field(default_factory=list)


@transaction.atomic
def approvals_demo_load() -> ApprovalsDemoReport:
    report = ApprovalsDemoReport(meetings_added=len(pab_meetings_generate(actor=None).created))
    analyst = users_with_roles({Role.ELEXON_ANALYST}).order_by("email").first()
    if analyst is None:
        return report
    today = uk_today()
    # The first meeting whose paper deadline is still ahead: the one a signed application can make.
    meeting = (
        PabMeeting.objects.filter(status=MeetingStatus.SCHEDULED, paper_deadline__gte=today).order_by("date").first()
    )
    if meeting is None:
        return report
    ready = (
        Application.objects.exclude(status__in=[s.value for s in CLOSED_STATUSES])
        .filter(tasks__code=SIGNOFF_TASK, tasks__state=TaskState.COMPLETED)
        .filter(tasks__code=PAB_TASK)
        .exclude(pk__in=PabTarget.objects.filter(is_current=True).values("application_id"))
        .order_by("pk")
        .distinct()
    )
    for application in ready:
        if application.tasks.filter(code=PAB_TASK, state=TaskState.COMPLETED).exists():
            continue  # the Board has decided already
        pab_target_set(actor=analyst, application_id=application.pk, meeting_id=meeting.pk)
        report.targeted.append(application.reference)
    return report
