"""A Non-SIT Supplier from a new application to active, in the browser: the participant registers it,
and every actor signs in through the sign-in page in turn and takes their decision on its real page.

The content-heavy steps (the PQS details, the PIT checklist, DIP onboarding, the QADs' answers and the
Qualification Testing executions) are walked with the journey helper through the same services; every
decision is taken in the browser, and axe-core checks every page the journey visits."""

import re

import pytest
from django.core import mail

from portal.accounts.roles import Role
from portal.activation.testing_support import activation_complete_checklist
from portal.approvals.models import QualificationLetter
from portal.approvals.testing_support import meeting_today
from portal.core.calendar import uk_today
from portal.documents.testing_support import current_otp_code, qad_complete_answers
from portal.factories import TEST_PASSWORD
from portal.prequalification.testing import pqs_fill_complete
from portal.qualification.models import Application
from portal.qualification.workflow import ApplicationStatus, TaskState
from portal.tests.browser.support import run_background_jobs

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def task_state(application: Application, code: str) -> str:
    return application.tasks.get(code=code).state


def test_non_sit_supplier_from_a_new_application_to_active(portal, org, member, director, staff, walk):
    analyst = staff(Role.ELEXON_ANALYST)
    meeting = meeting_today()

    # --- The participant registers the application (signing in with the keyboard alone).
    you = portal.open(member, "/", keyboard=True)
    you.check_keyboard(you.page.get_by_role("button", name="Start a new application"))
    you.press("Start a new application")
    you.page.get_by_label("MPID").select_option("NLEN")
    you.page.get_by_label("Market role").select_option("SUP")
    you.page.get_by_label("Non-SIT Supplier & Agent").check()
    you.press("Register application")
    application = Application.objects.get(organisation=org)
    you.expect_banner(f"Application {application.reference} registered.")
    assert you.heading() == f"Application {application.reference}"
    you.check_keyboard(you.page.get_by_role("link", name="Pre-Qualification Submission and placing-reliance proposal"))

    # --- The PQS: its details are filled in with the journey helper; submitted with the keyboard alone.
    pqs_fill_complete(application, actor=member, with_reliance=True)
    you.follow("Pre-Qualification Submission and placing-reliance proposal")
    you.follow("Open Pre-Qualification Submission and placing-reliance proposal")
    you.follow("Check your answers and submit")
    you.tab_to(you.page.get_by_label("Comment", exact=False))
    you.page.keyboard.type("Our PQS and placing-reliance proposal.")
    you.tab_to(you.page.get_by_role("button", name="Submit PQS"))
    you.key("Enter")
    you.expect_banner("You submitted your PQS to the Code Bodies.")

    # --- The Elexon analyst asks for a change, then, once it is resubmitted, accepts it.
    elexon = portal.open(analyst, "/work-queue/")
    elexon.check_keyboard(elexon.page.get_by_role("link", name="Pre-Qualification Submission and placing-reliance"))
    elexon.follow("Pre-Qualification Submission and placing-reliance proposal")
    elexon.check_keyboard(elexon.page.get_by_role("button", name="Request changes"))
    # Sent without saying what must change: refused, with the error summary focused; its link takes
    # the keyboard to the field, which is then filled and sent with the keyboard alone.
    elexon.press("Request changes", status=422)
    summary = elexon.page.locator(".govuk-error-summary")
    assert summary.evaluate("el => el.contains(document.activeElement)"), elexon.focused()
    assert task_state(application, "pqs") == TaskState.SUBMITTED
    elexon.tab_to(summary.get_by_role("link"))
    elexon.page.keyboard.press("Enter")
    comment = elexon.page.get_by_label("What needs to change")
    assert comment.evaluate("el => el === document.activeElement")
    elexon.page.keyboard.type("Say which QT wave you prefer and why.")
    elexon.tab_to(elexon.page.get_by_role("button", name="Request changes"))
    elexon.key("Enter")
    elexon.expect_banner("You asked for changes")
    assert task_state(application, "pqs") == TaskState.CHANGES_REQUESTED

    you.goto(f"/applications/{application.pk}/pqs/")
    you.expect_text("The Code Bodies asked for changes")
    you.follow("Check your answers and submit")
    you.press("Submit PQS")
    you.expect_banner("You submitted your PQS")

    elexon.goto(f"/applications/{application.pk}/pqs/")
    elexon.follow(re.compile("^Decide on"))
    elexon.page.get_by_label("Accepted", exact=True).check()
    elexon.press("Record the decision")
    elexon.goto(f"/applications/{application.pk}/tasks/pqs/")
    elexon.press("Accept")
    elexon.expect_banner("You accepted")
    assert task_state(application, "pqs") == TaskState.COMPLETED

    # --- PIT, assured by the Programme.
    walk(application, stop_at_state=("pit", TaskState.SUBMITTED))
    programme = portal.open(staff(Role.PROGRAMME_ASSURANCE), "/work-queue/")
    programme.follow("Pre-Integration Testing")
    programme.press("Accept")
    assert task_state(application, "pit") == TaskState.COMPLETED

    # --- DIP onboarding, the Initial QAD and QT's executions with the helper; Testing Assurance accepts QT.
    walk(application, stop_at_state=("qt", TaskState.SUBMITTED))
    testing = portal.open(staff(Role.TESTING_ASSURANCE), "/work-queue/")
    testing.follow("Qualification Testing")
    testing.press("Accept")
    assert task_state(application, "qt") == TaskState.COMPLETED

    # --- Every test was completed: the participant marks work-off plans not required.
    you.goto(f"/applications/{application.pk}/")
    you.follow("Work-off plans")
    you.page.get_by_label("Why this task is not required").fill("Every required test case passed.")
    you.press("Mark as not required")
    assert task_state(application, "workoff") == TaskState.NOT_REQUIRED

    # --- The Final QAD: answered with the helper, submitted from its check page; the analyst accepts it.
    qad_complete_answers(actor=member, application=application, kind="final")
    you.goto(f"/applications/{application.pk}/qad/final/check/")
    you.press("Submit version 1")
    you.expect_banner("You submitted version 1 of the Final QAD for review.")
    elexon.goto("/work-queue/")
    elexon.follow("Final QAD")
    elexon.press("Accept")
    assert task_state(application, "final_qad") == TaskState.COMPLETED

    # --- The Director signs: declaration and password, with the keyboard alone.
    signer = portal.open(director, "/work-queue/", keyboard=True)
    signer.follow("Director sign-off")
    signer.follow("Open Director sign-off")
    assert signer.heading() == "Sign the Final QAD"
    signer.tab_to(signer.page.get_by_label("I have read the declaration and I make it"))
    signer.page.keyboard.press("Space")
    signer.tab_to(signer.page.get_by_label("Your password"))
    signer.page.keyboard.type(TEST_PASSWORD)
    signer.tab_to(signer.page.get_by_label("Code from your authenticator app"))
    signer.page.keyboard.type(current_otp_code(director))
    signer.tab_to(signer.page.get_by_role("button", name="Sign the Final QAD"))
    signer.key("Enter")
    assert task_state(application, "director_signoff") == TaskState.COMPLETED
    application.refresh_from_db()
    assert application.status == ApplicationStatus.IN_APPROVAL

    # --- The DIP Manager approves from its queue, recording the decision with the keyboard alone.
    dip = portal.open(staff(Role.DIP_MANAGER), "/approvals/dip_manager/")
    dip.follow(application.reference)
    decide_with_keyboard(dip, "Approved", "Section 4.5 and the DIP onboarding are complete.")
    dip.expect_banner("You recorded the DIP Manager decision")

    # --- The REC Code Manager approves from the rolling queue.
    rec = portal.open(staff(Role.REC_CODE_MANAGER), "/approvals/rec_code_manager/")
    rec.follow(application.reference)
    rec.page.get_by_label("Approved", exact=True).check()
    rec.page.get_by_label("Rationale").fill("The Final QAD meets the REC requirements.")
    rec.press("Record the decision")
    rec.expect_banner("You recorded the REC Code Manager decision")

    # --- BSC PAB: the analyst targets today's meeting, recommends and prepares the summary paper.
    elexon.goto(f"/applications/{application.pk}/pab-target/")
    elexon.page.get_by_label("Meeting", exact=True).select_option(str(meeting.pk))
    elexon.press("Set the target meeting")
    elexon.goto(f"/pab/meetings/{meeting.pk}/")
    elexon.follow("Recommend and prepare")
    elexon.page.get_by_label("Approved", exact=True).check()
    elexon.page.get_by_label("The recommendation").fill("Approve: every test passed and the QAD is complete.")
    elexon.press("Save the recommendation")
    elexon.press("Prepare the summary paper")
    run_background_jobs()

    # The secretary has the pack generated, then records the Board's decision from the agenda.
    secretary = portal.open(staff(Role.PAB_SECRETARY), f"/pab/meetings/{meeting.pk}/")
    secretary.expect_text("Ready")
    secretary.press("Generate the meeting pack")
    run_background_jobs()
    secretary.goto(f"/pab/meetings/{meeting.pk}/")
    secretary.expect_text("The meeting pack, version 1")
    secretary.follow("Record the decision")
    secretary.page.get_by_label("Approved", exact=True).check()
    secretary.page.get_by_label("Rationale").fill("The Board approved the application.")
    secretary.press("Record the decision")
    secretary.expect_banner("You recorded the BSC PAB decision")
    run_background_jobs()

    # The Chair issues the qualification letter; the participant gets it by e-mail.
    chair = portal.open(staff(Role.PAB_CHAIR), "/pab/letters/")
    chair.follow(org.name)
    chair.press("Issue the letter")
    chair.expect_banner("You issued the qualification letter")
    run_background_jobs()
    letter = QualificationLetter.objects.get(application=application)
    assert letter.status == "issued"
    assert any(member.email in message.to and message.attachments for message in mail.outbox)

    application.refresh_from_db()
    assert application.status == ApplicationStatus.QUALIFIED

    # --- Service Activation: start, tick the checklist, agree the go-live date, complete.
    activation = portal.open(staff(Role.SERVICE_ACTIVATION), "/activation/")
    activation.follow(application.reference)
    activation.press("Start the hand-off")
    activation.press("Mark as done")  # the first item; the helper ticks the others
    activation.expect_banner("as done")
    today = uk_today()
    activation.page.get_by_label("Day").fill(str(today.day))
    activation.page.get_by_label("Month").fill(str(today.month))
    activation.page.get_by_label("Year").fill(str(today.year))
    activation.press("Set the go-live date")
    activation_complete_checklist(application, actor=staff(Role.SERVICE_ACTIVATION))
    activation.goto(f"/applications/{application.pk}/activation/")
    activation.check_keyboard(
        activation.page.get_by_role("button", name="Complete the hand-off"), nav=("Home", "Service Activation")
    )
    activation.tab_to(activation.page.get_by_label("Message to the participant (optional)"))
    activation.page.keyboard.type("You may operate from today.")
    activation.tab_to(activation.page.get_by_role("button", name="Complete the hand-off"))
    activation.key("Enter")
    activation.expect_text("Service Activation complete")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.ACTIVE

    # --- The participant sees it active, and so does the public register.
    you.goto(f"/applications/{application.pk}/")
    you.expect_text("Active")
    public = portal.anonymous()
    public.goto("/register/")
    public.expect_text("NLEN")


def decide_with_keyboard(session, outcome: str, rationale: str) -> None:
    page = session.page
    session.choose_radio_by_keyboard(page.get_by_role("group", name="Outcome"), outcome)
    session.tab_to(page.get_by_label("Rationale"))
    page.keyboard.type(rationale)
    session.tab_to(page.get_by_role("button", name="Record the decision"))
    session.key("Enter")
