"""Drafts, answers with evidence, submitting (the guard names what is missing; the effect freezes the
version), new versions after changes are requested, and what changed between two versions."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portal.accounts.roles import Role
from portal.audit.models import AuditEvent
from portal.core.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied
from portal.documents.models import EvidenceFile, QadAnswer, QadSubmission
from portal.documents.selectors import (
    qad_diff,
    qad_missing,
    qad_versions,
    template_get,
    template_questions,
    text_segments,
)
from portal.documents.services import (
    AnswerChange,
    qad_answer_save,
    qad_answers_save,
    qad_submit,
    qad_version_start,
)
from portal.documents.testing_support import qad_complete_answers
from portal.documents.workflow import SubmissionStatus
from portal.qualification.models import Task
from portal.qualification.services import task_transition
from portal.qualification.workflow import TaskState

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"


def state(application, code):
    return Task.objects.get(application=application, code=code).state


def everything():
    return (
        QadSubmission.objects.count(),
        QadAnswer.objects.count(),
        EvidenceFile.objects.count(),
        AuditEvent.objects.count(),
        tuple(Task.objects.order_by("pk").values_list("state", flat=True)),
    )


@pytest.fixture
def initial(make_application, stages):
    return stages.initial_open(make_application())


def test_saving_a_first_answer_starts_version_1_and_the_task(initial, member):
    draft = qad_answer_save(
        actor=member, application_id=initial.pk, kind="initial", question_number="1.1", text="  Northern Lights  "
    )
    assert (draft.version, draft.status) == (1, SubmissionStatus.DRAFT)
    assert draft.answers.get().text == "Northern Lights"
    assert state(initial, "initial_qad") == TaskState.IN_PROGRESS
    assert AuditEvent.objects.filter(action="qad.answers_save", target_id=str(draft.pk)).exists()
    # The next save goes to the same draft.
    again = qad_answer_save(actor=member, application_id=initial.pk, kind="initial", question_number="1.2", text="SIT")
    assert again.pk == draft.pk and draft.answers.count() == 2


def test_evidence_is_uploaded_attached_and_removed(initial, member):
    draft = qad_answer_save(
        actor=member,
        application_id=initial.pk,
        kind="initial",
        question_number="1.4",
        text="Our architecture.",
        uploads=[SimpleUploadedFile("architecture.pdf", PDF)],
    )
    answer = draft.answers.get(question__number="1.4")
    [evidence] = answer.evidence.all()
    assert evidence.original_name == "architecture.pdf" and evidence.purpose == "qad:initial:1.4"
    # The same file is attached to another answer without uploading it again.
    qad_answer_save(
        actor=member,
        application_id=initial.pk,
        kind="initial",
        question_number="2.1",
        text="Governance.",
        attach_evidence_ids=[evidence.pk],
    )
    assert list(draft.answers.get(question__number="2.1").evidence.all()) == [evidence]
    qad_answer_save(
        actor=member,
        application_id=initial.pk,
        kind="initial",
        question_number="1.4",
        remove_evidence_ids=[evidence.pk],
    )
    assert not answer.evidence.exists()
    assert answer.text == "Our architecture."  # text None leaves the text
    assert EvidenceFile.objects.filter(pk=evidence.pk).exists()  # the file itself is kept


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (AnswerChange("9.9", "x"), "is not a question of this QAD"),
        (AnswerChange("5.1.3", "x"), "is not a question of this QAD for the Supplier role"),  # LDSO only
        (AnswerChange("1.1", "x" * 20001), "20000 characters or fewer"),
        (AnswerChange("1.1", "bad\x00text"), "control characters"),
        (AnswerChange("1.1", "x", uploads=[SimpleUploadedFile("fake.pdf", b"MZ\x90\x00")]), "is not a PDF file"),
        (AnswerChange("1.1", "x", uploads=[SimpleUploadedFile("plan:v2.txt", b"hello")]), "not allowed"),
        (AnswerChange("1.1", "x", remove_evidence_ids=[12345]), "is not attached to question 1.1"),
        (AnswerChange("1.1", "x", attach_evidence_ids=[12345]), "this application's own files"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(initial, member, change, message):
    before = everything()
    with pytest.raises(InvalidInput, match=message):
        qad_answers_save(actor=member, application_id=initial.pk, kind="initial", changes=[change])
    assert everything() == before


def test_a_bad_answer_among_good_ones_refuses_the_whole_save(initial, member):
    before = everything()
    with pytest.raises(InvalidInput):
        qad_answers_save(
            actor=member,
            application_id=initial.pk,
            kind="initial",
            changes=[
                AnswerChange("1.1", "fine", uploads=[SimpleUploadedFile("ok.txt", b"ok")]),
                AnswerChange("1.1", "twice"),
            ],
        )
    assert everything() == before


def test_evidence_of_another_application_cannot_be_attached(initial, member, make_application, other_org, other_member):
    from portal.documents.services import evidence_store

    theirs = make_application(organisation=other_org, actor=other_member)
    evidence = evidence_store(actor=other_member, application=theirs, upload=SimpleUploadedFile("a.txt", b"x"))
    with pytest.raises(InvalidInput, match="own files"):
        qad_answer_save(
            actor=member,
            application_id=initial.pk,
            kind="initial",
            question_number="1.1",
            attach_evidence_ids=[evidence.pk],
        )


@pytest.mark.parametrize("who", [Role.ELEXON_ANALYST, Role.DIP_MANAGER, Role.ADMINISTRATOR])
def test_staff_cannot_write_a_qad(initial, staff, who):
    before = everything()
    with pytest.raises(PermissionDenied):
        qad_answer_save(actor=staff(who), application_id=initial.pk, kind="initial", question_number="1.1", text="x")
    assert everything() == before


@pytest.mark.parametrize("who", ["other_member", Role.PAB_MEMBER, Role.TESTING_ASSURANCE])
def test_another_organisation_and_non_readers_find_nothing(request, initial, staff, who):
    user = staff(who) if isinstance(who, Role) else request.getfixturevalue(who)
    before = everything()
    with pytest.raises(NotFound):
        qad_answer_save(actor=user, application_id=initial.pk, kind="initial", question_number="1.1", text="x")
    assert everything() == before


def test_an_unknown_kind_is_not_found(initial, member):
    with pytest.raises(NotFound):
        qad_answer_save(actor=member, application_id=initial.pk, kind="interim", question_number="1.1", text="x")


def test_submit_is_refused_naming_what_is_missing(initial, member):
    qad_answer_save(actor=member, application_id=initial.pk, kind="initial", question_number="1.1", text="Us.")
    qad_answer_save(actor=member, application_id=initial.pk, kind="initial", question_number="1.4", text="No file.")
    before = everything()
    with pytest.raises(InvalidInput) as refused:
        qad_submit(actor=member, application_id=initial.pk, kind="initial")
    missing = refused.value.details["missing"]
    assert {"question": "1.4", "missing": "evidence"} in missing
    assert {"question": "1.2", "missing": "answer"} in missing
    assert {"question": "1.1", "missing": "answer"} not in missing
    assert "1.2 (answer)" in refused.value.message and "1.4 (evidence)" in refused.value.message
    assert everything() == before


def test_submit_without_any_draft_is_refused(initial, member):
    with pytest.raises(InvalidInput, match="no answers yet"):
        qad_submit(actor=member, application_id=initial.pk, kind="initial")


def test_the_generic_submit_is_guarded_too(initial, member):
    with pytest.raises(InvalidInput):
        task_transition(actor=member, application_id=initial.pk, task_code="initial_qad", action="submit")
    assert state(initial, "initial_qad") == TaskState.NOT_STARTED


def test_submitting_freezes_the_version(initial, member):
    qad_complete_answers(actor=member, application=initial, kind="initial")
    qad_submit(actor=member, application_id=initial.pk, kind="initial")
    v1 = QadSubmission.objects.get(application=initial, kind="initial")
    assert v1.status == SubmissionStatus.SUBMITTED and v1.submitted_by == member and v1.submitted_at
    assert state(initial, "initial_qad") == TaskState.SUBMITTED
    assert AuditEvent.objects.filter(action="qad.freeze", target_id=str(v1.pk)).get().after["content_sha256"]
    before = everything()
    with pytest.raises(InvalidTransition, match="with the Code Bodies for review"):
        qad_answer_save(actor=member, application_id=initial.pk, kind="initial", question_number="1.1", text="later")
    assert everything() == before


def test_after_changes_are_requested_a_new_version_is_copied_from_the_last(stages, make_application, member):
    application = stages.initial_submitted(make_application())
    stages.review(application, "initial_qad", "request_changes", "Expand 1.1.")
    with pytest.raises(InvalidTransition, match="already been submitted"):
        qad_submit(actor=member, application_id=application.pk, kind="initial")
    v2 = qad_version_start(actor=member, application_id=application.pk, kind="initial")
    v1 = stages.version(application, "initial", 1)
    assert (v2.version, v2.status, v2.copied_from_id) == (2, SubmissionStatus.DRAFT, v1.pk)
    assert v2.answers.count() == v1.answers.count()
    assert qad_version_start(actor=member, application_id=application.pk, kind="initial").pk == v2.pk  # idempotent
    qad_answer_save(actor=member, application_id=application.pk, kind="initial", question_number="1.1", text="More.")
    assert v1.answers.get(question__number="1.1").text != "More."  # the frozen version is untouched
    qad_submit(actor=member, application_id=application.pk, kind="initial")
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v1.status, v2.status) == (SubmissionStatus.SUPERSEDED, SubmissionStatus.SUBMITTED)


def test_the_first_final_qad_starts_from_the_initial_qad(stages, make_application, member):
    application = stages.final_open(make_application())
    initial = stages.version(application, "initial", 1)
    final = qad_version_start(actor=member, application_id=application.pk, kind="final")
    assert final.version == 1 and final.copied_from_id == initial.pk
    assert dict(final.answers.values_list("question__number", "text")) == dict(
        initial.answers.values_list("question__number", "text")
    )


def test_reviewers_do_not_see_drafts(stages, make_application, member, staff):
    application = stages.initial_submitted(make_application())
    stages.review(application, "initial_qad", "request_changes", "More please.")
    qad_version_start(actor=member, application_id=application.pk, kind="initial")
    analyst = staff(Role.ELEXON_ANALYST)
    assert [v.version for v in qad_versions(user=analyst, application=application, kind="initial")] == [1]
    assert [v.version for v in qad_versions(user=member, application=application, kind="initial")] == [2, 1]


def test_the_diff_shows_what_changed_question_by_question(stages, make_application, member, staff):
    application = stages.initial_submitted(make_application())
    stages.review(application, "initial_qad", "request_changes", "Expand 1.1 and replace the plan.")
    v1 = stages.version(application, "initial", 1)
    old_text = v1.answers.get(question__number="1.1").text
    qad_answers_save(
        actor=member,
        application_id=application.pk,
        kind="initial",
        changes=[
            AnswerChange("1.1", old_text + " We also hold MPID NLEX."),
            AnswerChange("2.2", uploads=[SimpleUploadedFile("plan-v2.pdf", PDF)]),
        ],
    )
    qad_submit(actor=member, application_id=application.pk, kind="initial")
    diff = qad_diff(
        user=staff(Role.ELEXON_ANALYST), application=application, kind="initial", old_version=1, new_version=2
    )
    changed = {row.number: row for row in diff.changed}
    assert set(changed) == {"1.1", "2.2"}
    assert changed["1.1"].change == "changed"
    assert ("insert", "We also hold MPID NLEX.") in [(op, text.strip()) for op, text in changed["1.1"].segments]
    assert [e.original_name for e in changed["2.2"].evidence_added] == ["plan-v2.pdf"]
    assert not changed["2.2"].text_changed
    assert len(diff.rows) == len(template_questions(v1.template, role_group_id=application.market_role.role_group_id))
    with pytest.raises(InvalidInput):
        qad_diff(user=member, application=application, kind="initial", old_version=2, new_version=2)
    with pytest.raises(NotFound):
        qad_diff(user=member, application=application, kind="initial", old_version=1, new_version=7)


def test_text_segments_mark_deletions_and_insertions():
    assert text_segments("The plan is late", "The plan is on time") == [
        ("equal", "The plan is"),
        ("delete", " late"),
        ("insert", " on time"),
    ]


def test_only_the_role_groups_questions_apply(initial, make_application):
    supplier = {q.number for q in template_questions(template_get(), role_group_id=initial.market_role.role_group_id)}
    assert "5.1.1" in supplier and "5.1.3" not in supplier and "5.1.7" not in supplier
    mem = make_application(market_role="MEM")
    numbers = {q.number for q in template_questions(template_get(), role_group_id=mem.market_role.role_group_id)}
    assert "5.1.5" in numbers and "5.1.1" not in numbers and "4.3.5" not in numbers


def test_completing_answers_covers_everything(initial, member):
    draft = qad_complete_answers(actor=member, application=initial, kind="initial")
    assert qad_missing(draft, role_group_id=initial.market_role.role_group_id) == []
    # One evidence pack, uploaded once and attached wherever evidence is expected.
    assert EvidenceFile.objects.filter(application=initial, original_name="qad-evidence-pack.txt").count() == 1
