"""The work-off services: proposing, changing, reviewing, agreeing, withdrawing, closing and reopening
items; who may, when, and what bad input gets. Every refusal leaves everything as it was."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portal.accounts.roles import Role
from portal.audit.models import AuditEvent
from portal.audit.services import audit_verify
from portal.core.errors import Conflict, InvalidInput, InvalidTransition, NotFound, PermissionDenied
from portal.documents.models import EvidenceFile
from portal.notifications.models import Notification
from portal.qualification.services import application_withdraw
from portal.testing.models import DipFlow, DipFlowOptOut
from portal.workoff import selectors
from portal.workoff.models import WorkOffItem
from portal.workoff.services import (
    workoff_evidence_open,
    workoff_item_close,
    workoff_item_edit,
    workoff_item_transition,
)
from portal.workoff.tests.conftest import in_days, pdf, raise_defect, snapshot, task_of

pytestmark = pytest.mark.django_db


def close(item, actor, note="Fixed in release 4.2; WOT-001 passed on re-run.", files=None):
    return workoff_item_close(
        actor=actor,
        application_id=item.application_id,
        item_id=item.pk,
        note=note,
        files=[pdf()] if files is None else files,
    )


def edit(item, actor, **kwargs):
    kwargs.setdefault("action", item.action)
    kwargs.setdefault("owner", item.owner)
    kwargs.setdefault("due_on", item.due_on)
    return workoff_item_edit(actor=actor, application_id=item.application_id, item_id=item.pk, **kwargs)


def inbox(user):
    """The user's work-off notifications (walking the application to QT notified others too)."""
    return list(Notification.objects.filter(recipient=user, subject__icontains="work-off").order_by("pk"))


# --- proposing -----------------------------------------------------------------------------------------


def test_proposing_an_item_for_a_failed_case(qt_app, propose, member, tester, analyst, catalogue):
    item = propose(qt_app, due_on=in_days(20))
    assert item.reference == "WO-001"
    assert item.status == "proposed"
    assert item.case == catalogue.failed and item.defect is None
    assert item.proposed_by == member
    assert item.due_on == in_days(20)
    # Items are raised while QT is in progress: the plan's task still waits for QT.
    assert task_of(qt_app).state == "cannot_start"

    event = AuditEvent.objects.get(action="workoff.propose")
    assert event.target_id == str(item.pk)
    assert event.application_id == qt_app.pk
    assert event.after["covers"] == "WOT-001 Meter read rejection"
    assert event.after["status"] == "proposed"
    assert audit_verify().ok

    [note] = inbox(tester)
    assert note.subject == f"Work-off item to review: WO-001 on {qt_app.reference}"
    assert note.link == f"/applications/{qt_app.pk}/workoff/{item.pk}/"
    assert "Sam Tester" in note.body
    assert inbox(analyst) == [] and inbox(member) == []


def test_numbers_are_counted_per_application(qt_app, propose, member, catalogue, make_application, advance):
    first = propose(qt_app)
    defect = raise_defect(qt_app, by=member)
    second = propose(qt_app, defect_id=defect.pk)
    assert (first.reference, second.reference) == ("WO-001", "WO-002")
    assert second.defect == defect and second.case is None


@pytest.mark.parametrize("case", ["never_run", "optional"])
def test_a_case_never_run_or_blocked_may_be_covered(qt_app, propose, catalogue, case):
    item = propose(qt_app, case_id=getattr(catalogue, case).pk)
    assert item.status == "proposed"


def test_a_defect_still_open_may_be_covered_and_a_closed_one_may_not(qt_app, propose, member):
    fixed = raise_defect(qt_app, by=member, status="fixed")
    assert propose(qt_app, defect_id=fixed.pk).defect == fixed
    closed = raise_defect(qt_app, by=member, status="closed")
    before = snapshot()
    with pytest.raises(InvalidInput, match=r"DEF-0002 is closed, so it needs no work-off item") as refused:
        propose(qt_app, defect_id=closed.pk)
    assert refused.value.details == {"field": "covers"}
    assert snapshot() == before


def test_the_coverable_list_offers_what_may_be_covered(qt_app, propose, member, catalogue):
    defect = raise_defect(qt_app, by=member)
    raise_defect(qt_app, by=member, title="Closed one", status="closed")
    propose(qt_app, case_id=catalogue.never_run.pk)
    choices = {c.value: c for c in selectors.coverable(qt_app)}
    assert set(choices) == {f"case:{catalogue.failed.pk}", f"case:{catalogue.optional.pk}", f"defect:{defect.pk}"}
    assert choices[f"case:{catalogue.failed.pk}"].reason == "latest run failed"
    assert choices[f"case:{catalogue.optional.pk}"].reason == "latest run blocked"


@pytest.mark.parametrize(
    ("covers", "message"),
    [
        ("passed", "WOT-002 passed on its latest run, so it needs no work-off item"),
        ("other_role", "not in the test set of this application's market role"),
        ("both", "one test case or one defect, not both"),
        ("neither", "Choose the test case or the defect"),
        ("missing_case", "not in the test set"),
        ("other_defect", "not one of this application's"),
    ],
)
def test_what_an_item_may_not_cover(
    qt_app, propose, catalogue, member, other_member, make_application, other_org, covers, message
):
    defect = raise_defect(qt_app, by=member)
    kwargs = {
        "passed": {"case_id": catalogue.passed.pk},
        "other_role": {"case_id": catalogue.other_role.pk},
        "both": {"case_id": catalogue.failed.pk, "defect_id": defect.pk},
        "neither": {"case_id": None, "defect_id": None},
        "missing_case": {"case_id": 999_999},
    }.get(covers)
    if covers == "other_defect":
        other_app = make_application(organisation=other_org, actor=other_member)
        kwargs = {"defect_id": raise_defect(other_app, by=other_member).pk}
    before = snapshot()
    with pytest.raises(InvalidInput, match=message) as refused:
        propose(qt_app, **kwargs)
    assert refused.value.details["field"] == "covers"
    assert snapshot() == before


def test_a_case_opted_out_of_needs_no_item(qt_app, propose, catalogue, member):
    flow = DipFlow.objects.get_or_create(code="IF-033", defaults={"title": "Meter reads"})[0]
    catalogue.failed.versions.get().dip_flows.add(flow)
    DipFlowOptOut.objects.create(application=qt_app, flow=flow, reason="We do not use IF-033.", recorded_by=member)
    with pytest.raises(InvalidInput, match=r"WOT-001 needs no work-off item\. Exercises IF-033"):
        propose(qt_app)


def test_a_case_is_covered_by_one_live_item_until_that_one_is_withdrawn(qt_app, propose, move, member):
    first = propose(qt_app)
    before = snapshot()
    with pytest.raises(Conflict, match="WOT-001 is already covered by WO-001"):
        propose(qt_app)
    assert snapshot() == before
    move(first, member, "withdraw", "Raised against the wrong case.")
    assert propose(qt_app).reference == "WO-002"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("action", "   ", "Enter the action"),
        ("action", "x" * 5001, "5000 characters or fewer"),
        ("action", "Fix\x00it", "control characters"),
        ("owner", "", "Enter the owner"),
        ("owner", "o" * 201, "200 characters or fewer"),
        ("owner", "Sam\nTester", "one line"),
        ("due_on", None, "Enter the due date"),
        ("due_on", "yesterday", "today or later"),
        ("due_on", "far", "within three years"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_changes(qt_app, propose, field, value, message):
    if value == "yesterday":
        value = in_days(-1)
    elif value == "far":
        value = in_days(4 * 366)
    before = snapshot()
    with pytest.raises(InvalidInput, match=message) as refused:
        propose(qt_app, **{field: value})
    assert refused.value.details == {"field": field}
    assert snapshot() == before


def test_the_due_date_may_be_today(qt_app, propose):
    assert propose(qt_app, due_on=in_days(0)).due_on == in_days(0)


@pytest.mark.parametrize("role", [Role.TESTING_ASSURANCE, Role.ELEXON_ANALYST, Role.REC_CODE_MANAGER])
def test_only_the_participant_proposes(qt_app, propose, staff, role):
    before = snapshot()
    with pytest.raises(PermissionDenied, match="Only the applying organisation"):
        propose(qt_app, actor=staff(role))
    assert snapshot() == before


def test_another_organisation_gets_not_found(qt_app, propose, other_member):
    before = snapshot()
    with pytest.raises(NotFound):
        propose(qt_app, actor=other_member)
    assert snapshot() == before


def test_nothing_is_proposed_before_qualification_testing_begins(make_application, advance, propose):
    application = make_application()
    advance(application, stop_before="qt")
    before = snapshot()
    with pytest.raises(InvalidTransition, match="once Qualification Testing is in progress"):
        propose(application)
    assert snapshot() == before


def test_nothing_is_done_on_a_withdrawn_application(qt_app, propose, move, member, tester):
    item = propose(qt_app)
    application_withdraw(actor=member, application_id=qt_app.pk, reason="We are leaving the market.")
    before = snapshot()
    with pytest.raises(InvalidTransition, match="is withdrawn"):
        propose(qt_app, case_id=item.case_id)
    with pytest.raises(InvalidTransition, match="is withdrawn"):
        move(item, tester, "review")
    assert snapshot() == before


@pytest.mark.usefixtures("workoff_rules_only")
def test_the_first_item_starts_the_plan_once_qualification_testing_is_done(
    make_application, advance, member, catalogue, propose
):
    application = make_application()
    advance(application, stop_before="workoff")
    assert task_of(application).state == "not_started"
    propose(application, case_id=catalogue.never_run.pk)
    task = task_of(application)
    assert task.state == "in_progress"
    assert [e.action for e in task.entries.all()] == ["start"]


# --- changing -----------------------------------------------------------------------------------------


def test_changing_a_proposed_item(qt_app, propose, member, tester):
    item = propose(qt_app)
    changed = edit(item, member, action="Fix in release 4.3 instead.", owner="Ops team", due_on=in_days(45))
    assert (changed.action, changed.owner, changed.due_on, changed.status) == (
        "Fix in release 4.3 instead.",
        "Ops team",
        in_days(45),
        "proposed",
    )
    event = AuditEvent.objects.get(action="workoff.edit")
    assert event.before["owner"] == "Sam Tester, MHHS test lead" and event.after["owner"] == "Ops team"
    assert inbox(tester)[-1].subject == f"Work-off item changed, to review: WO-001 on {qt_app.reference}"


def test_changing_an_item_sent_back_sends_it_for_review_again(qt_app, propose, move, member, tester):
    item = propose(qt_app)
    move(item, tester, "request_changes", "The due date is after the PAB meeting; bring it forward.")
    changed = edit(item, member, due_on=in_days(10))
    assert changed.status == "proposed"


@pytest.mark.parametrize("status", ["reviewed", "agreed", "withdrawn"])
def test_an_item_past_review_cannot_be_changed(qt_app, propose, move, member, tester, analyst, status):
    item = propose(qt_app)
    if status == "withdrawn":
        move(item, member, "withdraw", "Not needed.")
    else:
        move(item, tester, "review")
        if status == "agreed":
            move(item, analyst, "agree")
    before = snapshot()
    with pytest.raises(InvalidTransition, match="so it cannot be changed now"):
        edit(item, member, owner="Someone else")
    assert snapshot() == before


def test_reviewers_do_not_change_items(qt_app, propose, tester):
    item = propose(qt_app)
    with pytest.raises(PermissionDenied, match="Only the applying organisation can change"):
        edit(item, tester, owner="Testing Assurance")


def test_bad_input_when_changing_changes_nothing(qt_app, propose, member):
    item = propose(qt_app)
    before = snapshot()
    with pytest.raises(InvalidInput, match="today or later"):
        edit(item, member, due_on=in_days(-3))
    assert snapshot() == before


# --- review, agreement, requests for changes ---------------------------------------------------------------


def test_testing_assurance_reviews_and_the_code_bodies_are_asked_to_agree(
    qt_app, propose, move, tester, analyst, staff, member
):
    item = propose(qt_app)
    qsp, rec = staff(Role.QSP), staff(Role.REC_CODE_MANAGER)
    reviewed = move(item, tester, "review", "Realistic plan.")
    assert reviewed.status == "reviewed"
    assert reviewed.reviewed_by == tester and reviewed.reviewed_at is not None
    assert reviewed.last_comment == "Realistic plan."
    for body in (analyst, qsp, rec):  # a Supplier needs the REC Code Manager's approval: it sees the item
        assert inbox(body)[-1].subject == f"Work-off item reviewed: WO-001 on {qt_app.reference}"
    assert inbox(member) == []
    event = AuditEvent.objects.get(action="workoff.review")
    assert event.before["status"] == "proposed" and event.after["status"] == "reviewed"
    assert event.after["comment"] == "Realistic plan."


@pytest.mark.parametrize("role", [Role.ELEXON_ANALYST, Role.QSP, Role.REC_CODE_MANAGER])
def test_a_code_body_agrees_a_reviewed_item(qt_app, propose, move, tester, member, staff, role):
    item = propose(qt_app)
    move(item, tester, "review")
    agreed = move(item, staff(role), "agree")
    assert agreed.status == "agreed"
    assert agreed.agreed_by == staff(role) and agreed.agreed_at is not None
    assert inbox(member)[-1].subject == f"Work-off item agreed: WO-001 on {qt_app.reference}"
    assert "now a condition of the application" in inbox(member)[-1].body
    assert [r.item for r in selectors.workoff_conditions(qt_app)] == [agreed]


def test_requests_for_changes_need_a_comment_and_go_back_to_the_participant(
    qt_app, propose, move, tester, analyst, member
):
    item = propose(qt_app)
    before = snapshot()
    with pytest.raises(InvalidInput, match="Enter a comment for “Request changes”") as refused:
        move(item, tester, "request_changes", "   ")
    assert refused.value.details == {"field": "comment"}
    assert snapshot() == before

    sent_back = move(item, tester, "request_changes", "Name a person, not a team.")
    assert sent_back.status == "changes_requested"
    assert sent_back.last_comment == "Name a person, not a team."
    assert inbox(member)[-1].subject == f"Work-off item changes requested: WO-001 on {qt_app.reference}"
    assert "Name a person, not a team." in inbox(member)[-1].body

    edit(item, member, owner="Sam Tester")
    move(item, tester, "review")
    again = move(item, analyst, "request_changes", "The action must include a re-test.")
    assert again.status == "changes_requested"


@pytest.mark.parametrize(
    ("role", "action", "error", "message"),
    [
        (Role.ELEXON_ANALYST, "review", PermissionDenied, "Only Testing Assurance can review"),
        (Role.PARTICIPANT_MEMBER, "review", PermissionDenied, "Only Testing Assurance can review"),
        (Role.TESTING_ASSURANCE, "agree", PermissionDenied, "Only a Code Body can agree"),
        (Role.ELEXON_ANALYST, "agree", InvalidTransition, "WO-001 is proposed, so it cannot be agreed now"),
        (Role.ELEXON_ANALYST, "request_changes", PermissionDenied, "only Testing Assurance can request changes"),
        (Role.TESTING_ASSURANCE, "withdraw", PermissionDenied, "Only the applying organisation can withdraw"),
        (Role.TESTING_ASSURANCE, "reopen", InvalidTransition, "WO-001 is proposed, so it cannot be reopened now"),
        (Role.PARTICIPANT_MEMBER, "reopen", PermissionDenied, "can reopen"),
    ],
)
def test_wrong_party_or_wrong_state_on_a_proposed_item(
    qt_app, propose, move, member, staff, role, action, error, message
):
    item = propose(qt_app)
    actor = member if role == Role.PARTICIPANT_MEMBER else staff(role)
    before = snapshot()
    with pytest.raises(error, match=message):
        move(item, actor, action, "A comment.")
    assert snapshot() == before


def test_the_person_who_reviewed_an_item_does_not_also_agree_it(qt_app, propose, move, staff):
    from django.contrib.auth.models import Group

    both = staff(Role.TESTING_ASSURANCE)
    both.groups.add(Group.objects.get(name=Role.ELEXON_ANALYST.value))
    both = type(both).objects.get(pk=both.pk)  # roles are cached per user object
    item = propose(qt_app)
    move(item, both, "review")
    before = snapshot()
    with pytest.raises(PermissionDenied, match="another person must agree it"):
        move(item, both, "agree")
    assert snapshot() == before
    assert move(item, staff(Role.QSP), "agree").status == "agreed"


def test_testing_assurance_cannot_send_back_an_item_waiting_for_the_code_bodies(qt_app, propose, move, tester):
    item = propose(qt_app)
    move(item, tester, "review")
    with pytest.raises(PermissionDenied, match="WO-001 is reviewed by testing assurance: only a Code Body"):
        move(item, tester, "request_changes", "Second thoughts.")


def test_an_unknown_action_is_refused(qt_app, propose, move, tester):
    item = propose(qt_app)
    for action in ("close", "propose", "approve", ""):
        with pytest.raises(InvalidInput, match="is not an action on a work-off item"):
            move(item, tester, action)


def test_a_code_body_that_cannot_see_the_application_gets_not_found(
    make_application, advance, member, staff, catalogue, propose, move, tester
):
    # A Data Service needs the DIP Manager and BSC PAB, not the REC: the REC Code Manager does not see it.
    application = make_application(market_role="ADS")
    advance(application, stop_before="qt")
    from portal.qualification.services import task_transition

    task_transition(actor=member, application_id=application.pk, task_code="qt", action="start")
    from portal.participants.models import RoleGroup

    catalogue.never_run.versions.get().role_groups.add(RoleGroup.objects.get(code="data_service"))
    item = propose(application, case_id=catalogue.never_run.pk)
    move(item, tester, "review")
    rec = staff(Role.REC_CODE_MANAGER)
    assert inbox(rec) == []
    with pytest.raises(NotFound):
        move(item, rec, "agree")


def test_another_organisation_cannot_see_or_act_on_items(qt_app, propose, move, other_member):
    item = propose(qt_app)
    before = snapshot()
    with pytest.raises(NotFound):
        move(item, other_member, "withdraw", "Not ours.")
    with pytest.raises(NotFound):
        selectors.workoff_item_get(user=other_member, application_id=qt_app.pk, item_id=item.pk)
    with pytest.raises(NotFound):
        selectors.workoff_plan(user=other_member, application_id=qt_app.pk)
    assert list(selectors.workoff_item_list(user=other_member)) == []
    assert snapshot() == before


def test_an_item_of_another_application_is_not_found_through_this_one(
    qt_app, propose, make_application, advance, member, tester, catalogue
):
    from portal.participants.models import RoleGroup
    from portal.qualification.services import task_transition

    catalogue.never_run.versions.get().role_groups.add(RoleGroup.objects.get(code="mem"))
    second = make_application(market_role="MEM")
    advance(second, stop_before="qt")
    task_transition(actor=member, application_id=second.pk, task_code="qt", action="start")
    item = propose(second, case_id=catalogue.never_run.pk)
    with pytest.raises(NotFound, match="no such work-off item"):
        workoff_item_transition(actor=tester, application_id=qt_app.pk, item_id=item.pk, action="review")
    with pytest.raises(NotFound):
        selectors.workoff_item_get(user=member, application_id=qt_app.pk, item_id=item.pk)


# --- withdrawing ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["proposed", "reviewed", "changes_requested"])
def test_the_participant_withdraws_an_item_before_it_is_agreed(qt_app, propose, move, member, tester, status):
    item = propose(qt_app)
    if status == "reviewed":
        move(item, tester, "review")
    elif status == "changes_requested":
        move(item, tester, "request_changes", "Not specific enough.")
    with pytest.raises(InvalidInput, match="Enter the reason for “Withdraw”"):
        move(item, member, "withdraw", "")
    withdrawn = move(item, member, "withdraw", "WOT-001 passed on the re-run yesterday.")
    assert withdrawn.status == "withdrawn"
    assert withdrawn.last_comment == "WOT-001 passed on the re-run yesterday."
    assert inbox(tester)[-1].subject == f"Work-off item withdrawn: WO-001 on {qt_app.reference}"


def test_an_agreed_item_cannot_be_withdrawn(agreed_item, move, member):
    before = snapshot()
    with pytest.raises(InvalidTransition, match="WO-001 is agreed, so it cannot be withdrawn now"):
        move(agreed_item, member, "withdraw", "Changed our mind.")
    assert snapshot() == before


# --- closing and reopening ----------------------------------------------------------------------------------


def test_closing_an_agreed_item_with_evidence(agreed_item, member, tester, analyst):
    closed = close(agreed_item, member, files=[pdf("rerun.pdf"), pdf("release-notes.pdf")])
    assert closed.status == "closed"
    assert closed.closed_by == member and closed.closed_at is not None
    assert closed.closure_note == "Fixed in release 4.2; WOT-001 passed on re-run."
    evidence = list(closed.closure_evidence.order_by("original_name"))
    assert [e.original_name for e in evidence] == ["release-notes.pdf", "rerun.pdf"]
    assert {e.purpose for e in evidence} == {"workoff:closure:WO-001"}
    event = AuditEvent.objects.get(action="workoff.close")
    assert event.before["status"] == "agreed" and event.after["status"] == "closed"
    assert sorted(e["sha256"] for e in event.after["closure_evidence"]) == sorted(e.sha256 for e in evidence)
    assert AuditEvent.objects.filter(action="evidence.upload", after__purpose="workoff:closure:WO-001").count() == 2
    for reviewer in (tester, analyst):
        assert inbox(reviewer)[-1].subject.startswith("Work-off item closed: WO-001")
    assert audit_verify().ok
    # A closed item is still a condition, shown as closed.
    [row] = selectors.workoff_conditions(agreed_item.application)
    assert row.item.status == "closed" and not row.overdue


@pytest.mark.parametrize(
    ("note", "files", "field", "message"),
    [
        ("", "one", "note", "Enter the closure note"),
        ("Done.", "none", "files", "Attach the evidence"),
        ("Done.", "exe", "files", "tool.exe"),
        ("Done.", "many", "files", "10 files or fewer"),
        ("Done\x07", "one", "note", "control characters"),
    ],
)
def test_closing_needs_a_note_and_sound_evidence(agreed_item, member, note, files, field, message):
    uploads = {
        "one": [pdf()],
        "none": [],
        "exe": [SimpleUploadedFile("tool.exe", b"MZ\x90\x00" + b"\x00" * 60, content_type="application/octet-stream")],
        "many": [pdf(f"f{i}.pdf") for i in range(11)],
    }[files]
    before = snapshot()
    with pytest.raises(InvalidInput, match=message) as refused:
        close(agreed_item, member, note=note, files=uploads)
    assert refused.value.details["field"] == field
    assert snapshot() == before


def test_only_an_agreed_item_is_closed_and_only_by_the_participant(
    qt_app, propose, agreed_item, member, tester, catalogue
):
    proposed = propose(qt_app, case_id=catalogue.never_run.pk)
    before = snapshot()
    with pytest.raises(InvalidTransition, match="WO-002 is proposed, so it cannot be closed now"):
        close(proposed, member)
    with pytest.raises(PermissionDenied, match="Only the applying organisation can close"):
        close(agreed_item, tester)
    assert snapshot() == before


@pytest.mark.parametrize("role", [Role.TESTING_ASSURANCE, Role.ELEXON_ANALYST])
def test_a_reviewer_reopens_a_closed_item_when_the_evidence_is_not_enough(agreed_item, member, staff, role):
    close(agreed_item, member)
    reviewer = staff(role)
    with pytest.raises(InvalidInput, match="Enter a comment for “Reopen”"):
        workoff_item_transition(
            actor=reviewer, application_id=agreed_item.application_id, item_id=agreed_item.pk, action="reopen"
        )
    reopened = workoff_item_transition(
        actor=reviewer,
        application_id=agreed_item.application_id,
        item_id=agreed_item.pk,
        action="reopen",
        comment="The evidence shows the fix but not the re-run.",
    )
    assert reopened.status == "agreed"
    assert reopened.closed_at is None and reopened.closed_by is None
    assert reopened.last_comment == "The evidence shows the fix but not the re-run."
    assert inbox(member)[-1].subject.startswith("Work-off item reopened: WO-001")
    assert "Add what is missing and close it again." in inbox(member)[-1].body
    # Closing again adds to the evidence already given.
    again = close(reopened, member, files=[pdf("rerun-log.pdf")])
    assert again.status == "closed"
    assert again.closure_evidence.count() == 2


def test_the_participant_cannot_reopen(agreed_item, member, move):
    close(agreed_item, member)
    with pytest.raises(PermissionDenied, match="can reopen"):
        move(agreed_item, member, "reopen", "Oops.")


# --- overdue and the UK day ----------------------------------------------------------------------------------


def test_an_agreed_item_past_its_due_date_is_overdue_until_closed(agreed_item, member, tester):
    WorkOffItem.objects.filter(pk=agreed_item.pk).update(due_on=in_days(-1))
    [row] = selectors.workoff_conditions(agreed_item.application)
    assert row.overdue
    assert selectors.workoff_plan(user=member, application_id=agreed_item.application_id).overdue_count == 1
    assert [i.pk for i in selectors.workoff_item_list(user=tester, overdue=True)] == [agreed_item.pk]
    assert list(selectors.workoff_item_list(user=tester, overdue=False)) == []
    close(agreed_item, member)
    [row] = selectors.workoff_conditions(agreed_item.application)
    assert not row.overdue
    assert list(selectors.workoff_item_list(user=tester, overdue=True)) == []


def test_an_item_not_agreed_is_never_overdue(qt_app, propose):
    item = propose(qt_app)
    WorkOffItem.objects.filter(pk=item.pk).update(due_on=in_days(-5))
    plan = selectors.workoff_plan(user=item.proposed_by, application_id=qt_app.pk)
    assert plan.overdue_count == 0


def test_today_is_the_date_in_the_uk(monkeypatch):
    # 23:30 UTC on 30 June is 00:30 on 1 July in London (summer time).
    monkeypatch.setattr("django.utils.timezone.now", lambda: datetime(2026, 6, 30, 23, 30, tzinfo=UTC))
    assert selectors.uk_today().isoformat() == "2026-07-01"


# --- the list across applications ------------------------------------------------------------------------------


def test_staff_list_items_across_applications_with_filters_and_sorting(
    qt_app, propose, move, tester, analyst, other_member, other_org, make_application, advance, catalogue, member
):
    mine = propose(qt_app, due_on=in_days(40))
    second = propose(qt_app, case_id=catalogue.never_run.pk, due_on=in_days(10))
    other_app = make_application(organisation=other_org, actor=other_member)
    advance(other_app, stop_before="qt")
    from portal.qualification.services import task_transition

    task_transition(actor=other_member, application_id=other_app.pk, task_code="qt", action="start")
    theirs = propose(other_app, actor=other_member, case_id=catalogue.never_run.pk, due_on=in_days(20))
    move(mine, tester, "review")

    assert [i.pk for i in selectors.workoff_item_list(user=tester)] == [second.pk, theirs.pk, mine.pk]
    assert [i.pk for i in selectors.workoff_item_list(user=tester, sort="-due_on")] == [mine.pk, theirs.pk, second.pk]
    assert [i.pk for i in selectors.workoff_item_list(user=analyst, status="reviewed")] == [mine.pk]
    assert [i.pk for i in selectors.workoff_item_list(user=tester, organisation_id=other_org.pk)] == [theirs.pk]
    assert [i.pk for i in selectors.workoff_item_list(user=tester, application_id=qt_app.pk)] == [second.pk, mine.pk]
    # A participant sees only its own organisation's items.
    assert {i.pk for i in selectors.workoff_item_list(user=member)} == {mine.pk, second.pk}
    assert selectors.workoff_list_organisations(user=tester) == [
        (qt_app.organisation_id, "Northern Lights Energy Ltd"),
        (other_org.pk, "Rival Power plc"),
    ]


# --- evidence downloads ---------------------------------------------------------------------------------------


def test_closure_evidence_is_downloaded_by_those_who_see_the_application(agreed_item, member, tester, other_member):
    closed = close(agreed_item, member)
    evidence = closed.closure_evidence.get()
    assert (
        workoff_evidence_open(actor=member, application_id=closed.application_id, evidence_id=evidence.pk) == evidence
    )
    workoff_evidence_open(actor=tester, application_id=closed.application_id, evidence_id=evidence.pk)
    assert AuditEvent.objects.filter(action="evidence.download", actor=tester).count() == 1
    with pytest.raises(NotFound):
        workoff_evidence_open(actor=other_member, application_id=closed.application_id, evidence_id=evidence.pk)


def test_other_evidence_of_the_application_is_not_served_as_work_off_evidence(qt_app, member):
    from django.db import transaction

    from portal.documents.services import evidence_store

    with transaction.atomic():
        other = evidence_store(actor=member, application=qt_app, upload=pdf(), purpose="pit:criterion:x")
    with pytest.raises(NotFound):
        workoff_evidence_open(actor=member, application_id=qt_app.pk, evidence_id=other.pk)
    assert EvidenceFile.objects.filter(pk=other.pk).exists()


def test_closing_keeps_the_evidence_of_earlier_closures_after_a_reopen_for_the_record(agreed_item, member, tester):
    close(agreed_item, member, files=[pdf("first.pdf")])
    workoff_item_transition(
        actor=tester,
        application_id=agreed_item.application_id,
        item_id=agreed_item.pk,
        action="reopen",
        comment="Missing the log.",
    )
    detail = selectors.workoff_item_get(user=tester, application_id=agreed_item.application_id, item_id=agreed_item.pk)
    assert [e.original_name for e in detail.evidence] == ["first.pdf"]
    assert [e.action for e in detail.history] == [
        "workoff.propose",
        "workoff.review",
        "workoff.agree",
        "workoff.close",
        "workoff.reopen",
    ]
    assert detail.may("reopen") is False and detail.may("close") is False  # Testing Assurance does not close
    mine = selectors.workoff_item_get(user=member, application_id=agreed_item.application_id, item_id=agreed_item.pk)
    assert mine.can_close and not mine.can_edit and mine.actions == []
    assert timedelta(0) <= detail.history[-1].occurred_at - detail.history[0].occurred_at
