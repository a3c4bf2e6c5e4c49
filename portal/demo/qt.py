"""The Qualification Testing part of the demo data: an application part-way through QT, so that the
exit checklist shows what still blocks. Its plan is agreed and readiness confirmed; a dozen required
cases have passed (two still awaiting Testing Assurance's review), one failed and raised a
severity-2 defect that a proposed work-off item covers, and one was blocked. Everything goes through
the ordinary services as the participant and Testing Assurance; idempotent: an application that
already has runs is left alone."""

import datetime

from django.db import transaction
from django.utils import timezone

from portal.accounts.roles import Role
from portal.accounts.selectors import users_with_roles
from portal.qualification.models import Application
from portal.qualification.workflow import ApplicationStatus
from portal.testing.execution_selectors import step_numbers
from portal.testing.execution_services import DefectFields, defect_raise, execution_record, execution_review
from portal.testing.models import RttmCheckpoint, TestExecution
from portal.testing.plan_testing_support import evidence_txt, qt_capture_rttm, qt_plan_agree, qt_readiness_confirm
from portal.testing.required_set import required_set
from portal.workoff.services import workoff_item_propose

# The demo application in QT (see demo/data.py): Aurora Energy Supply, AURA as Supplier.
DEMO_QT_MPID = "AURA"
PASSED_CASES = 12
AWAITING_REVIEW = 2


@transaction.atomic
def qt_demo_load() -> str | None:
    """Put the demo's QT application part-way through testing; answer its reference, or None when
    there is nothing to do."""
    application = (
        Application.objects.filter(mpid__code=DEMO_QT_MPID, status=ApplicationStatus.IN_TESTING)
        .select_related("organisation", "market_role")
        .first()
    )
    if application is None or TestExecution.objects.filter(application=application).exists():
        return None
    member = application.created_by
    reviewer = users_with_roles({Role.TESTING_ASSURANCE}).order_by("email").first()
    if reviewer is None:
        return None
    qt_plan_agree(application, actor=member, reviewer=reviewer)
    qt_readiness_confirm(application, actor=member, reviewer=reviewer)
    qt_capture_rttm(application, RttmCheckpoint.QT_ENTRY, actor=member)

    required = [row for row in required_set(application) if row.required]
    started = timezone.now() - datetime.timedelta(days=10)
    tester = member.display_name
    for index, row in enumerate(required[:PASSED_CASES]):
        run = execution_record(
            actor=member,
            application_id=application.pk,
            case=row.identifier,
            status="passed",
            tester=tester,
            executed_at=started + datetime.timedelta(hours=6 * index),
            step_results=[{"step": n, "status": "passed", "actual": "As expected."} for n in step_numbers(row.version)],
            files=[evidence_txt(application, row.identifier)],
        )
        if index < PASSED_CASES - AWAITING_REVIEW:
            execution_review(actor=reviewer, application_id=application.pk, execution_id=run.pk, decision="accept")

    failing, blocked = required[PASSED_CASES], required[PASSED_CASES + 1]
    steps = step_numbers(failing.version)
    failed = execution_record(
        actor=member,
        application_id=application.pk,
        case=failing.identifier,
        status="failed",
        tester=tester,
        executed_at=timezone.now() - datetime.timedelta(days=2),
        notes="The acknowledgement arrived after the response deadline on two of five messages.",
        step_results=[{"step": n, "status": "passed", "actual": "As expected."} for n in steps[:-1]]
        + [{"step": steps[-1], "status": "failed", "actual": "Acknowledged after 31 minutes, not within 15."}],
        files=[evidence_txt(application, failing.identifier)],
    )
    execution_record(
        actor=member,
        application_id=application.pk,
        case=blocked.identifier,
        status="blocked",
        tester=tester,
        executed_at=timezone.now() - datetime.timedelta(days=1),
        notes="Waiting for the QT environment's test MPANs for this scenario to be loaded.",
    )
    defect = defect_raise(
        actor=member,
        application_id=application.pk,
        fields=DefectFields(
            title="Acknowledgements late under load",
            description=f"Found running {failing.identifier}: the outbound acknowledgement queue backs up "
            "when more than 200 messages arrive in a minute.",
            severity=2,
            execution_ids=[failed.pk],
        ),
    )
    workoff_item_propose(
        actor=member,
        application_id=application.pk,
        action="Scale the acknowledgement workers and re-run the case in the next QT window.",
        owner=tester,
        due_on=timezone.localdate() + datetime.timedelta(days=28),
        defect_id=defect.pk,
    )
    return application.reference
