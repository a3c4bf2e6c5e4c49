"""The PIT services: recording criteria with evidence, removing evidence, RTTM versions; who may, when,
and what bad input gets. Every refusal leaves everything as it was."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Min

from portal.accounts.roles import Role
from portal.audit.models import AuditEvent
from portal.audit.services import audit_verify
from portal.core.errors import Conflict, InvalidInput, InvalidTransition, NotFound, PermissionDenied
from portal.documents.models import EvidenceFile
from portal.notifications.models import Notification
from portal.qualification.services import application_withdraw, task_transition
from portal.testing import services
from portal.testing.models import PitCriterionResult, RttmUpload
from portal.testing.services import (
    pit_criterion_evidence_remove,
    pit_criterion_record,
    pit_evidence_open,
    pit_rttm_upload,
)
from portal.testing.tests.conftest import csv, pdf, snapshot, task_of, xlsx

pytestmark = pytest.mark.django_db


def record(actor, application, code="pit_dbt1_complete", **kwargs):
    kwargs.setdefault("met", True)
    return pit_criterion_record(actor=actor, application_id=application.pk, criterion_code=code, **kwargs)


def upload_rttm(actor, application, checkpoint="pit_entry", upload=None, note=""):
    return pit_rttm_upload(
        actor=actor, application_id=application.pk, checkpoint=checkpoint, upload=upload or csv(), note=note
    )


# --- recording a criterion -------------------------------------------------------------------------


def test_recording_a_criterion_with_evidence(member, pit_app):
    result = record(member, pit_app, note="DBT1 signed off by the test lead.", files=[pdf("dbt1.pdf")])
    assert result.met is True
    assert result.note == "DBT1 signed off by the test lead."
    assert result.recorded_by == member
    [evidence] = result.evidence.all()
    assert evidence.original_name == "dbt1.pdf"
    assert evidence.purpose == "pit:criterion:pit_dbt1_complete"
    assert evidence.application == pit_app
    event = AuditEvent.objects.get(action="pit.criterion.record")
    assert event.before == {}
    assert event.after["met"] is True
    assert event.after["evidence"][0]["sha256"] == evidence.sha256
    assert audit_verify().ok


def test_the_first_piece_of_work_starts_the_task(member, pit_app):
    assert task_of(pit_app).state == "not_started"
    record(member, pit_app)
    task = task_of(pit_app)
    assert task.state == "in_progress"
    assert [e.action for e in task.entries.all()] == ["start"]


def test_recording_again_replaces_the_result_and_keeps_the_evidence(member, director, pit_app):
    record(member, pit_app, files=[pdf("first.pdf")])
    result = record(director, pit_app, met=False, note="A severity 2 defect reopened.", files=[pdf("second.pdf")])
    assert PitCriterionResult.objects.count() == 1
    assert result.met is False
    assert result.recorded_by == director
    assert sorted(e.original_name for e in result.evidence.all()) == ["first.pdf", "second.pdf"]
    event = AuditEvent.objects.filter(action="pit.criterion.record").latest("sequence")
    assert event.before["met"] is True and event.after["met"] is False


def test_recording_needs_no_notification(member, pit_app, programme):
    record(member, pit_app)
    assert not Notification.objects.filter(recipient=programme).exists()


@pytest.mark.parametrize("state", ["submitted", "completed"])
def test_the_checklist_is_frozen_once_submitted(member, pit_app, programme, state, submit_pit):
    from portal.testing.testing_support import pit_complete_checklist

    pit_complete_checklist(pit_app, actor=member)
    submit_pit(pit_app, member)
    if state == "completed":
        task_transition(actor=programme, application_id=pit_app.pk, task_code="pit", action="accept")
    before = snapshot()
    with pytest.raises(InvalidTransition, match=f"is {'submitted' if state == 'submitted' else 'completed'}"):
        record(member, pit_app, met=False)
    with pytest.raises(InvalidTransition):
        upload_rttm(member, pit_app)
    assert snapshot() == before


def test_changes_requested_opens_the_checklist_again(member, pit_app, programme, submit_pit):
    from portal.testing.testing_support import pit_complete_checklist

    pit_complete_checklist(pit_app, actor=member)
    submit_pit(pit_app, member)
    task_transition(
        actor=programme, application_id=pit_app.pk, task_code="pit", action="request_changes", comment="Add the log."
    )
    result = record(member, pit_app, code="defects_triaged", files=[pdf("defect-log.pdf")])
    assert result.evidence.count() == 2
    assert task_of(pit_app).state == "changes_requested"


def test_nothing_can_be_recorded_before_the_task_can_start(member, make_application):
    application = make_application()  # the Non-SIT route: PIT waits for the PQS
    assert task_of(application).state == "cannot_start"
    before = snapshot()
    with pytest.raises(InvalidTransition, match="cannot start yet"):
        record(member, application)
    assert snapshot() == before


def test_nothing_can_be_recorded_on_a_closed_application(member, pit_app):
    application_withdraw(actor=member, application_id=pit_app.pk, reason="Not going ahead.")
    before = snapshot()
    with pytest.raises(InvalidTransition, match="withdrawn"):
        record(member, pit_app)
    assert snapshot() == before


@pytest.mark.parametrize("role", [Role.PROGRAMME_ASSURANCE, Role.DIP_MANAGER, Role.ELEXON_ANALYST, Role.ADMINISTRATOR])
def test_staff_cannot_record_results(staff, pit_app, role):
    before = snapshot()
    with pytest.raises(PermissionDenied, match="Only the applying organisation"):
        record(staff(role), pit_app)
    with pytest.raises(PermissionDenied):
        upload_rttm(staff(role), pit_app)
    assert snapshot() == before


def test_another_organisation_gets_not_found(other_member, pit_app):
    before = snapshot()
    with pytest.raises(NotFound):
        record(other_member, pit_app)
    with pytest.raises(NotFound):
        upload_rttm(other_member, pit_app)
    assert snapshot() == before


def test_an_unknown_or_inapplicable_criterion_is_not_found(member, pit_app):
    before = snapshot()
    with pytest.raises(NotFound):
        record(member, pit_app, code="no_such_criterion")
    with pytest.raises(NotFound):  # only for Data Services
        record(member, pit_app, code="settlement_volume_tests_complete")
    assert snapshot() == before


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("fake.pdf", b"MZ\x90\x00binary"), "is not a PDF file"),
        (SimpleUploadedFile("empty.pdf", b""), "is empty"),
        (SimpleUploadedFile("evil<script>.txt", b"x"), "not allowed"),
        (SimpleUploadedFile("program.exe", b"MZ"), "not an allowed type"),
    ],
)
def test_a_bad_file_is_refused_and_nothing_is_stored(member, pit_app, upload, message):
    before = snapshot()
    with pytest.raises(InvalidInput, match=message) as refused:
        record(member, pit_app, files=[pdf("good.pdf"), upload])
    assert refused.value.details["field"] == "files"
    assert snapshot() == before


@pytest.mark.parametrize(
    ("note", "message"),
    [("x" * 5001, "5000 characters or fewer"), ("bell\x07", "control characters")],
)
def test_a_bad_note_is_refused_and_nothing_is_stored(member, pit_app, note, message):
    before = snapshot()
    with pytest.raises(InvalidInput, match=message):
        record(member, pit_app, note=note)
    assert snapshot() == before


def test_too_many_files_at_once(member, pit_app):
    before = snapshot()
    with pytest.raises(InvalidInput, match="10 files or fewer"):
        record(member, pit_app, files=[pdf(f"{n}.pdf") for n in range(11)])
    assert snapshot() == before


# --- removing evidence -----------------------------------------------------------------------------


def test_removing_evidence_keeps_the_file(member, pit_app):
    result = record(member, pit_app, files=[pdf("wrong.pdf"), pdf("right.pdf")])
    wrong = result.evidence.get(original_name="wrong.pdf")
    result = pit_criterion_evidence_remove(
        actor=member, application_id=pit_app.pk, criterion_code="pit_dbt1_complete", evidence_id=wrong.pk
    )
    assert [e.original_name for e in result.evidence.all()] == ["right.pdf"]
    assert EvidenceFile.objects.filter(pk=wrong.pk).exists()
    event = AuditEvent.objects.get(action="pit.criterion.evidence_remove")
    assert len(event.before["evidence"]) == 2 and len(event.after["evidence"]) == 1


def test_removing_evidence_that_is_not_attached_is_not_found(member, other_member, pit_app):
    result = record(member, pit_app, files=[pdf()])
    evidence = result.evidence.get()
    before = snapshot()
    with pytest.raises(NotFound):
        pit_criterion_evidence_remove(
            actor=member, application_id=pit_app.pk, criterion_code="functional_tests_complete", evidence_id=evidence.pk
        )
    with pytest.raises(NotFound):
        pit_criterion_evidence_remove(
            actor=other_member, application_id=pit_app.pk, criterion_code="pit_dbt1_complete", evidence_id=evidence.pk
        )
    assert snapshot() == before


# --- RTTM ------------------------------------------------------------------------------------------


def test_rttm_uploads_are_versioned_per_checkpoint(member, director, pit_app, programme):
    first = upload_rttm(member, pit_app, upload=csv("RTTM v1.csv"), note="Baseline")
    second = upload_rttm(director, pit_app, upload=xlsx("RTTM v2.xlsx"), note="Migration rows added")
    exit_first = upload_rttm(member, pit_app, checkpoint="pit_exit", upload=xlsx("RTTM exit.xlsx"))
    assert (first.version, second.version, exit_first.version) == (1, 2, 1)
    assert second.evidence.file_type == "xlsx"
    assert second.evidence.purpose == "rttm:pit_entry"
    # Older versions stay, with their files.
    assert RttmUpload.objects.filter(application=pit_app, checkpoint="pit_entry").count() == 2
    with first.evidence.file.open("rb") as stored:
        assert stored.read().startswith(b"Requirement ID")
    assert AuditEvent.objects.filter(action="pit.rttm.upload").count() == 3
    # The Programme, which assures PIT, is told each time.
    subjects = list(Notification.objects.filter(recipient=programme).values_list("subject", flat=True))
    assert subjects.count(f"RTTM at PIT entry uploaded: {pit_app.reference}") == 2
    assert f"RTTM at PIT exit uploaded: {pit_app.reference}" in subjects


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (pdf("rttm.pdf"), "An RTTM must be an XLSX or CSV file"),
        (SimpleUploadedFile("rttm.txt", b"Requirement,Test\n"), "An RTTM must be an XLSX or CSV file"),
        (SimpleUploadedFile("rttm.xlsx", b"PK\x03\x04not really a zip"), "is not a XLSX file"),
        (SimpleUploadedFile("rttm.csv", b"\x00\x01\x02binary"), "is not a CSV file"),
        (SimpleUploadedFile("rttm.csv", b""), "is empty"),
    ],
)
def test_only_an_xlsx_or_csv_file_is_an_rttm(member, pit_app, upload, message):
    before = snapshot()
    with pytest.raises(InvalidInput, match=message) as refused:
        upload_rttm(member, pit_app, upload=upload)
    assert refused.value.details["field"] == "file"
    assert snapshot() == before


def test_an_rttm_needs_a_file_and_a_pit_checkpoint(member, pit_app):
    before = snapshot()
    with pytest.raises(InvalidInput, match="Choose the RTTM file"):
        pit_rttm_upload(actor=member, application_id=pit_app.pk, checkpoint="pit_entry", upload=None)
    with pytest.raises(NotFound, match="pit_entry or pit_exit"):
        upload_rttm(member, pit_app, checkpoint="qt_entry")
    assert snapshot() == before


def test_the_database_refuses_a_repeated_version_and_a_bad_checkpoint(member, pit_app):
    first = upload_rttm(member, pit_app)

    def evidence():
        return EvidenceFile.objects.create(
            organisation=pit_app.organisation,
            application=pit_app,
            file=first.evidence.file.name,
            original_name="copy.csv",
            file_type="csv",
            content_type="text/csv",
            size=1,
            sha256="0" * 64,
            uploaded_by=member,
        )

    for version, checkpoint in [(1, "pit_entry"), (0, "pit_exit"), (1, "somewhere")]:
        with pytest.raises(IntegrityError), transaction.atomic():
            RttmUpload.objects.create(application=pit_app, checkpoint=checkpoint, version=version, evidence=evidence())


def test_a_version_taken_at_the_same_moment_is_a_conflict(member, pit_app, monkeypatch):
    upload_rttm(member, pit_app)
    upload_rttm(member, pit_app)
    before = RttmUpload.objects.count()
    # As if another request had taken the next version between reading the latest and inserting.
    monkeypatch.setattr(services, "Max", Min)
    with pytest.raises(Conflict, match="at the same moment"):
        upload_rttm(member, pit_app)
    assert RttmUpload.objects.count() == before


# --- downloads -------------------------------------------------------------------------------------


def test_pit_evidence_opens_for_who_may_see_it(member, other_member, programme, pit_app, make_application):
    result = record(member, pit_app, files=[pdf()])
    evidence = result.evidence.get()
    assert pit_evidence_open(actor=member, application_id=pit_app.pk, evidence_id=evidence.pk) == evidence
    assert not AuditEvent.objects.filter(action="evidence.download").exists()
    pit_evidence_open(actor=programme, application_id=pit_app.pk, evidence_id=evidence.pk)
    assert AuditEvent.objects.filter(action="evidence.download", target_id=str(evidence.pk)).count() == 1
    with pytest.raises(NotFound):
        pit_evidence_open(actor=other_member, application_id=pit_app.pk, evidence_id=evidence.pk)
    other = make_application(route="sit", market_role="ADS")
    with pytest.raises(NotFound):  # not this application's
        pit_evidence_open(actor=member, application_id=other.pk, evidence_id=evidence.pk)
