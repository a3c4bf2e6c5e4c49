"""Taking actions on tasks through the web forms, and downloading their attachments."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portal.accounts.roles import Role
from portal.audit.models import AuditEvent
from portal.qualification.models import Attachment, TaskEntry
from portal.qualification.workflow import TaskState

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("generic_tasks")]


def _pqs_url(application, action=""):
    base = f"/applications/{application.pk}/tasks/pqs/"
    return f"{base}{action}/" if action else base


def test_task_page_shows_description_state_and_the_forms_the_user_may_use(login, member, make_application):
    application = make_application()
    response = login(member).get(_pqs_url(application))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Pre-Qualification Submission and placing-reliance proposal" in html
    assert "Preferred wave" in html  # the description
    assert "Not started" in html
    assert f'action="{_pqs_url(application, "submit")}"' in html
    assert f'action="{_pqs_url(application, "start")}"' in html
    assert 'enctype="multipart/form-data"' in html
    assert 'type="file" multiple' in html
    assert "mark_not_required" not in html  # the PQS is required on this route
    assert f'action="{_pqs_url(application, "accept")}"' not in html


def test_participant_submits_with_evidence_and_assurer_accepts(login, member, staff, make_application, task_of):
    application = make_application()
    client = login(member)
    evidence = SimpleUploadedFile("pqs proposal.pdf", b"%PDF-1.4 evidence", content_type="application/pdf")
    second = SimpleUploadedFile("plan.csv", b"wave,start\n2,2026-01-05\n", content_type="text/csv")
    response = client.post(
        _pqs_url(application, "submit"), {"comment": "Our PQS.", "files": [evidence, second]}, follow=True
    )
    assert response.redirect_chain[-1][0] == f"/applications/{application.pk}/"
    assert "You submitted “Pre-Qualification Submission and placing-reliance proposal”." in response.content.decode()
    assert task_of(application, "pqs").state == TaskState.SUBMITTED
    assert sorted(Attachment.objects.values_list("original_name", flat=True)) == ["plan.csv", "pqs proposal.pdf"]

    # The participant now waits on the Code Bodies and has no form left.
    html = client.get(_pqs_url(application)).content.decode()
    assert "Waiting for the Code Bodies" in html
    assert "What you can do" not in html
    assert "pqs proposal.pdf" in html

    analyst = login(staff(Role.ELEXON_ANALYST))
    html = analyst.get(_pqs_url(application)).content.decode()
    assert "Waiting for you" in html
    assert f'action="{_pqs_url(application, "accept")}"' in html
    assert "govuk-button--warning" in html  # request changes
    response = analyst.post(_pqs_url(application, "accept"), {"comment": ""})
    assert response.status_code == 302
    assert task_of(application, "pqs").state == TaskState.COMPLETED
    assert task_of(application, "pit").state == TaskState.NOT_STARTED


def test_comment_required_is_shown_in_the_error_summary_and_changes_nothing(
    login, member, staff, make_application, task_of
):
    application = make_application()
    login(member).post(_pqs_url(application, "submit"), {"comment": "PQS"})
    entries = TaskEntry.objects.count()
    events = AuditEvent.objects.count()
    response = login(staff(Role.ELEXON_ANALYST)).post(_pqs_url(application, "request_changes"), {"comment": "  "})
    assert response.status_code == 422
    html = response.content.decode()
    assert "govuk-error-summary" in html
    assert 'href="#comment-request_changes"' in html
    assert 'id="comment-request_changes-error"' in html
    assert "govuk-textarea--error" in html
    assert task_of(application, "pqs").state == TaskState.SUBMITTED
    assert TaskEntry.objects.count() == entries
    assert AuditEvent.objects.count() == events


def test_wrong_state_answers_409_with_the_task_page(login, member, make_application, task_of):
    application = make_application()
    response = login(member).post(f"/applications/{application.pk}/tasks/pit/submit/", {"comment": "Too early"})
    assert response.status_code == 409
    html = response.content.decode()
    assert "cannot start yet, so it cannot be submitted now" in html
    assert "Pre-Integration Testing" in html
    assert task_of(application, "pit").state == TaskState.CANNOT_START


def test_wrong_role_answers_403_and_changes_nothing(login, staff, make_application, task_of):
    application = make_application()
    response = login(staff(Role.DIP_MANAGER)).post(_pqs_url(application, "submit"), {"comment": "Not mine"})
    assert response.status_code == 403
    assert "You do not hold a role" in response.content.decode()
    assert task_of(application, "pqs").state == TaskState.NOT_STARTED


def test_unknown_action_is_refused(login, member, make_application):
    application = make_application()
    response = login(member).post(_pqs_url(application, "explode"), {"comment": ""})
    assert response.status_code == 409
    assert "is not an action of the task" in response.content.decode()


def test_empty_file_is_refused(login, member, make_application, task_of):
    application = make_application()
    empty = SimpleUploadedFile("empty.pdf", b"", content_type="application/pdf")
    response = login(member).post(_pqs_url(application, "submit"), {"comment": "x", "files": [empty]})
    # An empty upload is either dropped by the parser or refused by the service; it is never stored.
    assert response.status_code in (302, 422)
    assert not Attachment.objects.exists()


def test_other_organisation_cannot_act_on_a_task(login, other_member, make_application, task_of):
    application = make_application()
    response = login(other_member).post(_pqs_url(application, "submit"), {"comment": "Hijack"})
    assert response.status_code == 404
    assert task_of(application, "pqs").state == TaskState.NOT_STARTED


def test_action_urls_take_only_post(login, member, make_application):
    application = make_application()
    assert login(member).get(_pqs_url(application, "submit")).status_code == 405


def _submit_with_file(client, application, name="evidence.pdf", content=b"%PDF-1.7 evidence"):
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")
    client.post(_pqs_url(application, "submit"), {"comment": "With evidence", "files": [upload]})
    return Attachment.objects.get()


def test_attachment_downloads_as_an_attachment_with_a_safe_name(login, member, staff, make_application):
    application = make_application()
    client = login(member)
    # Quotes are refused at upload; a semicolon is allowed in the name but never reaches the header.
    attachment = _submit_with_file(client, application, name="report; final.pdf")
    url = f"{_pqs_url(application)}attachments/{attachment.pk}/"
    response = client.get(url)
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert ";" not in disposition.split("filename=")[1]
    assert "report final.pdf" in disposition
    assert b"".join(response.streaming_content) == b"%PDF-1.7 evidence"
    assert response["Content-Type"] == "application/pdf"

    # Staff who follow the application may download it too.
    assert login(staff(Role.ELEXON_ANALYST)).get(url).status_code == 200


def test_another_organisations_attachment_answers_404(login, member, other_member, make_application):
    application = make_application()
    attachment = _submit_with_file(login(member), application)
    url = f"{_pqs_url(application)}attachments/{attachment.pk}/"
    assert login(other_member).get(url).status_code == 404


def test_attachment_must_belong_to_the_task_in_the_url(login, member, make_application, other_org, other_member):
    application = make_application()
    attachment = _submit_with_file(login(member), application)
    # The right attachment id under a task it does not belong to answers 404.
    assert (
        login(member).get(f"/applications/{application.pk}/tasks/pit/attachments/{attachment.pk}/").status_code == 404
    )
    assert login(member).get(f"{_pqs_url(application)}attachments/999999/").status_code == 404
