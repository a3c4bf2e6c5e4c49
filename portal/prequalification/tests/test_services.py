"""The PQS services: saving the draft, proposal items and the Code Bodies' decisions, each allowed,
in the wrong state, by the wrong role, for another organisation, and with bad input."""

from dataclasses import replace
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portal.accounts.roles import Role
from portal.audit.models import AuditEvent
from portal.core.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied
from portal.documents.models import EvidenceFile
from portal.documents.services import evidence_store
from portal.prequalification.models import ItemDecision, PqsStatus, PqsSubmission, RelianceProposalItem
from portal.prequalification.services import (
    PqsFields,
    pqs_save_draft,
    reliance_item_add,
    reliance_item_decide,
    reliance_item_remove,
    reliance_item_update,
)
from portal.prequalification.tests.conftest import NOT_RELIED_ON, PDF, PLAN, RELIED_ON, snapshot, task_of
from portal.qualification.services import application_withdraw, task_transition
from portal.qualification.workflow import TaskState

pytestmark = pytest.mark.django_db


def _submit(application, member):
    return task_transition(actor=member, application_id=application.pk, task_code="pqs", action="submit")


# --- saving the draft -------------------------------------------------------------------------------


def test_member_saves_a_draft_which_starts_the_task_and_is_audited(member, make_application):
    application = make_application()
    pqs = pqs_save_draft(actor=member, application_id=application.pk, fields=PLAN)
    pqs.refresh_from_db()
    assert pqs.preferred_wave is not None
    assert pqs.preferred_wave.code == "wave-2"
    assert pqs.pit_completion_date == date(2027, 4, 30)
    assert pqs.status == PqsStatus.DRAFT and pqs.version == 0
    assert pqs.updated_by == member
    assert task_of(application).state == TaskState.IN_PROGRESS
    event = AuditEvent.objects.get(action="pqs.save_draft")
    assert event.after["preferred_wave"] == "wave-2"
    assert event.after["target_migration_date"] == "2027-12-01"
    assert event.application_id == application.pk


def test_a_draft_may_be_incomplete_and_saving_it_unchanged_writes_nothing(member, make_application):
    application = make_application()
    pqs_save_draft(actor=member, application_id=application.pk, fields=PqsFields(pit_approach="Only this so far"))
    before = snapshot()
    pqs_save_draft(actor=member, application_id=application.pk, fields=PqsFields(pit_approach="  Only this so far  "))
    assert snapshot() == before


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (replace(PLAN, pit_completion_date=date(2026, 12, 1)), "pit_completion_date", "on or after its start date"),
        (replace(PLAN, qt_completion_date=date(2027, 5, 1)), "qt_completion_date", "on or after its start date"),
        (replace(PLAN, target_migration_date=date(2027, 9, 30)), "target_migration_date", "after the QT completion"),
        (replace(PLAN, pit_start_date=date(1999, 1, 1)), "pit_start_date", "between 2020 and 2040"),
        (replace(PLAN, preferred_wave="wave-99"), "preferred_wave", "Select a wave from the list"),
        (replace(PLAN, pit_approach="x" * 5001), "pit_approach", "5000 characters or fewer"),
        (replace(PLAN, qt_approach="bell\x07"), "qt_approach", "control characters"),
        (replace(PLAN, preferred_wave="wave-1\x00"), "preferred_wave", "Select a wave from the list"),
    ],
)
def test_bad_input_is_refused_with_its_field_and_nothing_is_stored(member, make_application, fields, field, message):
    application = make_application()
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        pqs_save_draft(actor=member, application_id=application.pk, fields=fields)
    assert message in refused.value.message
    assert refused.value.details["field"] == field
    assert snapshot() == before


def test_every_problem_is_listed(member, make_application):
    application = make_application()
    fields = replace(PLAN, preferred_wave="nope", pit_completion_date=date(2026, 1, 1))
    with pytest.raises(InvalidInput) as refused:
        pqs_save_draft(actor=member, application_id=application.pk, fields=fields)
    assert [e["field"] for e in refused.value.details["errors"]] == ["preferred_wave", "pit_completion_date"]
    assert "(And 1 more problem.)" in refused.value.message


def test_an_inactive_wave_cannot_be_chosen(member, make_application):
    from portal.prequalification.models import Wave

    Wave.objects.filter(code="wave-2").update(is_active=False)
    with pytest.raises(InvalidInput):
        pqs_save_draft(actor=member, application_id=make_application().pk, fields=PLAN)


def test_staff_cannot_edit_the_pqs(staff, make_application):
    application = make_application()
    before = snapshot()
    for role in (Role.ELEXON_ANALYST, Role.ADMINISTRATOR):
        with pytest.raises(PermissionDenied):
            pqs_save_draft(actor=staff(role), application_id=application.pk, fields=PLAN)
    assert snapshot() == before


def test_another_organisation_gets_not_found(other_member, make_application):
    application = make_application()
    before = snapshot()
    with pytest.raises(NotFound):
        pqs_save_draft(actor=other_member, application_id=application.pk, fields=PLAN)
    with pytest.raises(NotFound):
        reliance_item_add(actor=other_member, application_id=application.pk, fields=RELIED_ON)
    assert snapshot() == before


def test_a_route_without_a_pqs_answers_not_found(member, make_application):
    application = make_application(route="sit")
    with pytest.raises(NotFound, match="has no Pre-Qualification Submission"):
        pqs_save_draft(actor=member, application_id=application.pk, fields=PLAN)


def test_no_changes_while_submitted_or_after_acceptance(member, analyst, make_application):
    application = make_application()
    pqs_save_draft(actor=member, application_id=application.pk, fields=PLAN)
    _submit(application, member)
    before = snapshot()
    with pytest.raises(InvalidTransition, match="the Code Bodies are reviewing it"):
        pqs_save_draft(actor=member, application_id=application.pk, fields=PLAN)
    with pytest.raises(InvalidTransition):
        reliance_item_add(actor=member, application_id=application.pk, fields=RELIED_ON)
    assert snapshot() == before
    task_transition(actor=analyst, application_id=application.pk, task_code="pqs", action="accept")
    with pytest.raises(InvalidTransition, match="accepted"):
        pqs_save_draft(actor=member, application_id=application.pk, fields=PLAN)


def test_no_changes_once_the_application_is_closed(member, make_application):
    application = make_application()
    application_withdraw(actor=member, application_id=application.pk, reason="Not going ahead.")
    with pytest.raises(InvalidTransition, match="withdrawn"):
        pqs_save_draft(actor=member, application_id=application.pk, fields=PLAN)


def test_not_required_pqs_cannot_be_edited(member, new_entrant, make_application):
    application = make_application(route="new_entrant_ldso", market_role="LDSO")
    task_transition(
        actor=member,
        application_id=application.pk,
        task_code="pqs",
        action="mark_not_required",
        comment="We do not place reliance.",
    )
    with pytest.raises(InvalidTransition, match="not required"):
        pqs_save_draft(actor=member, application_id=application.pk, fields=PLAN)


# --- proposal items ---------------------------------------------------------------------------------


def test_add_an_item_with_identifiers_and_evidence(member, make_application):
    application = make_application()
    stored = evidence_store(actor=member, application=application, upload=SimpleUploadedFile("old.txt", b"earlier"))
    upload = SimpleUploadedFile("vendor report.pdf", PDF)
    item = reliance_item_add(
        actor=member,
        application_id=application.pk,
        fields=replace(RELIED_ON, evidence_ids=[stored.pk]),
        uploads=[upload],
    )
    assert item.identifiers == ["QTC-SUP-001", "QTC-SUP-002"]  # de-duplicated, order kept
    assert sorted(e.original_name for e in item.evidence.all()) == ["old.txt", "vendor report.pdf"]
    assert EvidenceFile.objects.get(original_name="vendor report.pdf").purpose == f"pqs:item:{item.pk}"
    assert item.decision == ItemDecision.PENDING
    assert task_of(application).state == TaskState.IN_PROGRESS
    event = AuditEvent.objects.get(action="pqs.item.add")
    assert event.after["title"] == "Vendor flow management"
    assert [e["name"] for e in event.after["evidence"]] == ["old.txt", "vendor report.pdf"]


def test_an_item_not_relied_on_needs_no_provider(member, make_application):
    item = reliance_item_add(actor=member, application_id=make_application().pk, fields=NOT_RELIED_ON)
    assert item.relied_on is False
    assert item.provider_kind == ""


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        (replace(RELIED_ON, title="  "), "title"),
        (replace(RELIED_ON, scope="everything"), "scope"),
        (replace(RELIED_ON, identifiers=""), "identifiers"),
        (replace(RELIED_ON, identifiers="TS 001 <script>"), "identifiers"),
        (replace(RELIED_ON, identifiers="X" * 61), "identifiers"),
        (replace(RELIED_ON, relied_on=None), "relied_on"),
        (replace(RELIED_ON, provider_kind=""), "provider_kind"),
        (replace(RELIED_ON, provider_kind="astrologer"), "provider_kind"),
        (replace(RELIED_ON, provider_name=""), "provider_name"),
        (replace(RELIED_ON, rationale=""), "rationale"),
        (replace(RELIED_ON, evidence_ids=[999999]), "evidence_ids"),
        (replace(RELIED_ON, evidence_ids=[2**70, -1]), "evidence_ids"),
        (replace(RELIED_ON, title="half a character \udaca"), "title"),
        (replace(RELIED_ON, provider_name="nul\x00"), "provider_name"),
    ],
)
def test_bad_items_are_refused_and_nothing_is_stored(member, make_application, fields, field):
    application = make_application()
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        reliance_item_add(actor=member, application_id=application.pk, fields=fields)
    assert field in [e["field"] for e in refused.value.details["errors"]]
    assert snapshot() == before


def test_a_bad_evidence_file_stores_nothing(member, make_application):
    application = make_application()
    before = snapshot()
    with pytest.raises(InvalidInput, match="not a PDF"):
        reliance_item_add(
            actor=member,
            application_id=application.pk,
            fields=RELIED_ON,
            uploads=[SimpleUploadedFile("report.pdf", b"MZ\x90\x00 not a pdf")],
        )
    assert snapshot() == before


def test_evidence_of_another_application_cannot_be_linked(member, other_member, other_org, make_application):
    theirs = make_application(organisation=other_org, actor=other_member)
    foreign = evidence_store(actor=other_member, application=theirs, upload=SimpleUploadedFile("x.txt", b"theirs"))
    with pytest.raises(InvalidInput, match="uploaded to this application"):
        reliance_item_add(
            actor=member,
            application_id=make_application().pk,
            fields=replace(RELIED_ON, evidence_ids=[foreign.pk]),
        )


def test_edit_and_remove_an_item(member, make_application):
    application = make_application()
    item = reliance_item_add(actor=member, application_id=application.pk, fields=RELIED_ON)
    updated = reliance_item_update(
        actor=member,
        application_id=application.pk,
        item_id=item.pk,
        fields=replace(RELIED_ON, identifiers=["QTC-SUP-009"]),
    )
    assert updated.identifiers == ["QTC-SUP-009"]
    assert updated.changed_since_decision is False  # nothing was decided yet
    event = AuditEvent.objects.get(action="pqs.item.update")
    assert event.before["identifiers"] == ["QTC-SUP-001", "QTC-SUP-002"]
    assert event.after["identifiers"] == ["QTC-SUP-009"]

    reliance_item_remove(actor=member, application_id=application.pk, item_id=item.pk)
    assert not RelianceProposalItem.objects.exists()
    assert AuditEvent.objects.get(action="pqs.item.remove").before["title"] == "Vendor flow management"


def test_items_of_another_organisation_answer_not_found(member, other_member, other_org, make_application):
    theirs = make_application(organisation=other_org, actor=other_member)
    item = reliance_item_add(actor=other_member, application_id=theirs.pk, fields=RELIED_ON)
    mine = make_application()
    with pytest.raises(NotFound):
        reliance_item_update(actor=member, application_id=theirs.pk, item_id=item.pk, fields=RELIED_ON)
    # Naming another application's item through one's own application does not find it either.
    with pytest.raises(NotFound):
        reliance_item_remove(actor=member, application_id=mine.pk, item_id=item.pk)
    assert RelianceProposalItem.objects.filter(pk=item.pk).exists()


# --- decisions --------------------------------------------------------------------------------------


@pytest.fixture
def submitted(member, make_application):
    """An application whose complete PQS, with one item relied on and one not, is submitted."""
    application = make_application()
    pqs_save_draft(actor=member, application_id=application.pk, fields=PLAN)
    relied = reliance_item_add(actor=member, application_id=application.pk, fields=RELIED_ON)
    not_relied = reliance_item_add(actor=member, application_id=application.pk, fields=NOT_RELIED_ON)
    _submit(application, member)
    return application, relied, not_relied


@pytest.mark.parametrize("role", [Role.ELEXON_ANALYST, Role.QSP, Role.REC_CODE_MANAGER])
def test_each_code_body_decides_on_items(staff, submitted, role):
    application, relied, _ = submitted
    item = reliance_item_decide(
        actor=staff(role), application_id=application.pk, item_id=relied.pk, decision="accepted"
    )
    assert item.decision == ItemDecision.ACCEPTED
    assert item.decided_by == staff(role)
    assert item.decided_at is not None
    event = AuditEvent.objects.get(action="pqs.item.decide")
    assert (event.before["decision"], event.after["decision"]) == ("pending", "accepted")


@pytest.mark.parametrize("decision", ["rejected", "changes_requested"])
def test_reject_and_changes_requested_need_a_reason(analyst, submitted, decision):
    application, relied, _ = submitted
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        reliance_item_decide(actor=analyst, application_id=application.pk, item_id=relied.pk, decision=decision)
    assert refused.value.details["field"] == "reason"
    assert snapshot() == before
    item = reliance_item_decide(
        actor=analyst, application_id=application.pk, item_id=relied.pk, decision=decision, reason="Show the report."
    )
    assert item.decision_reason == "Show the report."


def test_an_unknown_decision_is_refused(analyst, submitted):
    application, relied, _ = submitted
    for decision in ("pending", "maybe", ""):
        with pytest.raises(InvalidInput, match="accept the item, reject it or ask for changes"):
            reliance_item_decide(actor=analyst, application_id=application.pk, item_id=relied.pk, decision=decision)


def test_participants_and_other_staff_cannot_decide(member, staff, submitted):
    application, relied, _ = submitted
    before = snapshot()
    for user in (member, staff(Role.DIP_MANAGER), staff(Role.TESTING_ASSURANCE)):
        with pytest.raises(PermissionDenied):
            reliance_item_decide(actor=user, application_id=application.pk, item_id=relied.pk, decision="accepted")
    assert snapshot() == before


def test_decisions_only_while_submitted(member, analyst, make_application):
    application = make_application()
    item = reliance_item_add(actor=member, application_id=application.pk, fields=RELIED_ON)
    with pytest.raises(InvalidTransition, match="only while it is submitted"):
        reliance_item_decide(actor=analyst, application_id=application.pk, item_id=item.pk, decision="accepted")


def test_a_body_that_cannot_see_the_application_gets_not_found(staff, member, make_application):
    # Data Services do not need the REC Code Manager's approval, so the REC Code Manager cannot see them.
    application = make_application(market_role="ADS")
    pqs_save_draft(actor=member, application_id=application.pk, fields=PLAN)
    item = reliance_item_add(actor=member, application_id=application.pk, fields=RELIED_ON)
    _submit(application, member)
    with pytest.raises(NotFound):
        reliance_item_decide(
            actor=staff(Role.REC_CODE_MANAGER), application_id=application.pk, item_id=item.pk, decision="accepted"
        )


# --- a whole review cycle ---------------------------------------------------------------------------


def test_resubmission_resets_only_the_items_changed_since_their_decision(member, analyst, submitted):
    application, relied, not_relied = submitted
    reliance_item_decide(
        actor=analyst, application_id=application.pk, item_id=relied.pk, decision="changes_requested", reason="Which?"
    )
    reliance_item_decide(actor=analyst, application_id=application.pk, item_id=not_relied.pk, decision="accepted")
    task_transition(
        actor=analyst, application_id=application.pk, task_code="pqs", action="request_changes", comment="See item."
    )
    assert PqsSubmission.objects.get().status == PqsStatus.DRAFT

    changed = reliance_item_update(
        actor=member,
        application_id=application.pk,
        item_id=relied.pk,
        fields=replace(RELIED_ON, artefacts="Vendor test completion report v3, with flow evidence"),
    )
    assert changed.changed_since_decision is True
    assert changed.decision == ItemDecision.CHANGES_REQUESTED  # until it is submitted again
    _submit(application, member)

    pqs = PqsSubmission.objects.get()
    assert (pqs.status, pqs.version) == (PqsStatus.SUBMITTED, 2)
    relied.refresh_from_db()
    not_relied.refresh_from_db()
    assert (relied.decision, relied.decided_by, relied.decision_reason) == (ItemDecision.PENDING, None, "")
    assert relied.changed_since_decision is False
    assert not_relied.decision == ItemDecision.ACCEPTED
    assert [v.number for v in pqs.versions.all()] == [1, 2]
    second = pqs.versions.get(number=2).content
    assert second["items"][0]["artefacts"].endswith("v3, with flow evidence")
    event = AuditEvent.objects.filter(action="pqs.submit").latest("sequence")
    assert event.after["decisions_reset"] == [
        {"id": relied.pk, "title": "Vendor flow management", "was": "changes_requested"}
    ]


def test_submitting_freezes_version_one(member, submitted):
    application, _, _ = submitted
    pqs = PqsSubmission.objects.get(application=application)
    assert (pqs.status, pqs.version, pqs.submitted_by) == (PqsStatus.SUBMITTED, 1, member)
    version = pqs.versions.get()
    assert version.content["pqs"]["preferred_wave"] == "wave-2"
    assert len(version.content["items"]) == 2
    assert task_of(application).state == TaskState.SUBMITTED


def test_a_change_after_the_task_was_reopened_makes_the_pqs_a_draft_again(member, analyst, make_application):
    from portal.qualification.services import task_reopen

    application = make_application()
    pqs_save_draft(actor=member, application_id=application.pk, fields=PLAN)
    _submit(application, member)
    task_transition(actor=analyst, application_id=application.pk, task_code="pqs", action="accept")
    task_reopen(actor=analyst, application_id=application.pk, task_code="pqs", reason="Wave capacity changed.")
    assert PqsSubmission.objects.get().status == PqsStatus.SUBMITTED
    pqs_save_draft(actor=member, application_id=application.pk, fields=replace(PLAN, preferred_wave="wave-3"))
    pqs = PqsSubmission.objects.get()
    assert (pqs.status, pqs.version) == (PqsStatus.DRAFT, 1)
    _submit(application, member)
    pqs.refresh_from_db()
    assert (pqs.status, pqs.version) == (PqsStatus.SUBMITTED, 2)
