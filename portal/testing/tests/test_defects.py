"""Defects: raised by the participant with a severity and the runs they were found in, numbered
DEF-0001… per application, moved along open → fixed → closed (or deferred to work-off, or reopened)
by the participant or Testing Assurance, with a thread of comments. Testing Assurance hears of every
critical and high defect."""

import pytest
from django.db import IntegrityError, transaction

from portal.accounts.roles import Role
from portal.audit.models import AuditEvent
from portal.core.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied
from portal.notifications.models import Notification
from portal.qualification.services import application_withdraw, task_transition
from portal.testing import execution_services as services
from portal.testing.execution_selectors import DefectFilters, defect_get, defect_list
from portal.testing.models import Defect, DefectStatus
from portal.testing.models.execution import DefectEntry
from portal.testing.tests.execution_support import passed_steps, raise_defect, record, snapshot

pytestmark = pytest.mark.django_db


def change(actor, application, defect, status, comment=""):
    return services.defect_status_change(
        actor=actor, application_id=application.pk, defect_id=defect.pk, status=status, comment=comment
    )


def test_defects_are_numbered_per_application_and_linked_to_runs(
    member, execution_app, make_application, advance, other_org
):
    run = record(member, execution_app)
    first = raise_defect(member, execution_app, title="Flow 2 rejected", severity=3, execution_ids=[run.pk])
    second = raise_defect(member, execution_app, title="Late acknowledgement", severity=4)
    assert (first.reference, second.reference) == ("DEF-0001", "DEF-0002")
    assert list(first.executions.all()) == [run] and first.raised_by == member and first.status == DefectStatus.OPEN
    assert list(run.defects.all()) == [first]
    event = AuditEvent.objects.get(action="qt.defect.raise", target_id=str(first.pk))
    assert event.after["reference"] == "DEF-0001" and event.after["executions"] == [run.pk]


def test_the_database_refuses_a_second_defect_with_the_same_number(member, execution_app):
    defect = raise_defect(member, execution_app)
    with pytest.raises(IntegrityError), transaction.atomic():
        Defect.objects.create(
            application=execution_app,
            number=defect.number,
            title="Twin",
            severity=3,
            raised_by=member,
            raised_at=defect.raised_at,
        )


@pytest.mark.parametrize("severity", [1, 2])
def test_testing_assurance_hears_of_critical_and_high_defects(member, execution_app, execution_assurer, severity):
    defect = raise_defect(member, execution_app, severity=severity, description="Settlement data lost.")
    told = Notification.objects.get(recipient=execution_assurer)
    assert told.subject.startswith(f"Severity {severity} defect raised: DEF-0001")
    assert told.link == f"/applications/{execution_app.pk}/qt/defects/{defect.pk}/"
    assert "Settlement data lost." in told.body


@pytest.mark.parametrize("severity", [3, 4])
def test_medium_and_low_defects_are_not_pushed_to_testing_assurance(member, execution_app, execution_assurer, severity):
    raise_defect(member, execution_app, severity=severity)
    assert not Notification.objects.filter(recipient=execution_assurer).exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": ""}, "title", "Enter a title"),
        ({"title": "x" * 301}, "title", "300 characters or fewer"),
        ({"title": "bad\x07bell"}, "title", "control characters"),
        ({"description": "x" * 20_001}, "description", "20,000 characters or fewer"),
        ({"severity": 5}, "severity", "Choose the severity"),
        ({"severity": 0}, "severity", "Choose the severity"),
        ({"severity": None}, "severity", "Choose the severity"),
        ({"severity": True}, "severity", "Choose the severity"),
        ({"execution_ids": ["x"]}, "executions", "Choose the test runs"),
        ({"execution_ids": [2**70]}, "executions", "Choose the test runs"),
        ({"execution_ids": [999_999]}, "executions", "only be linked to test runs of this application"),
        ({"execution_ids": list(range(1, 102))}, "executions", "100 test runs or fewer"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(member, execution_app, overrides, field, message):
    before = snapshot()
    with pytest.raises(InvalidInput, match=message) as refused:
        raise_defect(member, execution_app, **overrides)
    assert refused.value.details["field"] == field
    assert snapshot() == before


def test_a_defect_cannot_link_another_applications_run(
    member, execution_app, other_member, other_org, make_application, advance, execution_assurer
):
    from portal.testing.tests.execution_support import confirm_readiness

    theirs = advance(make_application(organisation=other_org, actor=other_member), stop_before="qt")
    confirm_readiness(theirs, other_member)
    their_run = record(other_member, theirs, case="QTC-EX-004", step_results=passed_steps(1))
    before = snapshot()
    with pytest.raises(InvalidInput, match="only be linked to test runs of this application"):
        raise_defect(member, execution_app, execution_ids=[their_run.pk])
    assert snapshot() == before


def test_who_may_raise_defects(execution_app, execution_assurer, staff, other_member, member, content_rules_off):
    before = snapshot()
    with pytest.raises(PermissionDenied, match="Only the applying organisation can change defects"):
        raise_defect(execution_assurer, execution_app)
    with pytest.raises(PermissionDenied):
        raise_defect(staff(Role.ELEXON_ANALYST), execution_app)
    with pytest.raises(NotFound):
        raise_defect(other_member, execution_app)
    assert snapshot() == before
    # Not while QT is with Testing Assurance for exit.
    task_transition(actor=member, application_id=execution_app.pk, task_code="qt", action="submit", comment="Done.")
    with pytest.raises(InvalidTransition, match="is submitted"):
        raise_defect(member, execution_app)


def test_the_usual_life_of_a_defect(member, director, execution_app, execution_assurer):
    defect = raise_defect(member, execution_app, severity=2)
    Notification.objects.all().delete()

    change(member, execution_app, defect, "fixed", "Patched the D0010 mapping.")
    defect.refresh_from_db()
    assert defect.status == DefectStatus.FIXED and defect.closed_at is None
    # The participant moved a high defect: Testing Assurance is told.
    assert Notification.objects.filter(
        recipient=execution_assurer, subject="DEF-0001 fixed, awaiting retest on " + execution_app.reference
    ).exists()

    change(execution_assurer, execution_app, defect, "closed")
    defect.refresh_from_db()
    assert defect.status == DefectStatus.CLOSED and defect.closed_at is not None
    # Testing Assurance moved it: the participant is told.
    assert Notification.objects.filter(recipient=director, subject__startswith="DEF-0001 closed").exists()

    entries = list(
        DefectEntry.objects.filter(defect=defect)
        .order_by("id")
        .values_list("author", "from_status", "to_status", "text")
    )
    assert entries == [
        (member.pk, "open", "fixed", "Patched the D0010 mapping."),
        (execution_assurer.pk, "fixed", "closed", ""),
    ]
    events = list(AuditEvent.objects.filter(action="qt.defect.status").order_by("sequence"))
    assert [(e.before["status"], e.after["status"]) for e in events] == [("open", "fixed"), ("fixed", "closed")]


def test_deferring_and_reopening_need_a_reason(member, execution_app, execution_assurer):
    defect = raise_defect(member, execution_app)
    before = snapshot()
    with pytest.raises(InvalidInput, match="Say why DEF-0001 is to be made deferred to work-off") as refused:
        change(member, execution_app, defect, "deferred")
    assert refused.value.details["field"] == "comment"
    assert snapshot() == before
    change(member, execution_app, defect, "deferred", "Covered by a work-off item due in March.")
    change(execution_assurer, execution_app, defect, "open", "Not acceptable as work-off: it blocks billing.")
    defect.refresh_from_db()
    assert defect.status == DefectStatus.OPEN
    # Closing without a fix needs the reason too; closed defects reopen and lose their closing time.
    change(member, execution_app, defect, "closed", "Raised in error: a duplicate of DEF-0002.")
    change(member, execution_app, defect, "open", "Not a duplicate after all.")
    defect.refresh_from_db()
    assert defect.status == DefectStatus.OPEN and defect.closed_at is None


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ((), "open"),
        (("fixed",), "fixed"),
        (("fixed", "closed"), "fixed"),
        (("deferred",), "fixed"),
        (("deferred",), "closed"),
    ],
)
def test_moves_the_life_of_a_defect_does_not_allow_are_refused(member, execution_app, path, target):
    defect = raise_defect(member, execution_app)
    for status in path:
        change(member, execution_app, defect, status, "Because.")
    before = snapshot()
    with pytest.raises(InvalidTransition, match="cannot be made"):
        change(member, execution_app, defect, target, "Because.")
    assert snapshot() == before


def test_status_changes_are_refused_when_they_should_be(member, execution_app, staff, other_member, execution_assurer):
    defect = raise_defect(member, execution_app)
    before = snapshot()
    with pytest.raises(InvalidInput, match="Choose the defect's new status"):
        change(member, execution_app, defect, "resolved")
    with pytest.raises(PermissionDenied, match="Only the applying organisation and Testing Assurance"):
        change(staff(Role.QSP), execution_app, defect, "fixed")
    with pytest.raises(PermissionDenied):  # not an assurer of QT on this route
        change(staff(Role.PROGRAMME_ASSURANCE), execution_app, defect, "fixed")
    with pytest.raises(NotFound):
        change(other_member, execution_app, defect, "fixed")
    with pytest.raises(NotFound, match="no defect"):
        services.defect_status_change(
            actor=member, application_id=execution_app.pk, defect_id=defect.pk + 100, status="fixed"
        )
    assert snapshot() == before
    application_withdraw(actor=member, application_id=execution_app.pk, reason="Leaving the market.")
    with pytest.raises(InvalidTransition, match="withdrawn"):
        change(execution_assurer, execution_app, defect, "fixed")


def test_the_participant_corrects_a_defect(member, execution_app, execution_assurer):
    run = record(member, execution_app)
    defect = raise_defect(member, execution_app, severity=4)
    fields = services.DefectFields(
        title="Flow 2 rejected by the DIP", description="Seen twice.", severity=2, execution_ids=[run.pk]
    )
    services.defect_update(actor=member, application_id=execution_app.pk, defect_id=defect.pk, fields=fields)
    defect.refresh_from_db()
    assert (defect.title, defect.severity) == ("Flow 2 rejected by the DIP", 2)
    assert list(defect.executions.all()) == [run]
    event = AuditEvent.objects.get(action="qt.defect.update")
    assert event.before["severity"] == 4 and event.after["severity"] == 2
    assert Notification.objects.filter(
        recipient=execution_assurer, subject__startswith="Defect changed: DEF-0001"
    ).exists()

    # Saving it unchanged records nothing.
    before = snapshot()
    services.defect_update(actor=member, application_id=execution_app.pk, defect_id=defect.pk, fields=fields)
    assert snapshot() == before
    # Testing Assurance does not edit the participant's defect.
    with pytest.raises(PermissionDenied):
        services.defect_update(
            actor=execution_assurer, application_id=execution_app.pk, defect_id=defect.pk, fields=fields
        )


def test_comments_go_to_the_other_side(member, director, execution_app, execution_assurer, other_member, staff):
    defect = raise_defect(member, execution_app)
    services.defect_comment(
        actor=execution_assurer, application_id=execution_app.pk, defect_id=defect.pk, text="Retest on Monday?"
    )
    assert Notification.objects.filter(recipient=director, subject__startswith="Comment on DEF-0001").exists()
    services.defect_comment(actor=member, application_id=execution_app.pk, defect_id=defect.pk, text="Yes, 10:00.")
    assert Notification.objects.filter(recipient=execution_assurer, subject__startswith="Comment on DEF-0001").exists()
    assert list(DefectEntry.objects.values_list("text", flat=True).order_by("id")) == [
        "Retest on Monday?",
        "Yes, 10:00.",
    ]
    assert AuditEvent.objects.filter(action="qt.defect.comment").count() == 2

    before = snapshot()
    with pytest.raises(InvalidInput, match="Enter the comment"):
        services.defect_comment(actor=member, application_id=execution_app.pk, defect_id=defect.pk, text="   ")
    with pytest.raises(InvalidInput, match="5,000 characters"):
        services.defect_comment(actor=member, application_id=execution_app.pk, defect_id=defect.pk, text="x" * 5001)
    with pytest.raises(NotFound):
        services.defect_comment(actor=other_member, application_id=execution_app.pk, defect_id=defect.pk, text="Hi")
    with pytest.raises(PermissionDenied):
        services.defect_comment(
            actor=staff(Role.DIP_MANAGER), application_id=execution_app.pk, defect_id=defect.pk, text="Hi"
        )
    assert snapshot() == before


def test_reading_defects(member, execution_app, execution_assurer, other_member):
    one = raise_defect(member, execution_app, severity=1)
    raise_defect(member, execution_app, severity=3)
    change(member, execution_app, one, "fixed")
    view = defect_list(user=execution_assurer, application_id=execution_app.pk)
    assert [d.reference for d in view.defects] == ["DEF-0001", "DEF-0002"]
    assert view.counts["1 – Critical"] == 1 and view.counts["3 – Medium"] == 1 and not view.can_raise
    assert [
        d.number
        for d in defect_list(
            user=member, application_id=execution_app.pk, filters=DefectFilters(status="fixed")
        ).defects
    ] == [1]
    assert [
        d.number
        for d in defect_list(user=member, application_id=execution_app.pk, filters=DefectFilters(severity=3)).defects
    ] == [2]
    assert not defect_list(user=member, application_id=execution_app.pk, filters=DefectFilters(status="nope")).defects
    detail = defect_get(user=member, application_id=execution_app.pk, defect_id=one.pk)
    assert detail.can_edit and [s for s, _, _ in detail.next_statuses] == ["closed", "deferred", "open"]
    with pytest.raises(NotFound):
        defect_list(user=other_member, application_id=execution_app.pk)
    with pytest.raises(NotFound):
        defect_get(user=other_member, application_id=execution_app.pk, defect_id=one.pk)
