"""The QT exit rules: each kind passing and failing, live from the data; bad parameters reported as a
failing rule and refused by the admin; rules per route; a constant number of queries however many
cases; and the guard that refuses to submit QT for exit while a rule fails, changing nothing."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal.audit.models import AuditEvent
from portal.core.errors import InvalidTransition
from portal.notifications.models import Notification
from portal.qualification.models import Route
from portal.qualification.services import task_transition
from portal.testing.exit_rules import exit_checklist, exit_rules_for, parameter_errors
from portal.testing.models import (
    DefectSeverity,
    EvidenceReview,
    ExecutionStatus,
    ExitRule,
    ReviewStatus,
    TestCase,
)
from portal.testing.plan_services import qt_plan_submit, qt_plan_update
from portal.testing.plan_testing_support import qt_plan_agree, qt_readiness_confirm
from portal.testing.tests import test_qt_plan_fixtures as fixtures
from portal.testing.tests.test_qt_plan_fixtures import (
    SUPPLIER_REQUIRED,
    CaseSpec,
    add_case,
    agree_work_off,
    capture_rttm,
    complete_fields,
    qt_task,
    raise_defect,
    run_case,
    snapshot,
    work_off,
)

pytestmark = pytest.mark.django_db

# The shared fixtures of the QT plan tests.
catalogue, qt_app, ta = fixtures.catalogue, fixtures.qt_app, fixtures.ta

SHIPPED = [
    "plan_agreed",
    "readiness_confirmed",
    "rttm_qt_entry",
    "mandatory_cases_passed",
    "evidence_accepted",
    "no_open_critical_defects",
    "no_open_high_defects",
    "rttm_qt_exit",
]


def results(application):
    return {r.code: r for r in exit_checklist(application)}


def blocking(application, code):
    return results(application)[code].blocking


def ago(hours):
    return timezone.now() - datetime.timedelta(hours=hours)


def make_everything_pass(application, member, reviewer):
    qt_plan_agree(application, actor=member, reviewer=reviewer)
    qt_readiness_confirm(application, actor=member, reviewer=reviewer)
    for identifier in SUPPLIER_REQUIRED:
        run_case(application, identifier, by=member)
    capture_rttm(application, "qt_entry", by=member)
    capture_rttm(application, "qt_exit", by=member)


# --- which rules apply ----------------------------------------------------------------------------


def test_the_shipped_rules_apply_to_the_qt_routes_only(qt_app, make_application, other_org, other_member):
    assert [r.code for r in exit_rules_for(qt_app)] == SHIPPED
    sit = make_application(route="sit", organisation=other_org, actor=other_member)
    assert exit_rules_for(sit) == []
    assert exit_checklist(sit) == []


def test_inactive_rules_and_rules_of_other_routes_do_not_apply(qt_app):
    ExitRule.objects.filter(code="rttm_qt_entry").update(is_active=False)
    other = ExitRule.objects.create(code="ldso_only", title="LDSO only", kind="plan_agreed")
    other.routes.set(Route.objects.filter(code="non_sit_ldso"))
    everywhere = ExitRule.objects.create(code="everywhere", title="Every route", kind="plan_agreed", order=999)
    codes = [r.code for r in exit_rules_for(qt_app)]
    assert "rttm_qt_entry" not in codes and "ldso_only" not in codes
    assert codes[-1] == everywhere.code


def test_every_rule_fails_on_a_new_application_and_says_why(qt_app, catalogue):
    found = results(qt_app)
    assert [code for code, r in found.items() if r.passed] == [
        "evidence_accepted",  # nothing run, nothing to review
        "no_open_critical_defects",
        "no_open_high_defects",
    ]
    assert found["plan_agreed"].blocking == ["The QT plan has not been submitted to Testing Assurance yet."]
    assert found["readiness_confirmed"].blocking == [
        "The readiness report has not been submitted to Testing Assurance yet."
    ]
    assert found["rttm_qt_entry"].blocking == ["The RTTM has not been captured at QT entry."]
    assert found["mandatory_cases_passed"].blocking == [f"{c} “Case {c}” has not been run." for c in SUPPLIER_REQUIRED]


def test_all_rules_pass(qt_app, catalogue, member, ta):
    make_everything_pass(qt_app, member, ta)
    assert all(r.passed for r in exit_checklist(qt_app)), [r.blocking for r in exit_checklist(qt_app)]


# --- plan and readiness ---------------------------------------------------------------------------------


def test_plan_agreed(qt_app, member, ta):
    qt_plan_update(actor=member, application_id=qt_app.pk, fields=complete_fields())
    assert blocking(qt_app, "plan_agreed") == ["The QT plan has not been submitted to Testing Assurance yet."]
    qt_plan_submit(actor=member, application_id=qt_app.pk)
    assert blocking(qt_app, "plan_agreed") == ["The QT plan is submitted for review, not agreed by Testing Assurance."]
    qt_plan_agree(qt_app, actor=member, reviewer=ta)
    assert results(qt_app)["plan_agreed"].passed
    qt_plan_update(actor=member, application_id=qt_app.pk, fields=complete_fields(approach="Changed."))
    assert blocking(qt_app, "plan_agreed") == ["The QT plan is draft, not agreed by Testing Assurance."]


def test_readiness_confirmed(qt_app, member, ta):
    qt_plan_agree(qt_app, actor=member, reviewer=ta)
    assert not results(qt_app)["readiness_confirmed"].passed
    qt_readiness_confirm(qt_app, actor=member, reviewer=ta)
    assert results(qt_app)["readiness_confirmed"].passed


# --- mandatory cases -------------------------------------------------------------------------------------------


def test_the_latest_run_of_each_required_case_counts(qt_app, catalogue, member):
    for identifier in SUPPLIER_REQUIRED:
        run_case(qt_app, identifier, by=member, at=ago(5))
    run_case(qt_app, "QTC-TA-1", ExecutionStatus.FAILED, by=member, at=ago(1))  # a rerun that failed
    run_case(qt_app, "QTC-TA-2", ExecutionStatus.FAILED, by=member, at=ago(9))  # an older failure
    run_case(qt_app, "QTC-TB-1", ExecutionStatus.PASSED_WITH_OBSERVATIONS, by=member, at=ago(1))
    run_case(qt_app, "QTC-TA-3", ExecutionStatus.FAILED, by=member)  # optional: does not block
    [reason] = blocking(qt_app, "mandatory_cases_passed")
    assert reason.startswith("QTC-TA-1 “Case QTC-TA-1”: its latest run, on ") and reason.endswith(", is failed.")


def test_a_pass_without_evidence_is_not_yet_a_pass(qt_app, catalogue, member):
    for identifier in SUPPLIER_REQUIRED:
        run_case(qt_app, identifier, by=member, at=ago(5))
    run_case(qt_app, "QTC-TA-1", by=member, at=ago(1), review=EvidenceReview.PENDING, evidence=False)  # imported
    [reason] = blocking(qt_app, "mandatory_cases_passed")
    assert reason.startswith("QTC-TA-1 “Case QTC-TA-1”: its latest run, on ")
    assert reason.endswith("passed but has no evidence yet.")


def test_runs_at_the_same_time_are_ordered_by_id(qt_app, catalogue, member):
    moment = ago(2)
    for identifier in SUPPLIER_REQUIRED:
        run_case(qt_app, identifier, by=member, at=moment)
    run_case(qt_app, "QTC-TB-2", ExecutionStatus.BLOCKED, by=member, at=moment)
    [reason] = blocking(qt_app, "mandatory_cases_passed")
    assert reason.startswith("QTC-TB-2") and reason.endswith("is blocked.")
    run_case(qt_app, "QTC-TB-2", ExecutionStatus.PASSED, by=member, at=moment)
    assert results(qt_app)["mandatory_cases_passed"].passed


@pytest.mark.parametrize(
    ("status", "covers"), [("agreed", True), ("closed", True), ("proposed", False), ("reviewed", False)]
)
def test_a_work_off_item_on_the_case_covers_it_once_agreed(qt_app, catalogue, member, status, covers):
    for identifier in SUPPLIER_REQUIRED[1:]:
        run_case(qt_app, identifier, by=member)
    run_case(qt_app, "QTC-TA-1", ExecutionStatus.NOT_RUN, by=member)
    work_off(qt_app, by=member, status=status, case=catalogue["QTC-TA-1"])
    assert results(qt_app)["mandatory_cases_passed"].passed is covers


def test_a_work_off_item_on_a_defect_of_the_case_covers_it(qt_app, catalogue, member):
    for identifier in SUPPLIER_REQUIRED[1:]:
        run_case(qt_app, identifier, by=member)
    failed = run_case(qt_app, "QTC-TA-1", ExecutionStatus.FAILED, by=member)
    defect = raise_defect(qt_app, by=member, severity=DefectSeverity.MEDIUM, on=failed)
    item = work_off(qt_app, by=member, status="proposed", defect=defect)
    assert not results(qt_app)["mandatory_cases_passed"].passed
    agree_work_off(item, by=member)
    assert results(qt_app)["mandatory_cases_passed"].passed


def test_cases_out_of_the_set_do_not_count(qt_app, catalogue, member):
    from portal.testing.plan_services import qt_opt_out_add

    for identifier in ("QTC-TA-2", "QTC-TB-1", "QTC-TB-2"):
        run_case(qt_app, identifier, by=member)
    assert not results(qt_app)["mandatory_cases_passed"].passed
    qt_opt_out_add(actor=member, application_id=qt_app.pk, flow_code="IF-901", reason="Not used.")
    assert results(qt_app)["mandatory_cases_passed"].passed
    TestCase.objects.filter(identifier="QTC-TB-2").update(is_active=False)
    assert results(qt_app)["mandatory_cases_passed"].passed


def test_another_applications_runs_do_not_count(
    qt_app, catalogue, member, make_application, advance, other_org, other_member
):
    other = advance(make_application(organisation=other_org, actor=other_member), stop_before="qt")
    for identifier in SUPPLIER_REQUIRED:
        run_case(other, identifier, by=other_member)
    assert len(blocking(qt_app, "mandatory_cases_passed")) == 4


# --- evidence -------------------------------------------------------------------------------------------


def test_evidence_of_the_latest_runs_must_be_accepted(qt_app, catalogue, member):
    run_case(qt_app, "QTC-TA-1", by=member, review=EvidenceReview.REJECTED, at=ago(5), comment="Wrong MPAN.")
    run_case(qt_app, "QTC-TA-1", by=member, review=EvidenceReview.ACCEPTED, at=ago(1))
    run_case(qt_app, "QTC-TA-2", by=member, review=EvidenceReview.REJECTED, comment="The screenshot is unreadable.")
    run_case(qt_app, "QTC-TB-1", by=member, review=EvidenceReview.PENDING)
    run_case(qt_app, "QTC-TA-3", by=member, review=EvidenceReview.PENDING)  # optional: ignored
    reasons = blocking(qt_app, "evidence_accepted")
    assert len(reasons) == 2
    assert reasons[0].startswith("QTC-TA-2 “Case QTC-TA-2”: the evidence of its latest run, on ")
    assert reasons[0].endswith("was rejected: The screenshot is unreadable.")
    assert reasons[1].endswith("is awaiting review by Testing Assurance.")


# --- defects -----------------------------------------------------------------------------------------------


def test_an_open_critical_defect_always_blocks(qt_app, member):
    defect = raise_defect(qt_app, by=member, severity=DefectSeverity.CRITICAL)
    work_off(qt_app, by=member, status="agreed", defect=defect)
    found = results(qt_app)
    assert found["no_open_critical_defects"].blocking == ["DEF-0001 “Defect 1” (severity 1 – Critical) is open."]
    assert found["no_open_high_defects"].passed is True  # covered there, by the agreed work-off item


def test_an_open_high_defect_blocks_unless_covered_by_agreed_work_off(qt_app, member):
    defect = raise_defect(qt_app, by=member, severity=DefectSeverity.HIGH, status="fixed")
    assert blocking(qt_app, "no_open_high_defects") == [
        "DEF-0001 “Defect 1” (severity 2 – High) is fixed, awaiting retest."
    ]
    assert results(qt_app)["no_open_critical_defects"].passed
    item = work_off(qt_app, by=member, status="proposed", defect=defect)
    assert not results(qt_app)["no_open_high_defects"].passed
    agree_work_off(item, by=member)
    assert results(qt_app)["no_open_high_defects"].passed


@pytest.mark.parametrize(("severity", "status"), [(3, "open"), (4, "fixed"), (1, "closed"), (2, "deferred")])
def test_lower_or_closed_defects_do_not_block(qt_app, member, severity, status):
    raise_defect(qt_app, by=member, severity=severity, status=status)
    found = results(qt_app)
    assert found["no_open_critical_defects"].passed and found["no_open_high_defects"].passed


def test_every_open_defect_blocks_a_rule_set_to_severity_4(qt_app, member):
    ExitRule.objects.create(
        code="no_defects", title="No open defect", kind="no_open_defects", parameters={"max_severity": 4}
    )
    raise_defect(qt_app, by=member, severity=DefectSeverity.LOW)
    assert blocking(qt_app, "no_defects") == ["DEF-0001 “Defect 1” (severity 4 – Low) is open."]


# --- RTTM -----------------------------------------------------------------------------------------------------


def test_rttm_captured_at_each_checkpoint(qt_app, member):
    capture_rttm(qt_app, "qt_entry", by=member)
    found = results(qt_app)
    assert found["rttm_qt_entry"].passed and not found["rttm_qt_exit"].passed
    assert found["rttm_qt_exit"].blocking == ["The RTTM has not been captured at QT exit."]
    capture_rttm(qt_app, "qt_exit", by=member)
    assert results(qt_app)["rttm_qt_exit"].passed


# --- parameters --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "parameters", "problem"),
    [
        ("no_open_defects", {}, "“max_severity” is missing"),
        ("no_open_defects", {"max_severity": 0}, "“max_severity” must be a whole number from 1"),
        ("no_open_defects", {"max_severity": "2"}, "“max_severity” must be a whole number"),
        ("no_open_defects", {"max_severity": True}, "“max_severity” must be a whole number"),
        ("no_open_defects", {"max_severity": 2, "work_off_allowed": "no"}, "“work_off_allowed” must be true"),
        ("rttm_captured", {"checkpoint": "qt_middle"}, "“checkpoint” must be one of pit_entry"),
        ("rttm_captured", {}, "“checkpoint” is missing"),
        ("plan_agreed", {"max_severity": 1}, "not a parameter of this kind of rule (it takes no parameters)"),
        ("plan_agreed", [1, 2], "must be a JSON object"),
        ("telepathy", {}, "not a kind of exit rule"),
    ],
)
def test_bad_parameters_are_described(kind, parameters, problem):
    assert any(problem in p for p in parameter_errors(kind, parameters)), parameter_errors(kind, parameters)


def test_sound_parameters_pass():
    assert parameter_errors("no_open_defects", {"max_severity": 3}) == []
    assert parameter_errors("no_open_defects", {"max_severity": 1, "work_off_allowed": False}) == []
    assert parameter_errors("rttm_captured", {"checkpoint": "pit_exit"}) == []
    assert parameter_errors("evidence_accepted", {}) == []


def test_a_rule_with_bad_parameters_fails_instead_of_crashing(qt_app, member):
    ExitRule.objects.filter(code="no_open_high_defects").update(parameters={"max_severity": "high"})
    ExitRule.objects.filter(code="rttm_qt_exit").update(parameters=["qt_exit"])
    found = results(qt_app)
    [reason] = found["no_open_high_defects"].blocking
    assert "This rule is set up wrongly" in reason and "An administrator must correct it" in reason
    assert not found["rttm_qt_exit"].passed


def test_the_admin_form_refuses_bad_parameters():
    from portal.testing.admin import ExitRuleForm

    form = ExitRuleForm(
        data={"code": "bad", "title": "Bad", "kind": "no_open_defects", "parameters": '{"max_severity": 9}', "order": 1}
    )
    assert not form.is_valid()
    assert "“max_severity” must be a whole number from 1" in form.errors["parameters"][0]
    form = ExitRuleForm(
        data={
            "code": "good",
            "title": "Good",
            "kind": "no_open_defects",
            "parameters": '{"max_severity": 3}',
            "order": 1,
        }
    )
    assert form.is_valid(), form.errors


@pytest.fixture
def admin_client(client):
    from portal.factories import UserFactory

    client.force_login(UserFactory(email="root@portal.test", is_staff=True, is_superuser=True))
    return client


def test_the_admin_pages(admin_client):
    assert admin_client.get("/admin/testing/exitrule/").status_code == 200
    assert admin_client.get("/admin/testing/readinessitem/").status_code == 200
    assert admin_client.get("/admin/testing/qtplan/").status_code == 200
    rule = ExitRule.objects.get(code="no_open_high_defects")
    response = admin_client.post(
        f"/admin/testing/exitrule/{rule.pk}/change/",
        {"code": rule.code, "title": rule.title, "kind": rule.kind, "parameters": '{"max_severity": "x"}', "order": 5},
    )
    assert response.status_code == 200  # shown again with the error
    assert "must be a whole number" in response.content.decode()
    rule.refresh_from_db()
    assert rule.parameters == {"max_severity": 2}


# --- queries do not grow with the number of cases ----------------------------------------------------------------


def count_queries(application):
    fresh = type(application).objects.get(pk=application.pk)  # nothing cached from earlier calls
    with CaptureQueriesContext(connection) as queries:
        exit_checklist(fresh)
    return len(queries)


def test_the_checklist_needs_the_same_queries_for_10_and_50_cases(qt_app, catalogue, member, ta):
    qt_plan_agree(qt_app, actor=member, reviewer=ta)
    counts = []
    made = 0
    for total in (10, 50):
        while made < total:
            made += 1
            identifier = f"QTC-N-{made:03d}"
            add_case(CaseSpec(identifier, "QTS-N", flows=("IF-901",)))
            execution = run_case(qt_app, identifier, ExecutionStatus.FAILED, by=member)
            defect = raise_defect(qt_app, by=member, severity=2, on=execution)
            work_off(qt_app, by=member, status="agreed", defect=defect)
        counts.append(count_queries(qt_app))
    assert counts[0] == counts[1], counts
    assert counts[0] <= 20


# --- the guard on submitting QT -------------------------------------------------------------------------------------


def test_qt_cannot_be_submitted_while_a_rule_fails(qt_app, catalogue, member, ta):
    make_everything_pass(qt_app, member, ta)
    raise_defect(qt_app, by=member, severity=DefectSeverity.CRITICAL)
    run_case(qt_app, "QTC-TA-2", ExecutionStatus.FAILED, by=member)
    before = snapshot()
    with pytest.raises(InvalidTransition) as refused:
        task_transition(actor=member, application_id=qt_app.pk, task_code="qt", action="submit")
    message = refused.value.message
    assert message.startswith("QT cannot be submitted for exit yet. These exit rules are not met: ")
    assert "“Every required test case passed, or is covered by an agreed work-off item” (QTC-TA-2" in message
    assert "“No open severity 1 (critical) defect” (DEF-0001" in message
    assert [r["code"] for r in refused.value.details["failing_rules"]] == [
        "mandatory_cases_passed",
        "no_open_critical_defects",
        "no_open_high_defects",  # at or above severity 2
    ]
    assert snapshot() == before
    assert qt_task(qt_app).state == "in_progress"


def test_qt_is_submitted_once_every_rule_passes(qt_app, catalogue, member, ta):
    make_everything_pass(qt_app, member, ta)
    task = task_transition(actor=member, application_id=qt_app.pk, task_code="qt", action="submit")
    assert task.state == "submitted"
    assert AuditEvent.objects.filter(action="task.submit", application_id=qt_app.pk).exists()
    assert Notification.objects.filter(recipient=ta, subject__contains="submitted").exists()


def test_the_guard_reports_a_misconfigured_rule(qt_app, catalogue, member, ta):
    make_everything_pass(qt_app, member, ta)
    ExitRule.objects.filter(code="rttm_qt_exit").update(parameters={})
    with pytest.raises(InvalidTransition, match="set up wrongly"):
        task_transition(actor=member, application_id=qt_app.pk, task_code="qt", action="submit")


def test_plan_review_is_unaffected_by_the_guard(qt_app, member, ta):
    """The plan's own review is not the task's transition: only submitting QT for exit is guarded."""
    plan = qt_plan_agree(qt_app, actor=member, reviewer=ta)
    assert plan.status == ReviewStatus.AGREED
    assert qt_task(qt_app).state == "in_progress"


def test_the_journey_helper_takes_qt_through_its_exit_rules_with_the_shipped_catalogue(
    make_application, advance, staff
):
    """`qt_prepare_step` does, through the real services, what the exit rules ask for: the plan agreed,
    readiness confirmed, the RTTM captured at QT entry and exit, every required case run with evidence
    that Testing Assurance accepted."""
    application = advance(make_application(), stop_before="workoff")
    assert qt_task(application).state == "completed"
    assert all(r.passed for r in exit_checklist(application))
    actions = set(AuditEvent.objects.filter(application_id=application.pk).values_list("action", flat=True))
    assert {"qt.plan.submit", "qt.plan.review", "qt.readiness.review", "rttm.snapshot.capture"} <= actions
    assert {"qt.execution.record", "qt.execution.review"} <= actions
