"""The decisions through the web pages and the API: the DIP Manager's side-by-side page, the Board's
decision against its meeting, each body's queue with its due dates, and the participant reading every
outcome with its reasons; refusals in the GOV.UK error summary or the API's error shape, with nothing
changed."""

import pytest

from portal.accounts.mfa import totp_code
from portal.accounts.roles import Role
from portal.api.tests.conftest import assert_error
from portal.approvals.decision_services import approval_decide
from portal.approvals.models import ApprovalDecision
from portal.approvals.services import pab_target_set
from portal.approvals.tests.conftest import snapshot
from portal.approvals.tests.test_decisions import agreed_item
from portal.core.calendar import uk_today
from portal.factories import TEST_TOTP_SECRET
from portal.qualification.models import Task
from portal.qualification.workflow import TaskState

pytestmark = pytest.mark.django_db

V1 = "/api/v1"


def page(application, body):
    return f"/applications/{application.pk}/approvals/{body}/"


def test_the_dip_manager_sees_section_4_5_beside_dip_onboarding_and_approves(signed, staff, login, member):
    application = signed()
    client = login(staff(Role.DIP_MANAGER))

    shown = client.get(page(application, "dip_manager"))
    assert shown.status_code == 200
    html = shown.content.decode()
    assert "QAD section 4.5: DIP" in html and "DIP onboarding" in html and "Record the decision" in html

    done = client.post(page(application, "dip_manager"), {"outcome": "approved", "rationale": "All good."})
    assert done.status_code == 302 and done["Location"] == page(application, "dip_manager")
    decision = ApprovalDecision.objects.get()
    assert (decision.body, decision.outcome, decision.rationale) == ("dip_manager", "approved", "All good.")
    after = client.get(page(application, "dip_manager")).content.decode()
    assert "All good." in after and "Record the decision" not in after


def test_a_refused_decision_shows_the_error_summary_and_changes_nothing(signed, staff, login):
    application = signed()
    client = login(staff(Role.REC_CODE_MANAGER))
    before = snapshot()
    answer = client.post(
        page(application, "rec_code_manager"), {"outcome": "approved_with_conditions", "rationale": "x"}
    )
    assert answer.status_code == 422
    html = answer.content.decode()
    assert "govuk-error-summary" in html and "Choose the agreed work-off items" in html
    assert 'href="#id_conditions"' in html
    assert snapshot() == before
    empty = client.post(page(application, "rec_code_manager"), {"outcome": "approved", "rationale": ""})
    assert empty.status_code == 400 and "Enter the reasons for the decision" in empty.content.decode()


def test_other_roles_see_no_form_and_cannot_post(signed, staff, login):
    application = signed()
    client = login(staff(Role.ELEXON_ANALYST))
    assert "Record the decision" not in client.get(page(application, "dip_manager")).content.decode()
    assert client.post(page(application, "dip_manager"), {"outcome": "approved", "rationale": "x"}).status_code == 403
    assert not ApprovalDecision.objects.exists()


def test_another_organisation_gets_not_found(signed, login, other_member):
    application = signed()
    client = login(other_member)
    assert client.get(page(application, "dip_manager")).status_code == 404
    assert client.get(f"/applications/{application.pk}/approvals/nonsense/").status_code == 404


def test_the_secretary_records_the_boards_decision_from_the_agenda(signed, make_meeting, analyst, secretary, login):
    application = signed()
    meeting = make_meeting(on=uk_today(), paper_deadline=uk_today())
    pab_target_set(actor=analyst, application_id=application.pk, meeting_id=meeting.pk)
    client = login(analyst)
    url = f"/pab/meetings/{meeting.pk}/decisions/{application.pk}/"
    assert url not in client.get(f"/pab/meetings/{meeting.pk}/").content.decode()
    client = login(secretary)
    assert url in client.get(f"/pab/meetings/{meeting.pk}/").content.decode()
    assert "Record the decision" in client.get(url).content.decode()
    answer = client.post(url, {"outcome": "approved", "rationale": "Approved by the Board."})
    assert answer.status_code == 302
    assert ApprovalDecision.objects.get().meeting == meeting


def test_the_queue_shows_due_dates_and_overdue_items(signed, make_meeting, analyst, staff, login):
    application = signed()
    past = make_meeting(on=uk_today(), paper_deadline=uk_today())
    pab_target_set(actor=analyst, application_id=application.pk, meeting_id=past.pk)
    client = login(staff(Role.REC_CODE_MANAGER))
    html = client.get("/approvals/rec_code_manager/").content.decode()
    assert application.reference in html and past.date.strftime("%-d %b %Y") in html
    assert client.get("/approvals/nonsense/").status_code == 404


def test_the_participant_reads_every_outcome_with_its_reasons(signed, staff, member, api_as, login):
    application = signed()
    item = agreed_item(application, member)
    approval_decide(
        actor=staff(Role.REC_CODE_MANAGER),
        application_id=application.pk,
        body="rec_code_manager",
        outcome="approved_with_conditions",
        rationale="On condition that WO-001 closes.",
        condition_ids=[item.pk],
    )
    listed = api_as(member).get(f"{V1}/applications/{application.pk}/decisions")
    assert listed.status_code == 200
    [decision] = listed.json()
    assert (
        decision["outcome"] == "approved_with_conditions"
        and decision["rationale"] == "On condition that WO-001 closes."
    )
    assert [c["reference"] for c in decision["conditions"]] == ["WO-001"]
    client = login(member)
    html = client.get(page(application, "rec_code_manager")).content.decode()
    assert "On condition that WO-001 closes." in html and "Record the decision" not in html
    overview = client.get(f"/applications/{application.pk}/").content.decode()
    assert "Approval decisions" in overview and "On condition that WO-001 closes." in overview
    assert "WO-001" in overview


def test_the_api_records_a_decision_and_refuses_bad_ones(signed, staff, api_as, other_member):
    application = signed()
    dip = api_as(staff(Role.DIP_MANAGER))
    url = f"{V1}/applications/{application.pk}/approvals/dip_manager"

    view = dip.get(url)
    assert view.status_code == 200 and view.json()["can_decide"] is True

    before = snapshot()
    assert_error(dip.post(f"{url}/decisions", {"outcome": "approved", "rationale": ""}), 422, "invalid_input")
    assert_error(dip.post(f"{url}/decisions", {"outcome": "perhaps", "rationale": "x"}), 422, "invalid_input")
    assert_error(
        dip.post(f"{url}/decisions", {"outcome": "approved", "rationale": "x", "conditions": [1]}), 422, "invalid_input"
    )
    assert_error(
        api_as(staff(Role.REC_CODE_MANAGER)).post(f"{url}/decisions", {"outcome": "approved", "rationale": "x"}),
        403,
        "permission_denied",
    )
    assert_error(
        api_as(other_member).post(f"{url}/decisions", {"outcome": "approved", "rationale": "x"}), 404, "not_found"
    )
    assert snapshot() == before

    # Step-up: a bearer token alone does not record a decision; the current authenticator code does.
    decide = {"outcome": "approved", "rationale": "Section 4.5 is complete."}
    assert_error(dip.post(f"{url}/decisions", decide), 403, "step_up_required")
    assert_error(dip.post(f"{url}/decisions", decide, HTTP_X_OTP="12345"), 403, "step_up_required")
    assert not ApprovalDecision.objects.filter(application=application).exists()
    assert Task.objects.get(application=application, code="approval_dip_manager").state != TaskState.COMPLETED

    made = dip.post(f"{url}/decisions", decide, HTTP_X_OTP=totp_code(TEST_TOTP_SECRET))
    assert made.status_code == 201 and made.json()["outcome"] == "approved"
    assert Task.objects.get(application=application, code="approval_dip_manager").state == TaskState.COMPLETED
    assert_error(dip.post(f"{url}/decisions", {"outcome": "approved", "rationale": "again"}), 409, "invalid_transition")

    queue = api_as(staff(Role.REC_CODE_MANAGER)).get(f"{V1}/approvals/rec_code_manager/queue")
    assert queue.status_code == 200
    assert [row["application"]["reference"] for row in queue.json()["waiting"]] == [application.reference]
    assert_error(dip.get(f"{V1}/approvals/nonsense/queue"), 404, "not_found")
