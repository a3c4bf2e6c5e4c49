"""The routes and role groups whose journeys differ from a Supplier's, in the browser:

- a MEM needs only the REC Code Manager and the DIP Manager (no BSC PAB), and its Final QAD may be
  signed by a signing delegate a Director appoints;
- a Data Service (ADS) needs only BSC PAB and the DIP Manager (no REC Code Manager);
- a new-entrant LDSO that does not place reliance marks its PQS not required.

The steps before each browser step are walked with the journey helper; axe-core checks every page."""

import re

import pytest

from portal.accounts.roles import Role
from portal.activation.testing_support import activation_complete_checklist
from portal.approvals.models import QualificationLetter
from portal.approvals.testing_support import meeting_today
from portal.documents.testing_support import current_otp_code
from portal.factories import TEST_PASSWORD
from portal.qualification.workflow import ApplicationStatus, TaskState
from portal.registry.models import RegisterEntry
from portal.tests.browser.support import new_participant, register_application, run_background_jobs, task_titles

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_mem_is_approved_by_the_rec_code_manager_and_the_dip_manager_only(portal, staff, walk):
    org, member, director = new_participant("Kestrel Metering Ltd", "KSTM")
    application = register_application(member, org, "MEM")
    walk(application, stop_before="director_signoff")

    titles = task_titles(application)
    assert "DIP Manager approval" in titles
    assert "REC Code Manager approval" in titles
    assert "BSC PAB approval" not in titles

    # A role that qualifies under the REC alone: the Director appoints a signing delegate, who signs.
    boss = portal.open(director, f"/applications/{application.pk}/")
    assert "BSC PAB approval" not in boss.main_text()
    boss.goto(f"/applications/{application.pk}/qad/delegates/")
    boss.page.get_by_label(f"Member of {org.name}").select_option(str(member.pk))
    boss.press("Appoint")
    boss.expect_banner("is now a signing delegate")

    delegate = portal.open(member, f"/applications/{application.pk}/qad/sign/")
    delegate.page.get_by_label("I have read the declaration and I make it").check()
    delegate.page.get_by_label("Your password").fill(TEST_PASSWORD)
    delegate.press("Sign the Final QAD")
    assert application.tasks.get(code="director_signoff").state == TaskState.COMPLETED

    dip = portal.open(staff(Role.DIP_MANAGER), f"/applications/{application.pk}/approvals/dip_manager/")
    dip.check_keyboard(dip.page.get_by_role("radio", name="Approved", exact=True), nav=("Home", "DIP approvals"))
    dip.page.get_by_label("Approved", exact=True).check()
    dip.page.get_by_label("Rationale").fill("DIP onboarding and section 4.5 are complete.")
    dip.press("Record the decision")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.IN_APPROVAL

    rec = portal.open(staff(Role.REC_CODE_MANAGER), "/approvals/rec_code_manager/")
    rec.check_keyboard(rec.page.get_by_role("link", name=application.reference), nav=("Home", "REC approvals"))
    rec.follow(application.reference)
    rec.page.get_by_label("Approved", exact=True).check()
    rec.page.get_by_label("Rationale").fill("The Final QAD meets the REC requirements for a MEM.")
    rec.press("Record the decision")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.QUALIFIED
    assert RegisterEntry.objects.filter(application=application).exists()

    # Service Activation completes the hand-off (its checklist ticked with the helper).
    activation = portal.open(staff(Role.SERVICE_ACTIVATION), f"/applications/{application.pk}/activation/")
    activation.press("Start the hand-off")
    activation_complete_checklist(application, actor=staff(Role.SERVICE_ACTIVATION))
    activation.goto(f"/applications/{application.pk}/activation/")
    activation.check_keyboard(
        activation.page.get_by_role("button", name="Complete the hand-off"), nav=("Home", "Service Activation")
    )
    activation.press("Complete the hand-off")
    activation.expect_text("Service Activation complete")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.ACTIVE

    public = portal.anonymous()
    public.goto("/register/")
    public.check_keyboard(public.page.get_by_role("link", name=re.compile("CSV")), nav=())
    public.expect_text("KSTM")


def test_a_data_service_is_approved_by_bsc_pab_and_the_dip_manager_only(portal, staff, walk):
    org, member, director = new_participant("Halden Data Services Ltd", "HLDN")
    application = register_application(member, org, "ADS")
    walk(application, stop_before="director_signoff")
    titles = task_titles(application)
    assert "BSC PAB approval" in titles
    assert "REC Code Manager approval" not in titles

    signer = portal.open(director, f"/applications/{application.pk}/qad/sign/")
    signer.page.get_by_label("I have read the declaration and I make it").check()
    signer.page.get_by_label("Your password").fill(TEST_PASSWORD)
    signer.page.get_by_label("Code from your authenticator app").fill(current_otp_code(director))
    signer.press("Sign the Final QAD")

    dip = portal.open(staff(Role.DIP_MANAGER), f"/applications/{application.pk}/approvals/dip_manager/")
    dip.page.get_by_label("Approved", exact=True).check()
    dip.page.get_by_label("Rationale").fill("DIP onboarding and section 4.5 are complete.")
    dip.press("Record the decision")

    # The Board: the analyst sets the target meeting; the secretary records the decision from the agenda.
    meeting = meeting_today()
    elexon = portal.open(staff(Role.ELEXON_ANALYST), f"/applications/{application.pk}/pab-target/")
    elexon.page.get_by_label("Meeting", exact=True).select_option(str(meeting.pk))
    elexon.press("Set the target meeting")
    elexon.expect_banner("You targeted the application at the BSC PAB meeting")

    secretary = portal.open(staff(Role.PAB_SECRETARY), f"/pab/meetings/{meeting.pk}/")
    secretary.follow(re.compile("^Record the decision"))
    secretary.page.get_by_label("Approved", exact=True).check()
    secretary.page.get_by_label("Rationale").fill("The Board approved the Advanced Data Service.")
    secretary.press("Record the decision")
    run_background_jobs()
    application.refresh_from_db()
    assert application.status == ApplicationStatus.QUALIFIED

    chair = portal.open(staff(Role.PAB_CHAIR), "/pab/letters/")
    chair.follow(org.name)
    chair.press("Issue the letter")
    assert QualificationLetter.objects.get(application=application).status == "issued"

    walk(application)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.ACTIVE
    you = portal.open(member, f"/applications/{application.pk}/")
    you.expect_text("Active")
    assert "REC Code Manager approval" not in you.main_text()


def test_a_new_entrant_ldso_without_placing_reliance_marks_its_pqs_not_required(portal, staff, walk):
    org, member, director = new_participant("Solent Distribution Networks Ltd", "SOLD", new_entrant=True)

    you = portal.open(member, "/applications/new/")
    you.page.get_by_label("MPID").select_option("SOLD")
    you.page.get_by_label("Market role").select_option("LDSO")
    you.page.get_by_label("New-entrant LDSO").check()
    you.press("Register application")
    application = org.applications.get()
    assert application.route.code == "new_entrant_ldso"

    you.follow("Pre-Qualification Submission and placing-reliance proposal")
    you.check_keyboard(you.page.get_by_label("Why this task is not required"))
    you.page.get_by_label("Why this task is not required").fill(
        "We do not place reliance on testing done by anyone else."
    )
    you.press("Mark as not required")
    you.expect_banner("as not required")
    assert application.tasks.get(code="pqs").state == TaskState.NOT_REQUIRED
    you.goto(f"/applications/{application.pk}/")
    you.check_keyboard(you.page.get_by_role("link", name="Pre-Integration Testing"))

    walk(application, stop_before="director_signoff")
    signer = portal.open(director, f"/applications/{application.pk}/qad/sign/")
    signer.page.get_by_label("I have read the declaration and I make it").check()
    signer.page.get_by_label("Your password").fill(TEST_PASSWORD)
    signer.page.get_by_label("Code from your authenticator app").fill(current_otp_code(director))
    signer.press("Sign the Final QAD")
    assert application.tasks.get(code="director_signoff").state == TaskState.COMPLETED

    walk(application)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.ACTIVE
    you.goto(f"/applications/{application.pk}/pqs/")
    you.expect_text("The PQS is not required for this application")
