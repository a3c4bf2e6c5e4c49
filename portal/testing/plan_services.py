"""Every write to an application's Qualification Testing plan goes through here: the QT plan and its
DIP-flow opt-outs, its review, the test execution plan, and the readiness report and its review.

Each service runs in one transaction: lock the application row and its `qt` task, check the user may
see the application (NotFound otherwise, the same as a missing one), check they hold the party's role
on the task (PermissionDenied), that the task and the document are in a state that allows the change
(InvalidTransition), and that the input is sound (InvalidInput, naming the field); then change, write
one audit event, and notify whoever must act next. The participant's first piece of work starts a task
that has not started, exactly as the task's own "start" action would. A refusal changes nothing.

The plan and the readiness report are each reviewed by the `qt` task's assurers (Testing Assurance;
also the Programme on the Non-SIT LDSO route). Changing an agreed plan, or a confirmed readiness
report, returns it to draft: what was agreed is no longer what is written, so it must be reviewed
again. The test execution plan is a working schedule, changed as testing goes: it may change whenever
the task is with the participant, and Testing Assurance sees it beside the plan.

`qt_exit_guard` is the rule on the `qt` task itself: QT cannot be submitted for exit while any exit
rule fails (see `exit_rules.py`).
"""

import datetime
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from portal.accounts.roles import STAFF_ROLES, Role
from portal.accounts.selectors import organisation_users, users_with_roles
from portal.audit.services import audit_record
from portal.core.errors import InvalidInput, InvalidTransition, NotFound
from portal.notifications.services import notify
from portal.prequalification.selectors import accepted_reliance_identifiers
from portal.qualification.hooks import TransitionContext
from portal.qualification.models import Application, Task
from portal.qualification.services import MAX_COMMENT_LENGTH, task_lock, task_start_on_first_work
from portal.testing.exit_rules import exit_blockers, exit_checklist
from portal.testing.models import (
    DipFlow,
    DipFlowOptOut,
    PlannedExecution,
    QtPlan,
    ReadinessConfirmation,
    ReviewStatus,
)
from portal.testing.plan_selectors import (
    INCLUSION_LABELS,
    PLANNABLE,
    QT_TASK,
    SUBMITTABLE_STATUSES,
    plan_missing,
    qt_review_refusal,
    qt_work_refusal,
    readiness_items_for,
    readiness_missing,
    readiness_rows,
    role_flows,
    within_schedule,
)
from portal.testing.required_set import required_set

MAX_PLAN_TEXT = 20_000
MAX_REASON_LENGTH = 2_000
MAX_NOTE_LENGTH = MAX_COMMENT_LENGTH
MAX_PLANNED_NOTE_LENGTH = 500  # PlannedExecution.note
MAX_BULK_CASES = 1_000
# Dates outside these years are typing mistakes, not plans.
EARLIEST_YEAR = 2020
LATEST_YEAR = 2040

PLAN_DECISIONS = {"agree": ReviewStatus.AGREED, "request_changes": ReviewStatus.CHANGES_REQUESTED}
READINESS_DECISIONS = {"confirm": ReviewStatus.AGREED, "request_changes": ReviewStatus.CHANGES_REQUESTED}

PLAN = "the QT plan"
EXECUTION_PLAN = "the test execution plan"
READINESS = "the readiness report"


@dataclass(frozen=True)
class PlanFields:
    approach: str = ""
    reliance_approach: str = ""
    test_data: str = ""
    starts_on: datetime.date | None = None
    ends_on: datetime.date | None = None


@dataclass(frozen=True)
class PlanChange:
    """What a change to the plan did: the plan as it now is, and whether the change took an agreed
    plan back to draft (the page says so)."""

    plan: QtPlan
    returned_to_draft: bool


@dataclass(frozen=True)
class PlannedEntry:
    """One line of the execution plan to set: a case by its identifier, and its date (None: take the
    case off the plan)."""

    case: str
    planned_on: datetime.date | None
    note: str = ""


@dataclass(frozen=True)
class ReadinessChange:
    confirmation: ReadinessConfirmation
    returned_to_draft: bool


# --- the QT plan -----------------------------------------------------------------------------------


@transaction.atomic
def qt_plan_update(*, actor: Any, application_id: int, fields: PlanFields) -> PlanChange:
    """Save the plan's approach, placing-reliance approach, test data and schedule. Fields may be left
    empty until the plan is submitted. Changing an agreed plan returns it to draft."""
    application, task = _lock_for_work(actor, application_id, PLAN)
    plan = _plan_row(application)
    _refuse_while_submitted(plan.status, PLAN)
    starts_on = _check_year(fields.starts_on, field="starts_on", label="The QT start date")
    ends_on = _check_year(fields.ends_on, field="ends_on", label="The QT end date")
    if starts_on and ends_on and ends_on < starts_on:
        raise InvalidInput("The QT end date must be the same as or after the start date.", details={"field": "ends_on"})
    values: dict[str, Any] = {
        "approach": _clean_text(fields.approach, field="approach", label="The QT approach", limit=MAX_PLAN_TEXT),
        "reliance_approach": _clean_text(
            fields.reliance_approach,
            field="reliance_approach",
            label="The placing-reliance approach",
            limit=MAX_PLAN_TEXT,
        ),
        "test_data": _clean_text(fields.test_data, field="test_data", label="The test data", limit=MAX_PLAN_TEXT),
        "starts_on": starts_on,
        "ends_on": ends_on,
    }
    _refuse_if_plans_fall_outside(application, starts_on, ends_on)
    before = _plan_snapshot(plan)
    if all(getattr(plan, name) == value for name, value in values.items()):
        return PlanChange(plan, returned_to_draft=False)  # nothing changed: nothing to record

    task_start_on_first_work(actor=actor, task=task)
    for name, value in values.items():
        setattr(plan, name, value)
    returned = _reopen_if_agreed(plan)
    plan.updated_by = actor
    plan.save()
    audit_record(
        actor=actor,
        action="qt.plan.update",
        target=plan,
        summary=f"QT plan of {application.reference} changed" + (", back to draft" if returned else ""),
        before=before,
        after=_plan_snapshot(plan),
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    if returned:
        _notify_reopened(application, task, actor, "changed the QT plan")
    return PlanChange(plan, returned)


@transaction.atomic
def qt_opt_out_add(*, actor: Any, application_id: int, flow_code: str, reason: str) -> PlanChange:
    """Opt out of a DIP flow the participant will not use, with the reason: the cases that exercise it
    leave the required set. Only a flow that allows opting out, exercised by the role's cases."""
    application, task = _lock_for_work(actor, application_id, PLAN)
    plan = _plan_row(application)
    _refuse_while_submitted(plan.status, PLAN)
    code = (flow_code or "").strip().upper()
    if not code:
        raise InvalidInput("Choose the DIP flow to opt out of.", details={"field": "flow"})
    flow = DipFlow.objects.filter(code=code).first()
    if flow is None or flow.pk not in {f.pk for f in role_flows(application)}:
        raise InvalidInput(
            f"No test case of the {application.market_role.name} role exercises a DIP flow {_printable(code)}; "
            "choose a flow from the list.",
            details={"field": "flow"},
        )
    if not flow.opt_out_allowed:
        raise InvalidInput(
            f"{flow.code} ({flow.title}) must be tested by every participant of the role: it cannot be opted out of.",
            details={"field": "flow"},
        )
    if DipFlowOptOut.objects.filter(application=application, flow=flow).exists():
        raise InvalidInput(f"You have already opted out of {flow.code}.", details={"field": "flow"})
    reason = _clean_text(reason, field="reason", label="The reason", limit=MAX_REASON_LENGTH)
    if not reason:
        raise InvalidInput(
            f"Enter why you will not use {flow.code}: the reason is part of the plan Testing Assurance reviews.",
            details={"field": "reason"},
        )

    task_start_on_first_work(actor=actor, task=task)
    opt_out = DipFlowOptOut.objects.create(application=application, flow=flow, reason=reason, recorded_by=actor)
    returned = _reopen_if_agreed(plan)
    plan.updated_by = actor
    plan.save()
    audit_record(
        actor=actor,
        action="qt.plan.opt_out_add",
        target=opt_out,
        summary=f"{application.reference} opted out of DIP flow {flow.code}"
        + (", plan back to draft" if returned else ""),
        after={"flow": flow.code, "reason": reason, "plan_status": plan.status},
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    if returned:
        _notify_reopened(application, task, actor, f"opted out of DIP flow {flow.code}")
    return PlanChange(plan, returned)


@transaction.atomic
def qt_opt_out_remove(*, actor: Any, application_id: int, flow_code: str) -> PlanChange:
    """Withdraw an opt-out: the flow's cases come back into the required set."""
    application, task = _lock_for_work(actor, application_id, PLAN)
    plan = _plan_row(application)
    _refuse_while_submitted(plan.status, PLAN)
    code = (flow_code or "").strip().upper()
    opt_out = DipFlowOptOut.objects.filter(application=application, flow__code=code).select_related("flow").first()
    if opt_out is None:
        raise NotFound("This application has not opted out of that DIP flow.")
    before = {"flow": opt_out.flow.code, "reason": opt_out.reason, "plan_status": plan.status}
    opt_out.delete()
    returned = _reopen_if_agreed(plan)
    plan.updated_by = actor
    plan.save()
    audit_record(
        actor=actor,
        action="qt.plan.opt_out_remove",
        target=plan,
        summary=f"{application.reference} withdrew its opt-out of DIP flow {code}"
        + (", plan back to draft" if returned else ""),
        before=before,
        after={"plan_status": plan.status},
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    if returned:
        _notify_reopened(application, task, actor, f"withdrew the opt-out of DIP flow {code}")
    return PlanChange(plan, returned)


@transaction.atomic
def qt_plan_submit(*, actor: Any, application_id: int) -> QtPlan:
    """Submit the plan for review by Testing Assurance: a new version of it, which they are told of."""
    application, task = _lock_for_work(actor, application_id, PLAN)
    plan = _plan_row(application)
    if plan.status == ReviewStatus.SUBMITTED:
        raise InvalidTransition("The QT plan is already with Testing Assurance for review.")
    if plan.status not in SUBMITTABLE_STATUSES:
        raise InvalidTransition("The QT plan is already agreed. Change it first if it needs another review.")
    missing = plan_missing(plan, accepted_reliance_identifiers(application=application))
    if missing:
        raise InvalidInput(
            "The QT plan cannot be submitted yet: " + "; ".join(m.message.lower() for m in missing) + ".",
            details={"field": missing[0].field, "errors": [{"field": m.field, "message": m.message} for m in missing]},
        )

    task_start_on_first_work(actor=actor, task=task)
    before = {"status": plan.status, "version": plan.version}
    plan.status = ReviewStatus.SUBMITTED
    plan.version += 1
    plan.submitted_at = timezone.now()
    plan.updated_by = actor
    plan.save()
    audit_record(
        actor=actor,
        action="qt.plan.submit",
        target=plan,
        summary=f"QT plan of {application.reference} submitted for review (version {plan.version})",
        before=before,
        after=_plan_snapshot(plan),
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    notify(
        recipients=_assurers(task),
        subject=f"QT plan to review: {application.reference}",
        body=f"{_name(actor)} submitted version {plan.version} of the QT plan of {_describe(application)} "
        "for your review: agree it or request changes.",
        link=_link(application, "plan"),
        application=application,
        exclude=actor,
    )
    return plan


@transaction.atomic
def qt_plan_review(*, actor: Any, application_id: int, decision: str, comment: str = "") -> QtPlan:
    """Testing Assurance agrees the submitted plan, or requests changes saying what (a comment is then
    required). The participant is told either way."""
    application, _ = _lock_for_review(actor, application_id, PLAN)
    plan = QtPlan.objects.filter(application=application).first()
    if plan is None or plan.status != ReviewStatus.SUBMITTED:
        status = ReviewStatus(plan.status).label.lower() if plan else "not yet written"
        raise InvalidTransition(f"The QT plan is not awaiting review: it is {status}.")
    outcome = _decision(decision, PLAN_DECISIONS, "agree or request changes")
    comment = _clean_text(comment, field="comment", label="The comment", limit=MAX_COMMENT_LENGTH)
    if outcome == ReviewStatus.CHANGES_REQUESTED and not comment:
        raise InvalidInput("Enter the changes you need to the QT plan.", details={"field": "comment"})

    before = {"status": plan.status, "version": plan.version}
    plan.status = outcome
    plan.reviewed_by = actor
    plan.reviewed_at = timezone.now()
    plan.review_comment = comment
    plan.save()
    agreed = outcome == ReviewStatus.AGREED
    audit_record(
        actor=actor,
        action="qt.plan.review",
        target=plan,
        summary=f"QT plan of {application.reference} version {plan.version} "
        + ("agreed" if agreed else "sent back for changes"),
        before=before,
        after={"status": plan.status, "version": plan.version, "comment": comment},
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    body = (
        f"{_name(actor)} {'agreed' if agreed else 'requested changes to'} version {plan.version} of the QT plan "
        f"of {_describe(application)}."
    )
    if comment:
        body += f"\n\n{comment}"
    notify(
        recipients=organisation_users(application.organisation_id),
        subject=f"QT plan {'agreed' if agreed else 'needs changes'}: {application.reference}",
        body=body,
        link=_link(application, "plan"),
        application=application,
        exclude=actor,
    )
    return plan


# --- the test execution plan -------------------------------------------------------------------------


@transaction.atomic
def qt_execution_plan_set(
    *, actor: Any, application_id: int, entries: Sequence[PlannedEntry]
) -> list[PlannedExecution]:
    """Set (or clear, with no date) the planned date and note of one or more cases of the application's
    set. Only cases that are run in QT (required or optional for the role) may be planned, on dates
    within the plan's schedule when it has one. Every line is checked before any is stored."""
    application, task = _lock_for_work(actor, application_id, EXECUTION_PLAN)
    if not entries:
        raise InvalidInput("Choose at least one test case.", details={"field": "cases"})
    if len(entries) > MAX_BULK_CASES:
        raise InvalidInput(f"Plan {MAX_BULK_CASES} test cases or fewer at a time.", details={"field": "cases"})
    plan = QtPlan.objects.filter(application=application).first() or QtPlan(application=application)
    rows = {row.identifier.upper(): row for row in required_set(application)}
    problems: list[dict[str, str]] = []
    seen: set[str] = set()
    cleaned: list[tuple[Any, datetime.date | None, str]] = []
    for entry in entries:
        key = (entry.case or "").strip().upper()
        row = rows.get(key)
        name = _printable(key) or "A blank identifier"
        if row is None:
            problems.append(_problem("cases", f"{name} is not a test case of the {application.market_role.name} role."))
            continue
        if key in seen:
            problems.append(_problem("cases", f"{row.identifier} is listed more than once."))
            continue
        seen.add(key)
        if entry.planned_on is not None and row.inclusion not in PLANNABLE:
            problems.append(
                _problem(
                    "cases",
                    f"{row.identifier} is not run in QT ({INCLUSION_LABELS[row.inclusion].lower()}: {row.reason})",
                )
            )
            continue
        note_problem, note = _clean_planned_note(entry.note, row.identifier)
        if note_problem:
            problems.append(_problem("note", note_problem))
            continue
        if entry.planned_on is not None:
            date_problem = _planned_date_problem(plan, entry.planned_on, row.identifier)
            if date_problem:
                problems.append(_problem("planned_on", date_problem))
                continue
        cleaned.append((row, entry.planned_on, note))
    if problems:
        message = problems[0]["message"] if len(problems) == 1 else f"{len(problems)} lines cannot be planned."
        raise InvalidInput(message, details={"field": problems[0]["field"], "errors": problems})

    task_start_on_first_work(actor=actor, task=task)
    existing = {p.case_id: p for p in PlannedExecution.objects.filter(application=application)}
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    result = []
    for row, planned_on, note in cleaned:
        current = existing.get(row.case_id)
        before[row.identifier] = _planned_snapshot(current)
        if planned_on is None:
            if current is not None:
                current.delete()
            after[row.identifier] = None
            continue
        if current is None:
            current = PlannedExecution.objects.create(
                application=application, case_id=row.case_id, planned_on=planned_on, note=note
            )
        else:
            current.planned_on, current.note = planned_on, note
            current.save(update_fields=["planned_on", "note"])
        after[row.identifier] = _planned_snapshot(current)
        result.append(current)
    cleared = sum(1 for value in after.values() if value is None)
    summary = f"Test execution plan of {application.reference}: {len(result)} case(s) planned"
    if cleared:
        summary += f", {cleared} taken off the plan"
    audit_record(
        actor=actor,
        action="qt.execution_plan.set",
        target=application,
        summary=summary,
        before=before,
        after=after,
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    return result


def _planned_date_problem(plan: QtPlan, day: datetime.date, identifier: str) -> str:
    if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
        return f"{identifier}: the planned date must be between {EARLIEST_YEAR} and {LATEST_YEAR}."
    if not within_schedule(plan, day):
        return (
            f"{identifier}: {_day(day)} is outside the QT schedule in your plan ({_schedule(plan)}). Choose a date "
            "within it, or change the plan's schedule first."
        )
    return ""


def _clean_planned_note(value: str, identifier: str) -> tuple[str, str]:
    text = (value or "").strip()
    if len(text) > MAX_PLANNED_NOTE_LENGTH:
        return f"{identifier}: the note must be {MAX_PLANNED_NOTE_LENGTH} characters or fewer.", ""
    if _has_control_characters(text):
        return f"{identifier}: the note contains control characters; remove them and try again.", ""
    return "", text


def _planned_snapshot(planned: PlannedExecution | None) -> dict[str, str] | None:
    if planned is None:
        return None
    return {"planned_on": planned.planned_on.isoformat(), "note": planned.note}


def _refuse_if_plans_fall_outside(
    application: Application, starts_on: datetime.date | None, ends_on: datetime.date | None
) -> None:
    """A new schedule must still hold every planned date: the execution plan stays within it."""
    planned = PlannedExecution.objects.filter(application=application).select_related("case")
    probe = QtPlan(starts_on=starts_on, ends_on=ends_on)
    outside = [
        p for p in planned.order_by("planned_on", "case__identifier") if not within_schedule(probe, p.planned_on)
    ]
    if not outside:
        return
    names = ", ".join(f"{p.case.identifier} ({_day(p.planned_on)})" for p in outside[:5])
    more = f" and {len(outside) - 5} more" if len(outside) > 5 else ""
    field = "starts_on" if starts_on and outside[0].planned_on < starts_on else "ends_on"
    raise InvalidInput(
        f"{len(outside)} planned test case(s) would fall outside the new schedule: {names}{more}. Move them in the "
        "test execution plan first, or choose a schedule that holds them.",
        details={"field": field},
    )


# --- readiness ---------------------------------------------------------------------------------------


@transaction.atomic
def qt_readiness_record(
    *, actor: Any, application_id: int, item_code: str, ready: bool, note: str = ""
) -> ReadinessChange:
    """Record one readiness item as ready or not ready, with a note (required when not ready: what is
    outstanding and when it will be ready). Recording on a confirmed report returns it to draft."""
    application, task = _lock_for_work(actor, application_id, READINESS)
    plan = _plan_row(application)
    _refuse_while_submitted(plan.readiness_status, READINESS)
    item = next((i for i in readiness_items_for(application) if i.code == item_code), None)
    if item is None:
        raise NotFound("The readiness report of this application has no such item.")
    note = _clean_text(note, field="note", label="The note", limit=MAX_NOTE_LENGTH)
    if not ready and not note:
        raise InvalidInput("Say what is outstanding and when it will be ready.", details={"field": "note"})

    task_start_on_first_work(actor=actor, task=task)
    confirmation = ReadinessConfirmation.objects.filter(application=application, item=item).first()
    before = {"item": item.code, "ready": confirmation.ready, "note": confirmation.note} if confirmation else {}
    if confirmation is None:
        confirmation = ReadinessConfirmation.objects.create(
            application=application, item=item, ready=ready, note=note, recorded_by=actor, recorded_at=timezone.now()
        )
    else:
        confirmation.ready, confirmation.note = ready, note
        confirmation.recorded_by, confirmation.recorded_at = actor, timezone.now()
        confirmation.save(update_fields=["ready", "note", "recorded_by", "recorded_at"])
    returned = plan.readiness_status == ReviewStatus.AGREED
    if returned:
        plan.readiness_status = ReviewStatus.DRAFT
        plan.save(update_fields=["readiness_status", "updated_at"])
    audit_record(
        actor=actor,
        action="qt.readiness.record",
        target=confirmation,
        summary=f"Readiness item “{item.title}” recorded as {'ready' if ready else 'not ready'} on "
        f"{application.reference}" + (", readiness back to draft" if returned else ""),
        before=before,
        after={"item": item.code, "ready": ready, "note": note, "readiness_status": plan.readiness_status},
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    if returned:
        notify(
            recipients=_assurers(task),
            subject=f"Readiness report back in draft: {application.reference}",
            body=f"{_name(actor)} changed “{item.title}” in the confirmed readiness report of "
            f"{_describe(application)}, which is back in draft. Test executions cannot be recorded until you "
            "confirm it again.",
            link=_link(application, "readiness"),
            application=application,
            exclude=actor,
        )
    return ReadinessChange(confirmation, returned)


@transaction.atomic
def qt_readiness_submit(*, actor: Any, application_id: int, note: str = "") -> QtPlan:
    """Submit the readiness report for confirmation once the plan is agreed and every item is ready."""
    application, task = _lock_for_work(actor, application_id, READINESS)
    plan = _plan_row(application)
    if plan.readiness_status == ReviewStatus.SUBMITTED:
        raise InvalidTransition("The readiness report is already with Testing Assurance.")
    if plan.readiness_status not in SUBMITTABLE_STATUSES:
        raise InvalidTransition("The readiness report is already confirmed.")
    note = _clean_text(note, field="note", label="The note", limit=MAX_NOTE_LENGTH)
    rows = readiness_rows(application)
    missing = readiness_missing(plan, rows)
    if missing:
        raise InvalidInput(
            "The readiness report cannot be submitted yet: " + "; ".join(missing) + ".",
            details={"missing": missing},
        )

    task_start_on_first_work(actor=actor, task=task)
    before = {"readiness_status": plan.readiness_status}
    plan.readiness_status = ReviewStatus.SUBMITTED
    plan.readiness_note = note
    plan.readiness_submitted_at = timezone.now()
    plan.save(update_fields=["readiness_status", "readiness_note", "readiness_submitted_at", "updated_at"])
    audit_record(
        actor=actor,
        action="qt.readiness.submit",
        target=plan,
        summary=f"Readiness report of {application.reference} submitted for confirmation",
        before=before,
        after={
            "readiness_status": plan.readiness_status,
            "note": note,
            "items": {r.item.code: r.status for r in rows},
        },
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    notify(
        recipients=_assurers(task),
        subject=f"Readiness report to confirm: {application.reference}",
        body=f"{_name(actor)} submitted the QT readiness report of {_describe(application)}: every prerequisite "
        "is recorded as ready. Confirm it so that test execution can start, or request changes.",
        link=_link(application, "readiness"),
        application=application,
        exclude=actor,
    )
    return plan


@transaction.atomic
def qt_readiness_review(*, actor: Any, application_id: int, decision: str, comment: str = "") -> QtPlan:
    """Testing Assurance confirms the readiness report (test execution may start) or requests changes."""
    application, _ = _lock_for_review(actor, application_id, READINESS)
    plan = QtPlan.objects.filter(application=application).first()
    if plan is None or plan.readiness_status != ReviewStatus.SUBMITTED:
        status = ReviewStatus(plan.readiness_status).label.lower() if plan else "not yet written"
        raise InvalidTransition(f"The readiness report is not awaiting confirmation: it is {status}.")
    outcome = _decision(decision, READINESS_DECISIONS, "confirm or request changes")
    comment = _clean_text(comment, field="comment", label="The comment", limit=MAX_COMMENT_LENGTH)
    if outcome == ReviewStatus.CHANGES_REQUESTED and not comment:
        raise InvalidInput("Enter what must change before readiness can be confirmed.", details={"field": "comment"})

    before = {"readiness_status": plan.readiness_status}
    plan.readiness_status = outcome
    plan.readiness_comment = comment
    confirmed = outcome == ReviewStatus.AGREED
    if confirmed:
        plan.readiness_confirmed_by = actor
        plan.readiness_confirmed_at = timezone.now()
    plan.save()
    audit_record(
        actor=actor,
        action="qt.readiness.review",
        target=plan,
        summary=f"Readiness report of {application.reference} "
        + ("confirmed" if confirmed else "sent back for changes"),
        before=before,
        after={"readiness_status": plan.readiness_status, "comment": comment},
        organisation_id=application.organisation_id,
        application_id=application.pk,
    )
    body = (
        f"{_name(actor)} confirmed the QT readiness report of {_describe(application)}: you can start recording "
        "test executions."
        if confirmed
        else f"{_name(actor)} requested changes to the QT readiness report of {_describe(application)}."
    )
    if comment:
        body += f"\n\n{comment}"
    notify(
        recipients=organisation_users(application.organisation_id),
        subject=f"Readiness {'confirmed' if confirmed else 'needs changes'}: {application.reference}",
        body=body,
        link=_link(application, "readiness"),
        application=application,
        exclude=actor,
    )
    return plan


# --- the guard on submitting QT for exit ----------------------------------------------------------------


def qt_exit_guard(context: TransitionContext) -> None:
    """QT is submitted for exit only when every exit rule of its route passes."""
    failing = exit_blockers(exit_checklist(context.application))
    if not failing:
        return
    parts = []
    for result in failing:
        first = result.blocking[0].rstrip(".") if result.blocking else "not met"
        more = f", and {len(result.blocking) - 1} more" if len(result.blocking) > 1 else ""
        parts.append(f"“{result.title}” ({first}{more})")
    raise InvalidTransition(
        "QT cannot be submitted for exit yet. These exit rules are not met: " + "; ".join(parts) + ".",
        details={"failing_rules": [{"code": r.code, "title": r.title, "blocking": r.blocking} for r in failing]},
    )


# --- internals -----------------------------------------------------------------------------------------


def _lock_for_work(actor: Any, application_id: int, what: str) -> tuple[Application, Task]:
    application, task = _lock(actor, application_id)
    refusal = qt_work_refusal(actor, task, what)
    if refusal is not None:
        raise refusal
    return application, task


def _lock_for_review(actor: Any, application_id: int, what: str) -> tuple[Application, Task]:
    application, task = _lock(actor, application_id)
    refusal = qt_review_refusal(actor, task, what)
    if refusal is not None:
        raise refusal
    return application, task


def _lock(actor: Any, application_id: int) -> tuple[Application, Task]:
    return task_lock(
        actor=actor,
        application_id=application_id,
        task_code=QT_TASK,
        missing="This application has no Qualification Testing task.",
    )


def _plan_row(application: Application) -> QtPlan:
    """The application's plan row, locked; an unsaved one until something is first written to it (the
    application row is locked, so no other request can make a second)."""
    plan = QtPlan.objects.select_for_update().filter(application=application).first()
    if plan is None:
        return QtPlan(application=application)
    plan.application = application
    return plan


def _refuse_while_submitted(status: str, what: str) -> None:
    if status == ReviewStatus.SUBMITTED:
        raise InvalidTransition(
            f"{what[0].upper()}{what[1:]} is with Testing Assurance for review, so it cannot be changed until they "
            "have reviewed it."
        )


def _reopen_if_agreed(plan: QtPlan) -> bool:
    if plan.status == ReviewStatus.AGREED:
        plan.status = ReviewStatus.DRAFT
        return True
    return False


def _notify_reopened(application: Application, task: Task, actor: Any, what: str) -> None:
    notify(
        recipients=_assurers(task),
        subject=f"Agreed QT plan changed: {application.reference}",
        body=f"{_name(actor)} {what} in the agreed QT plan of {_describe(application)}. The plan is back in draft "
        "and will come to you again when it is submitted.",
        link=_link(application, "plan"),
        application=application,
        exclude=actor,
    )


def _plan_snapshot(plan: QtPlan) -> dict[str, Any]:
    return {
        "status": plan.status,
        "version": plan.version,
        "approach": plan.approach,
        "reliance_approach": plan.reliance_approach,
        "test_data": plan.test_data,
        "starts_on": plan.starts_on.isoformat() if plan.starts_on else None,
        "ends_on": plan.ends_on.isoformat() if plan.ends_on else None,
        "opt_outs": sorted(
            DipFlowOptOut.objects.filter(application_id=plan.application_id).values_list("flow__code", flat=True)
        )
        if plan.application_id
        else [],
    }


def _decision(value: str, choices: dict[str, ReviewStatus], wording: str) -> ReviewStatus:
    if value not in choices:
        raise InvalidInput(f"Choose whether to {wording}.", details={"field": "decision"})
    return choices[value]


def _clean_text(value: str, *, field: str, label: str, limit: int) -> str:
    """Free text a user wrote: trimmed, bounded, and without control characters other than line breaks
    and tabs (no database stores a NUL, and none belongs in a record people read)."""
    text = (value or "").strip()
    if len(text) > limit:
        raise InvalidInput(f"{label} must be {limit:,} characters or fewer.", details={"field": field})
    if _has_control_characters(text):
        raise InvalidInput(f"{label} contains control characters; remove them and try again.", details={"field": field})
    return text


def _has_control_characters(text: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\t\n\r" for ch in text)


def _check_year(day: datetime.date | None, *, field: str, label: str) -> datetime.date | None:
    if day is not None and not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
        raise InvalidInput(f"{label} must be between {EARLIEST_YEAR} and {LATEST_YEAR}.", details={"field": field})
    return day


def _problem(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message}


def _printable(text: str, limit: int = 40) -> str:
    cleaned = "".join(ch for ch in text if ch.isprintable())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def _day(day: datetime.date) -> str:
    return date_format(day, "j F Y")


def _schedule(plan: QtPlan) -> str:
    if plan.starts_on and plan.ends_on:
        return f"{_day(plan.starts_on)} to {_day(plan.ends_on)}"
    if plan.starts_on:
        return f"from {_day(plan.starts_on)}"
    return f"until {_day(plan.ends_on)}" if plan.ends_on else "no dates set"


def _assurers(task: Task) -> list[Any]:
    roles = {Role(name) for name in task.definition.assurer_roles if name in Role.values} & STAFF_ROLES
    return list(users_with_roles(roles)) if roles else []


def _describe(application: Application) -> str:
    return (
        f"{application.reference} ({application.organisation.name}, {application.mpid.code} as "
        f"{application.market_role.name})"
    )


def _link(application: Application, page: str = "") -> str:
    return f"/applications/{application.pk}/qt/{page + '/' if page else ''}"


def _name(actor: Any) -> str:
    return str(getattr(actor, "display_name", None) or getattr(actor, "email", "someone"))
