"""Recording test runs, attaching evidence and Testing Assurance's review, through the services: what
each allows, and what each refuses (wrong role, wrong state, another organisation, bad input) with a
clear message and nothing changed."""

import datetime

import pytest
from django.utils import timezone

from portal.accounts.roles import Role
from portal.audit.models import AuditEvent
from portal.core.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied
from portal.notifications.models import Notification
from portal.qualification.services import application_withdraw, task_transition
from portal.qualification.workflow import TaskState
from portal.testing import execution_services as services
from portal.testing.execution_selectors import (
    ExecutionFilters,
    ReviewState,
    counts_as_passed,
    execution_get,
    execution_list,
    latest_executions,
    review_state,
)
from portal.testing.imports import import_job_create, import_job_run
from portal.testing.models import EvidenceReview, TestCase, TestExecution
from portal.testing.tests.execution_support import (
    an_hour_ago,
    exe_as_pdf,
    new_version,
    passed_steps,
    pdf,
    qt_task,
    record,
    results_workbook,
    snapshot,
    xlsx_upload,
)

pytestmark = pytest.mark.django_db

FAILED_STEPS = [{"step": 1, "status": "passed"}, {"step": 2, "status": "failed"}, {"step": 3, "status": "not_run"}]


def imported_run(member, application, row):
    """A run as a results workbook import stores it: no evidence."""
    job = import_job_create(
        actor=member, kind="results", upload=xlsx_upload(results_workbook([row])), application_id=application.pk
    )
    assert import_job_run(job_id=job.pk).status == "succeeded", job.errors
    return TestExecution.objects.filter(application=application).latest("id")


def awaiting_run(member, application):
    when = timezone.localtime(an_hour_ago()).replace(tzinfo=None)
    return imported_run(member, application, ["QTC-EX-001", "passed", "Tess Tester", when, None, None])


# --- recording ------------------------------------------------------------------------------------------


def test_the_participant_records_a_run_with_its_steps_and_evidence(member, director, execution_app, execution_assurer):
    run = record(member, execution_app, notes="All three flows acknowledged.")

    assert run.case.identifier == "QTC-EX-001"
    assert run.case_version.is_current and run.case_version.version == 1
    assert run.status == "passed" and run.tester == "Tess Tester" and run.recorded_by == member
    assert [s["status"] for s in run.step_results] == ["passed", "passed", "passed"]
    assert run.review == EvidenceReview.PENDING
    evidence = list(run.evidence.all())
    assert [e.original_name for e in evidence] == ["evidence.pdf"] and evidence[0].purpose == "qt:execution"
    # The first work on QT starts its task.
    assert qt_task(execution_app).state == TaskState.IN_PROGRESS

    event = AuditEvent.objects.get(action="qt.execution.record")
    assert event.actor == member and event.application_id == execution_app.pk
    assert event.after["case"] == "QTC-EX-001" and event.after["status"] == "passed"
    assert event.after["evidence"][0]["name"] == "evidence.pdf"

    told = Notification.objects.get(recipient=execution_assurer, subject__startswith="Test run recorded")
    assert told.link == f"/applications/{execution_app.pk}/qt/executions/{run.pk}/"
    assert "with evidence to review" in told.body
    # The participant who recorded it is not told about their own action.
    assert not Notification.objects.filter(recipient=member, subject__startswith="Test run recorded").exists()


def test_a_new_run_adds_a_row_and_the_latest_run_is_the_result(member, execution_app):
    first = record(member, execution_app, executed_at=an_hour_ago() - datetime.timedelta(days=1))
    second = record(
        member,
        execution_app,
        status="failed",
        notes="Flow 2 was rejected.",
        step_results=[
            {"step": 1, "status": "passed"},
            {"step": 2, "status": "failed", "actual": "Rejected"},
            {"step": 3, "status": "not_run"},
        ],
    )
    assert TestExecution.objects.filter(application=execution_app).count() == 2
    latest = latest_executions(execution_app)
    assert latest[first.case_id].pk == second.pk

    # A run recorded later but run earlier does not replace the result.
    record(member, execution_app, executed_at=an_hour_ago() - datetime.timedelta(days=2))
    assert latest_executions(execution_app)[first.case_id].pk == second.pk

    # Two runs at the same moment: the one recorded last is the result.
    when = an_hour_ago() + datetime.timedelta(minutes=30)
    record(member, execution_app, executed_at=when)
    last = record(member, execution_app, executed_at=when)
    assert latest_executions(execution_app)[first.case_id].pk == last.pk
    later = execution_get(user=member, application_id=execution_app.pk, execution_id=second.pk).later_run
    assert later is not None and later.pk == last.pk


def test_a_run_is_recorded_against_the_current_version(member, execution_app, execution_cases):
    old = record(member, execution_app)
    version = new_version(execution_cases["QTC-EX-001"], steps=2)
    before = snapshot()
    with pytest.raises(InvalidInput, match="Step 3 is not a step of QTC-EX-001 version 2"):
        record(member, execution_app, step_results=passed_steps(3))
    assert snapshot() == before
    run = record(member, execution_app, step_results=passed_steps(2))
    assert run.case_version == version
    old.refresh_from_db()
    assert old.case_version.version == 1


def test_an_optional_case_may_be_run_and_a_blocked_run_needs_notes_not_evidence(member, execution_app):
    run = record(member, execution_app, case="qtc-ex-004", step_results=passed_steps(1))
    assert run.case.identifier == "QTC-EX-004"
    blocked = record(
        member,
        execution_app,
        case="QTC-EX-002",
        status="blocked",
        notes="The DIP stub was down.",
        step_results=None,
        files=[],
    )
    assert blocked.evidence.count() == 0
    assert review_state(status=blocked.status, review=blocked.review, evidence_count=0) == ReviewState.PENDING
    told = Notification.objects.filter(subject__startswith="Test run recorded: QTC-EX-002").first()
    assert told is not None and "with no evidence files" in told.body


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"case": "QTC-NOPE"}, "case", "QTC-NOPE is not a test case of the Supplier role"),
        ({"case": "QTC-EX-LD1"}, "case", "is not a test case of the Supplier role"),
        ({"case": "QTC-EX-005"}, "case", "not run in QT for this application: Exercises IF-951"),
        ({"case": ""}, "case", "Choose the test case"),
        ({"status": "sort of"}, "status", "Choose the outcome"),
        ({"tester": "  "}, "tester", "Enter the name of the person who ran the test"),
        ({"tester": "x" * 201}, "tester", "200 characters or fewer"),
        ({"executed_at": None}, "executed_at", "Enter the date and time"),
        ({"executed_at": timezone.now() + datetime.timedelta(hours=2)}, "executed_at", "cannot be in the future"),
        (
            {"executed_at": datetime.datetime(2019, 6, 1, 9, 0, tzinfo=datetime.UTC)},
            "executed_at",
            "must be after 2020",
        ),
        ({"status": "failed", "step_results": FAILED_STEPS}, "notes", "Enter notes saying why the run is failed"),
        ({"status": "blocked", "files": [], "step_results": None}, "notes", "why the run is blocked"),
        ({"status": "passed_with_observations"}, "notes", "why the run is passed with observations"),
        ({"notes": "bad\x00note"}, "notes", "control characters"),
        ({"files": []}, "files", "a passed run needs at least one evidence file"),
        ({"files": [pdf(f"e{n}.pdf") for n in range(11)]}, "files", "10 files or fewer"),
        ({"files": [exe_as_pdf()]}, "files", "is not a PDF file, although its name says so"),
        ({"step_results": None}, "step_results", "Give the result of each of the 3 steps"),
        ({"step_results": passed_steps(2)}, "step_results", "missing: step 3"),
        ({"step_results": [*passed_steps(3), {"step": 9, "status": "passed"}]}, "step_results", "Step 9 is not a step"),
        ({"step_results": [*passed_steps(3), {"step": 1, "status": "passed"}]}, "step_results", "more than one result"),
        ({"step_results": [{"step": 1, "status": "great"}]}, "step_results", "Choose the result of step 1"),
        ({"step_results": [{"status": "passed"}]}, "step_results", "needs its step number"),
        ({"step_results": "1:passed"}, "step_results", "must be a list"),
        (
            {
                "step_results": [
                    {"step": 1, "status": "passed"},
                    {"step": 2, "status": "failed"},
                    {"step": 3, "status": "passed"},
                ]
            },
            "step_results",
            "A passed run must have every step passed",
        ),
        (
            {"status": "failed", "notes": "Broken.", "step_results": passed_steps(3)},
            "step_results",
            "at least one failed",
        ),
        (
            {"status": "not_run", "files": [], "step_results": passed_steps(3)},
            "step_results",
            "cannot have steps that passed",
        ),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_changes_nothing(
    member, execution_app, overrides, field, message
):
    before = snapshot()
    with pytest.raises(InvalidInput, match=message) as refused:
        record(member, execution_app, **overrides)
    assert refused.value.details["field"] == field
    assert snapshot() == before


def test_every_problem_is_listed_at_once(member, execution_app):
    with pytest.raises(InvalidInput, match="4 things need correcting") as refused:
        record(member, execution_app, status="failed", tester="", notes="", files=[], step_results=passed_steps(3))
    fields = [p["field"] for p in refused.value.details["errors"]]
    assert fields == ["tester", "notes", "step_results", "files"]


def test_runs_wait_for_the_readiness_report_to_be_confirmed(member, execution_unready_app):
    before = snapshot()
    with pytest.raises(InvalidTransition, match="once Testing Assurance has confirmed the readiness report"):
        record(member, execution_unready_app)
    assert snapshot() == before


def test_only_the_applying_organisation_records_runs(execution_app, execution_assurer, staff, other_member):
    before = snapshot()
    with pytest.raises(PermissionDenied, match="Only the applying organisation"):
        record(execution_assurer, execution_app)
    with pytest.raises(PermissionDenied):
        record(staff(Role.ELEXON_ANALYST), execution_app)
    with pytest.raises(NotFound):
        record(other_member, execution_app)
    assert snapshot() == before


def test_no_runs_once_qt_is_submitted_or_the_application_is_closed(
    content_rules_off, member, execution_app, execution_assurer
):
    record(member, execution_app)
    task_transition(actor=member, application_id=execution_app.pk, task_code="qt", action="submit", comment="Done.")
    before = snapshot()
    with pytest.raises(InvalidTransition, match="is submitted"):
        record(member, execution_app)
    assert snapshot() == before

    task_transition(
        actor=execution_assurer,
        application_id=execution_app.pk,
        task_code="qt",
        action="request_changes",
        comment="Run QTC-EX-002.",
    )
    record(member, execution_app, case="QTC-EX-002", step_results=passed_steps(2))  # back with the participant

    application_withdraw(actor=member, application_id=execution_app.pk, reason="Leaving the market.")
    before = snapshot()
    with pytest.raises(InvalidTransition, match="withdrawn"):
        record(member, execution_app)
    assert snapshot() == before


# --- evidence --------------------------------------------------------------------------------------------


def test_an_imported_run_awaits_evidence_until_files_are_attached(member, execution_app, execution_assurer):
    run = awaiting_run(member, execution_app)
    assert run.evidence.count() == 0
    assert review_state(status=run.status, review=run.review, evidence_count=0) == ReviewState.AWAITING_EVIDENCE
    assert not counts_as_passed(run, 0)
    # Testing Assurance cannot accept what has no evidence.
    with pytest.raises(InvalidTransition, match="has no evidence yet"):
        services.execution_review(
            actor=execution_assurer, application_id=execution_app.pk, execution_id=run.pk, decision="accept"
        )

    services.execution_evidence_add(
        actor=member, application_id=execution_app.pk, execution_id=run.pk, files=[pdf("log.pdf"), pdf("screen.pdf")]
    )
    assert sorted(run.evidence.values_list("original_name", flat=True)) == ["log.pdf", "screen.pdf"]
    assert counts_as_passed(run, 2)
    event = AuditEvent.objects.get(action="qt.execution.evidence_add")
    assert event.before["evidence"] == [] and len(event.after["evidence"]) == 2
    told = Notification.objects.get(recipient=execution_assurer, subject__startswith="Evidence to review")
    assert told.link.endswith(f"/qt/executions/{run.pk}/")


def test_new_evidence_answers_a_rejection_and_accepted_evidence_is_final(member, execution_app, execution_assurer):
    run = record(member, execution_app)
    services.execution_review(
        actor=execution_assurer,
        application_id=execution_app.pk,
        execution_id=run.pk,
        decision="reject",
        comment="The log does not show the acknowledgement.",
    )
    services.execution_evidence_add(
        actor=member, application_id=execution_app.pk, execution_id=run.pk, files=[pdf("full-log.pdf")]
    )
    run.refresh_from_db()
    assert run.review == EvidenceReview.PENDING and run.reviewed_by is None and run.review_comment == ""
    assert (
        "in answer to your rejection"
        in Notification.objects.filter(subject__startswith="Evidence to review").get().body
    )

    services.execution_review(
        actor=execution_assurer, application_id=execution_app.pk, execution_id=run.pk, decision="accept"
    )
    before = snapshot()
    with pytest.raises(InvalidTransition, match="has accepted the evidence of this run"):
        services.execution_evidence_add(
            actor=member, application_id=execution_app.pk, execution_id=run.pk, files=[pdf("more.pdf")]
        )
    assert snapshot() == before


def test_attaching_evidence_is_refused_when_it_should_be(member, execution_app, execution_assurer, other_member):
    run = awaiting_run(member, execution_app)
    before = snapshot()
    cases = [
        (member, [], InvalidInput, "Choose the evidence files"),
        (member, [exe_as_pdf()], InvalidInput, "is not a PDF file"),
        (member, [pdf(f"{n}.pdf") for n in range(11)], InvalidInput, "10 files or fewer"),
        (execution_assurer, [pdf()], PermissionDenied, "Only the applying organisation"),
        (other_member, [pdf()], NotFound, "No application"),
    ]
    for actor, files, error, message in cases:
        with pytest.raises(error, match=message):
            services.execution_evidence_add(
                actor=actor, application_id=execution_app.pk, execution_id=run.pk, files=files
            )
    with pytest.raises(NotFound, match="no test execution"):
        services.execution_evidence_add(
            actor=member, application_id=execution_app.pk, execution_id=run.pk + 999, files=[pdf()]
        )
    assert snapshot() == before


# --- review ----------------------------------------------------------------------------------------------


def test_testing_assurance_accepts_evidence_and_the_participant_is_told(
    member, director, execution_app, execution_assurer
):
    run = record(member, execution_app)
    services.execution_review(
        actor=execution_assurer,
        application_id=execution_app.pk,
        execution_id=run.pk,
        decision="accept",
        comment="Clear.",
    )
    run.refresh_from_db()
    assert run.review == EvidenceReview.ACCEPTED and run.reviewed_by == execution_assurer and run.reviewed_at
    event = AuditEvent.objects.get(action="qt.execution.review")
    assert event.before["review"] == "pending" and event.after["review"] == "accepted"
    told = set(Notification.objects.filter(subject__startswith="Evidence accepted").values_list("recipient", flat=True))
    everyone = set(execution_app.organisation.memberships.values_list("user_id", flat=True))
    assert told == everyone and {member.pk, director.pk} <= told
    assert counts_as_passed(run, 1)


def test_rejected_evidence_needs_a_comment_and_counts_against_exit(member, director, execution_app, execution_assurer):
    run = record(member, execution_app)
    before = snapshot()
    with pytest.raises(InvalidInput, match="Say why the evidence is rejected") as refused:
        services.execution_review(
            actor=execution_assurer, application_id=execution_app.pk, execution_id=run.pk, decision="reject"
        )
    assert refused.value.details["field"] == "comment"
    assert snapshot() == before

    services.execution_review(
        actor=execution_assurer,
        application_id=execution_app.pk,
        execution_id=run.pk,
        decision="reject",
        comment="Screenshot is of the wrong environment.",
    )
    run.refresh_from_db()
    assert run.review == EvidenceReview.REJECTED and run.review_comment == "Screenshot is of the wrong environment."
    assert not counts_as_passed(run, 1)
    told = Notification.objects.get(recipient=director, subject__startswith="Evidence rejected")
    assert "wrong environment" in told.body and "run the case again" in told.body

    with pytest.raises(InvalidTransition, match="already rejected"):
        services.execution_review(
            actor=execution_assurer, application_id=execution_app.pk, execution_id=run.pk, decision="accept"
        )


def test_accepted_evidence_may_still_be_rejected_but_not_accepted_twice(member, execution_app, execution_assurer):
    run = record(member, execution_app)
    review = dict(actor=execution_assurer, application_id=execution_app.pk, execution_id=run.pk)
    services.execution_review(**review, decision="accept")
    with pytest.raises(InvalidTransition, match="already accepted"):
        services.execution_review(**review, decision="accept")
    services.execution_review(**review, decision="reject", comment="The tester was not on the named list.")
    run.refresh_from_db()
    assert run.review == EvidenceReview.REJECTED


def test_only_the_assurers_of_the_route_review_evidence(member, execution_app, staff, other_member, execution_assurer):
    run = record(member, execution_app)
    before = snapshot()
    for actor in (member, staff(Role.PROGRAMME_ASSURANCE), staff(Role.ELEXON_ANALYST)):
        with pytest.raises(PermissionDenied, match="Only Testing Assurance can review"):
            services.execution_review(
                actor=actor, application_id=execution_app.pk, execution_id=run.pk, decision="accept"
            )
    with pytest.raises(NotFound):
        services.execution_review(
            actor=other_member, application_id=execution_app.pk, execution_id=run.pk, decision="accept"
        )
    with pytest.raises(InvalidInput, match="accept or reject"):
        services.execution_review(
            actor=execution_assurer, application_id=execution_app.pk, execution_id=run.pk, decision="approve"
        )
    assert snapshot() == before


def test_evidence_downloads_are_scoped_and_reviewers_downloads_audited(
    member, execution_app, execution_assurer, other_member
):
    run = record(member, execution_app)
    other = record(member, execution_app, case="QTC-EX-002", step_results=passed_steps(2), files=[pdf("other.pdf")])
    evidence = run.evidence.get()
    assert (
        services.execution_evidence_open(
            actor=member, application_id=execution_app.pk, execution_id=run.pk, evidence_id=evidence.pk
        )
        == evidence
    )
    assert not AuditEvent.objects.filter(action="evidence.download").exists()
    services.execution_evidence_open(
        actor=execution_assurer, application_id=execution_app.pk, execution_id=run.pk, evidence_id=evidence.pk
    )
    assert AuditEvent.objects.filter(action="evidence.download", actor=execution_assurer).count() == 1
    with pytest.raises(NotFound):
        services.execution_evidence_open(
            actor=other_member, application_id=execution_app.pk, execution_id=run.pk, evidence_id=evidence.pk
        )
    with pytest.raises(NotFound):  # a file of another run is not this run's
        services.execution_evidence_open(
            actor=member, application_id=execution_app.pk, execution_id=run.pk, evidence_id=other.evidence.get().pk
        )


# --- reading ---------------------------------------------------------------------------------------------


def test_the_list_filters_by_status_batch_review_case_and_latest(member, execution_app, execution_assurer):
    a = record(member, execution_app, executed_at=an_hour_ago() - datetime.timedelta(hours=5))
    b = record(member, execution_app)
    c = record(
        member,
        execution_app,
        case="QTC-EX-002",
        status="failed",
        notes="No.",
        step_results=[{"step": 1, "status": "passed"}, {"step": 2, "status": "failed"}],
    )
    d = awaiting_run(member, execution_app)
    services.execution_review(
        actor=execution_assurer, application_id=execution_app.pk, execution_id=b.pk, decision="accept"
    )

    def ids(**filters):
        view = execution_list(
            user=execution_assurer, application_id=execution_app.pk, filters=ExecutionFilters(**filters)
        )
        return {run.pk for run in view.executions}

    assert ids() == {a.pk, b.pk, c.pk, d.pk}
    assert ids(status="failed") == {c.pk}
    assert ids(batch="migration") == {c.pk}
    assert ids(review="accepted") == {b.pk}
    assert ids(review="awaiting_evidence") == {d.pk}
    assert ids(review="pending") == {a.pk, c.pk}
    assert ids(case="qtc-ex-002") == {c.pk}
    # d was run an hour ago (to the minute), b an hour ago: the later of the two is QTC-EX-001's result.
    latest_001 = latest_executions(execution_app)[a.case_id].pk
    assert ids(latest_only=True) == {latest_001, c.pk}
    assert ids(status="nonsense") == set() and ids(review="nonsense") == set() and ids(batch="nonsense") == set()


def test_another_organisation_sees_nothing(member, execution_app, other_member):
    run = record(member, execution_app)
    with pytest.raises(NotFound):
        execution_list(user=other_member, application_id=execution_app.pk)
    with pytest.raises(NotFound):
        execution_get(user=other_member, application_id=execution_app.pk, execution_id=run.pk)


def test_the_cases_of_a_retired_catalogue_are_not_offered(member, execution_app):
    TestCase.objects.filter(identifier="QTC-EX-004").update(is_active=False)
    with pytest.raises(InvalidInput, match="is not a test case of the Supplier role"):
        record(member, execution_app, case="QTC-EX-004", step_results=passed_steps(1))
