"""The QAD in the browser: the form by section, answers with evidence, check your answers, versions and
the diff, clarification threads, signing with the password, and the signature's status."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portal.accounts.roles import Role
from portal.audit.models import AuditEvent
from portal.documents.models import Clarification, DirectorSignature, EvidenceFile, QadAnswer, SigningDelegate
from portal.documents.selectors import declaration_current
from portal.documents.services import clarification_raise, qad_answer_save
from portal.documents.testing_support import current_otp_code
from portal.documents.workflow import SignatureStatus
from portal.factories import TEST_PASSWORD, make_member
from portal.qualification.models import Task
from portal.qualification.workflow import TaskState

pytestmark = [pytest.mark.django_db, pytest.mark.urls("portal.documents.tests.urls")]

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"


def body(response) -> str:
    return response.content.decode()


def error_summary(response) -> list[str]:
    html = body(response)
    match = re.search(r'govuk-error-summary__list">(.*?)</ul>', html, re.S)
    return (
        [re.sub(r"<[^>]+>", "", item).strip() for item in re.findall(r"<li>(.*?)</li>", match.group(1), re.S)]
        if match
        else []
    )


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def base(application, kind="initial"):
    return f"/applications/{application.pk}/qad/{kind}/"


def test_pages_need_sign_in(client, make_application):
    application = make_application()
    response = client.get(base(application))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_participant_writes_checks_and_submits(as_user, member, make_application, stages):
    application = stages.initial_open(make_application())
    client = as_user(member)
    page = client.get(base(application))
    assert page.status_code == 200 and "Start the Initial QAD" in body(page)

    assert client.post(base(application) + "start/").status_code == 302
    page = client.get(base(application))
    assert "govuk-task-list" in body(page) and "4.5 DIP connection and non-functional requirements" in body(page)
    assert "0 of 12 sections completed" in body(page)

    question = base(application) + "questions/1.4/"
    assert "Your answer" in body(client.get(question))
    response = client.post(
        question, {"text": "Our solution.", "then": "next", "files": SimpleUploadedFile("arch.pdf", PDF)}
    )
    assert response.status_code == 302 and response["Location"].endswith("/questions/1.5/")
    answer = QadAnswer.objects.get(submission__application=application, question__number="1.4")
    assert answer.text == "Our solution." and answer.evidence.get().original_name == "arch.pdf"

    check = client.get(base(application) + "check/")
    assert check.status_code == 200 and "still need" in body(check)
    refused = client.post(base(application) + "check/", {"comment": ""})
    assert refused.status_code == 422
    assert error_summary(refused)[0].startswith("The Initial QAD is not complete")

    from portal.documents.testing_support import qad_complete_answers

    qad_complete_answers(actor=member, application=application, kind="initial")
    done = client.post(base(application) + "check/", {"comment": "Ready."})
    assert done.status_code == 302
    assert Task.objects.get(application=application, code="initial_qad").state == TaskState.SUBMITTED
    page = client.get(base(application))
    assert "Review clock" in body(page) and "With the Code Bodies" in body(page)
    # Frozen: the question page no longer offers the form.
    assert "Save and continue" not in body(client.get(question))
    assert client.post(question, {"text": "late"}).status_code == 403


def test_a_bad_file_is_shown_in_the_error_summary_and_nothing_is_stored(as_user, member, make_application, stages):
    application = stages.initial_open(make_application())
    client = as_user(member)
    before = (EvidenceFile.objects.count(), QadAnswer.objects.count())
    response = client.post(
        base(application) + "questions/1.4/",
        {"text": "x", "files": SimpleUploadedFile("report.pdf", b"MZ\x90\x00 not a pdf")},
    )
    assert response.status_code == 422
    assert error_summary(response) == ["The content of report.pdf is not a PDF file, although its name says so."]
    assert 'href="#id_files"' in body(response)
    assert (EvidenceFile.objects.count(), QadAnswer.objects.count()) == before


def test_too_long_an_answer_is_refused_by_the_form(as_user, member, make_application, stages):
    application = stages.initial_open(make_application())
    response = as_user(member).post(base(application) + "questions/1.1/", {"text": "x" * 20001})
    assert response.status_code == 400
    assert error_summary(response) == ["The answer must be 20000 characters or fewer"]


def test_other_organisations_and_non_readers_get_404(as_user, other_member, staff, make_application, stages):
    application = stages.initial_submitted(make_application())
    for user in (other_member, staff(Role.PAB_MEMBER)):
        client = as_user(user)
        for path in ("", "questions/1.1/", "versions/", "versions/1/", "check/", "clarifications/"):
            assert client.get(base(application) + path).status_code == 404, (user, path)
        assert client.get(f"/applications/{application.pk}/qad/sign/").status_code == 404


def test_versions_and_the_diff_page(as_user, member, staff, make_application, stages):
    application = stages.initial_submitted(make_application())
    stages.review(application, "initial_qad", "request_changes", "Expand 1.1.")
    qad_answer_save(
        actor=member, application_id=application.pk, kind="initial", question_number="1.1", text="A new answer."
    )
    from portal.documents.services import qad_submit

    qad_submit(actor=member, application_id=application.pk, kind="initial")
    client = as_user(staff(Role.ELEXON_ANALYST))
    versions = client.get(base(application) + "versions/")
    assert "Version 2" in body(versions) and "Superseded" in body(versions)
    diff = client.get(base(application) + "compare/", {"old": 1, "new": 2})
    assert diff.status_code == 200
    assert "1 question changed" in body(diff) and "<ins>A new answer.</ins>" in body(diff)
    default = client.get(base(application) + "compare/")
    assert "From version 1 to version 2" in body(default)
    bad = client.get(base(application) + "compare/", {"old": "x", "new": 2})
    assert bad.status_code == 400
    assert client.get(base(application) + "versions/1/").status_code == 200


def test_clarification_threads_in_the_browser(as_user, member, staff, make_application, stages):
    application = stages.final_submitted(make_application())
    analyst = staff(Role.ELEXON_ANALYST)
    client = as_user(analyst)
    question = base(application, "final") + "questions/3.1.2/"
    assert "Raise a clarification" in body(client.get(question))
    empty = client.post(question + "clarify/", {"text": " "})
    assert empty.status_code == 422 and error_summary(empty) == ["Enter what you need the participant to clarify."]
    response = client.post(question + "clarify/", {"text": "Which cases failed?"})
    clarification = Clarification.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/clarifications/{clarification.pk}/")
    page = client.get(response["Location"])
    assert "Which cases failed?" in body(page) and "Close the clarification" in body(page)
    assert "Answer the clarification" not in body(page)

    client = as_user(member)
    thread = base(application, "final") + f"clarifications/{clarification.pk}/"
    assert "Answer the clarification" in body(client.get(thread))
    assert client.post(thread + "close/", {"text": ""}).status_code == 403
    assert client.post(thread + "answer/", {"text": "TC-12."}).status_code == 302
    clarification.refresh_from_db()
    assert clarification.status == "answered"
    listing = client.get(base(application, "final") + "clarifications/")
    assert clarification.reference in body(listing)

    client = as_user(analyst)
    assert client.post(thread + "close/", {"text": "Thanks."}).status_code == 302
    clarification.refresh_from_db()
    assert clarification.status == "closed"
    again = client.post(thread + "close/", {"text": ""})
    assert again.status_code == 409 and "cannot be closed now" in error_summary(again)[0]


def test_signing_in_the_browser(as_user, director, member, make_application, stages):
    application = stages.final_agreed(make_application())
    url = f"/applications/{application.pk}/qad/sign/"
    page = as_user(member).get(url)
    assert "Only a Company Director" in body(page) and 'name="password"' not in body(page)

    client = as_user(director)
    page = client.get(url)
    assert declaration_current().text.split("\n")[0][:60] in body(page) and 'name="password"' in body(page)
    version = declaration_current().version
    unconfirmed = client.post(url, {"declaration_version": version, "password": TEST_PASSWORD})
    assert unconfirmed.status_code == 400
    assert error_summary(unconfirmed) == ["Confirm that you have read the declaration and that you make it"]
    wrong = client.post(url, {"declaration_version": version, "password": "wrong", "confirm": "on"})
    assert wrong.status_code == 403 and error_summary(wrong) == ["The password is not correct."]
    assert not DirectorSignature.objects.exists()
    # Directors have an authenticator app: signing is a step-up, the password and a current code.
    assert 'name="otp_code"' in body(page)
    no_code = client.post(url, {"declaration_version": version, "password": TEST_PASSWORD, "confirm": "on"})
    assert no_code.status_code == 403
    assert error_summary(no_code) == ["Enter the code from your authenticator app as well as your password."]
    signing = {"declaration_version": version, "password": TEST_PASSWORD, "confirm": "on"}
    done = client.post(url, {**signing, "otp_code": current_otp_code(director)})
    assert done.status_code == 302 and done["Location"].endswith("/qad/signature/")
    status = client.get(done["Location"])
    signature = DirectorSignature.objects.get()
    assert signature.manifest_sha256 in body(status) and "Matches" in body(status)
    verified = client.post(done["Location"])
    assert verified.status_code == 302
    assert "The manifest matches" in body(client.get(done["Location"]))


def test_a_change_after_signing_is_shown_and_voids_the_signature(as_user, director, make_application, stages):
    application = stages.signed(make_application())
    QadAnswer.objects.filter(
        submission__application=application, submission__kind="final", question__number="1.1"
    ).update(text="Changed.")
    client = as_user(director)
    url = f"/applications/{application.pk}/qad/signature/"
    page = client.get(url)
    assert "no longer matches what was signed" in body(page) and "The answer to question 1.1 has changed." in body(page)
    client.post(url)
    page = client.get(url)
    assert "This signature is void." in body(page) and "Sign the Final QAD again" in body(page)
    assert DirectorSignature.objects.get().status == SignatureStatus.VOIDED
    assert AuditEvent.objects.filter(action="qad.signature_void").exists()


def test_the_code_bodies_reopen_the_final_qad(as_user, member, make_application, stages):
    application = stages.signed(make_application())
    url = f"/applications/{application.pk}/qad/final/reopen/"
    assert as_user(member).get(url).status_code == 403
    client = as_user(stages.analyst)
    assert "will be void" in body(client.get(url))
    empty = client.post(url, {"reason": ""})
    assert empty.status_code == 400 and error_summary(empty) == ["Enter why the Final QAD is being reopened"]
    assert client.post(url, {"reason": "PAB deferred."}).status_code == 302
    assert DirectorSignature.objects.get().status == SignatureStatus.VOIDED


def test_signing_delegates_page(as_user, director, member, org, make_application):
    application = make_application(market_role="MEM")
    url = f"/applications/{application.pk}/qad/delegates/"
    client = as_user(member)
    page = client.get(url)
    assert "qualifies under the REC alone" in body(page) and "Appoint" not in body(page)
    assert client.post(url, {"user": member.pk}).status_code == 403
    client = as_user(director)
    assert client.post(url, {"user": ""}).status_code == 400
    assert client.post(url, {"user": member.pk}).status_code == 302
    grant = SigningDelegate.objects.get()
    assert member.display_name in body(client.get(url))
    assert client.post(f"{url}{grant.pk}/revoke/").status_code == 302
    grant.refresh_from_db()
    assert grant.revoked_at is not None


def test_evidence_downloads_are_scoped_safe_and_audited(as_user, member, other_member, staff, make_application):
    application = make_application()
    from portal.documents.services import evidence_store

    evidence = evidence_store(
        actor=member, application=application, upload=SimpleUploadedFile("plan;v2.pdf", PDF), purpose="qad:initial:2.2"
    )
    url = f"/evidence/{evidence.pk}/download/"
    response = as_user(member).get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Disposition"] == 'attachment; filename="planv2.pdf"'
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF
    assert as_user(other_member).get(url).status_code == 404
    assert as_user(staff(Role.PAB_MEMBER)).get(url).status_code == 404  # PAB sees a summary, not QAD evidence
    assert as_user(staff(Role.ELEXON_ANALYST)).get(url).status_code == 200
    assert AuditEvent.objects.filter(action="evidence.download", target_id=str(evidence.pk)).count() == 1


def test_the_overview_page(as_user, member, make_application, stages):
    application = stages.initial_submitted(make_application())
    clarification_raise(
        actor=stages.analyst, application_id=application.pk, kind="initial", question_number="1.1", text="Which?"
    )
    page = as_user(member).get(f"/applications/{application.pk}/qad/")
    assert page.status_code == 200
    assert "Version 1 (submitted). 1 clarification open" in " ".join(body(page).split())
    assert "Director sign-off" in body(page)


def test_a_director_of_another_organisation_cannot_open_the_sign_page(as_user, other_org, make_application, stages):
    application = stages.final_agreed(make_application())
    outsider = make_member(other_org, director=True)
    assert as_user(outsider).get(f"/applications/{application.pk}/qad/sign/").status_code == 404


def test_reviewers_see_the_submitted_version_not_the_draft(as_user, member, make_application, stages):
    application = stages.initial_submitted(make_application())
    stages.review(application, "initial_qad", "request_changes", "Expand 1.1.")
    qad_answer_save(
        actor=member, application_id=application.pk, kind="initial", question_number="1.1", text="Draft text."
    )
    client = as_user(stages.analyst)
    page = client.get(base(application))
    assert page.status_code == 200 and "Start version" not in body(page)
    assert "Draft text." not in body(client.get(base(application) + "questions/1.1/"))
    assert client.get(base(application) + "check/").status_code == 404
    assert client.get(base(application) + "versions/2/").status_code == 404
    mine = as_user(member).get(base(application) + "questions/1.1/")
    assert "Draft text." in body(mine)
