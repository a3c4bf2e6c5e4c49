"""A Non-SIT Supplier application from registration to active, purely through the web forms, each step
taken by the user who holds the role, as they would click it."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portal.accounts.roles import Role
from portal.audit.services import audit_verify
from portal.qualification.models import Application, Task
from portal.qualification.workflow import ApplicationStatus, Decision, TaskState

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("generic_tasks")]


def test_non_sit_supplier_walks_from_creation_to_active_through_the_web(client, org, member, director, staff):
    def act(user, code, action, comment="", files=(), expect=TaskState.COMPLETED):
        client.force_login(user)
        task_url = f"/applications/{application.pk}/tasks/{code}/"
        page = client.get(task_url)
        assert page.status_code == 200
        action_url = f"{task_url}{action}/"
        assert f'action="{action_url}"' in page.content.decode(), f"{user} is not offered {action} on {code}"
        data = {"comment": comment}
        if files:
            data["files"] = list(files)
        response = client.post(action_url, data)
        assert response.status_code == 302, response.content.decode()[:2000]
        task = Task.objects.get(application=application, code=code)
        assert task.state == expect, f"{code} is {task.state} after {action}"
        return task

    client.force_login(member)
    response = client.post(
        "/applications/new/",
        {"organisation": org.pk, "mpid": "NLEN", "market_role": "SUP", "route": "non_sit_supplier_agent"},
    )
    assert response.status_code == 302
    application = Application.objects.get()
    assert application.status == ApplicationStatus.IN_PREPARATION

    analyst = staff(Role.ELEXON_ANALYST)
    pdf = SimpleUploadedFile("pqs.pdf", b"%PDF-1.7 proposal", content_type="application/pdf")
    act(member, "pqs", "submit", "Our PQS and reliance proposal.", files=[pdf], expect=TaskState.SUBMITTED)
    act(analyst, "pqs", "accept")

    act(member, "pit", "start", expect=TaskState.IN_PROGRESS)
    act(member, "pit", "submit", "PIT exit criteria met.", expect=TaskState.SUBMITTED)
    act(staff(Role.PROGRAMME_ASSURANCE), "pit", "accept")
    act(member, "dip_onboarding", "submit", "DIP ID 1234567890.", expect=TaskState.SUBMITTED)
    act(staff(Role.DIP_MANAGER), "dip_onboarding", "accept")

    act(member, "initial_qad", "submit", "Initial QAD.", expect=TaskState.SUBMITTED)
    act(analyst, "initial_qad", "request_changes", "Section 3 is missing.", expect=TaskState.CHANGES_REQUESTED)
    act(member, "initial_qad", "submit", "Section 3 added.", expect=TaskState.SUBMITTED)
    act(analyst, "initial_qad", "accept")

    application.refresh_from_db()
    assert application.status == ApplicationStatus.IN_TESTING
    act(member, "qt", "submit", "Test completion report.", expect=TaskState.SUBMITTED)
    act(staff(Role.TESTING_ASSURANCE), "qt", "accept")
    act(member, "workoff", "mark_not_required", "Every test case was completed.", expect=TaskState.NOT_REQUIRED)

    application.refresh_from_db()
    assert application.status == ApplicationStatus.FINAL_QAD
    act(member, "final_qad", "submit", "Final QAD.", expect=TaskState.SUBMITTED)
    act(analyst, "final_qad", "accept")
    act(director, "director_signoff", "sign")

    application.refresh_from_db()
    assert application.status == ApplicationStatus.IN_APPROVAL
    act(staff(Role.DIP_MANAGER), "approval_dip_manager", "approve")
    act(
        staff(Role.PAB_SECRETARY),
        "approval_bsc_pab",
        "defer",
        "The Board needs the work-off evidence.",
        expect=TaskState.CHANGES_REQUESTED,
    )
    act(member, "approval_bsc_pab", "submit", "Evidence attached.", expect=TaskState.SUBMITTED)
    act(staff(Role.PAB_SECRETARY), "approval_bsc_pab", "approve")
    act(staff(Role.REC_CODE_MANAGER), "approval_rec_code_manager", "approve_with_conditions", "Register by May.")

    application.refresh_from_db()
    assert application.status == ApplicationStatus.QUALIFIED
    assert Task.objects.get(application=application, code="approval_bsc_pab").decision == Decision.APPROVED

    activation = staff(Role.SERVICE_ACTIVATION)
    act(activation, "service_activation", "start", expect=TaskState.IN_PROGRESS)
    act(activation, "service_activation", "complete")

    application.refresh_from_db()
    assert application.status == ApplicationStatus.ACTIVE
    assert application.qualified_at is not None and application.activated_at is not None
    assert audit_verify().ok

    client.force_login(member)
    html = client.get(f"/applications/{application.pk}/").content.decode()
    assert "Active" in html
    assert "Withdraw this application" not in html
    assert "Approved with conditions" in html
