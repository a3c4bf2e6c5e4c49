"""A BSC PAB meeting from its agenda to the qualification letters, in the browser.

Three applications reach the Board: a Supplier with agreed work-off items, an Advanced Data Service and
a Non-SIT LDSO. The analyst targets them at today's meeting; the QSP records a recommendation on each
and prepares its summary paper; the secretary has the meeting pack generated and records the Board's
decisions from the agenda (approved with conditions, approved, deferred); the Chair issues the two
letters, which are e-mailed with their PDF; Service Activation is told; the deferred participant
answers. The PDFs and e-mails are made by the real background worker; axe-core checks every page."""

import re

import pytest
from django.core import mail

from portal.accounts.roles import Role
from portal.approvals.models import PabTarget, QualificationLetter
from portal.approvals.testing_support import meeting_today
from portal.notifications.models import Notification
from portal.qualification.workflow import Decision, TaskState
from portal.tests.browser.support import new_participant, register_application, run_background_jobs

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_pab_meeting_from_its_agenda_to_the_letters(portal, staff, walk):
    supplier_org, supplier, _ = new_participant("Aurora Energy Supply Ltd", "AURA")
    data_org, data_member, _ = new_participant("Halcyon Data Services Ltd", "HLCN")
    ldso_org, ldso_member, _ = new_participant("Eastern Counties Electricity Networks plc", "ECEN")
    with_conditions = register_application(supplier, supplier_org, "SUP")
    approved = register_application(data_member, data_org, "ADS")
    deferred = register_application(ldso_member, ldso_org, "LDSO", route="non_sit_ldso")
    # Through QT to the Director's signature; the Supplier's work-off items are agreed, not skipped.
    walk(with_conditions, stop_before="approval_dip_manager", skip_optional=False)
    walk(approved, stop_before="approval_dip_manager")
    walk(deferred, stop_before="approval_dip_manager")
    assert with_conditions.workoff_items.filter(status="agreed").exists()
    meeting = meeting_today()
    applications = (with_conditions, approved, deferred)
    service_activation = staff(Role.SERVICE_ACTIVATION)  # on the team before the letters are issued

    # The secretary fills the calendar from the meeting rule.
    secretary = portal.open(staff(Role.PAB_SECRETARY), "/pab/meetings/")
    secretary.check_keyboard(
        secretary.page.get_by_role("button", name=re.compile("^Generate the next")), nav=("Home", "PAB meetings")
    )
    secretary.press(re.compile("^Generate the next"))

    # The analyst targets each application at today's meeting: that builds the agenda.
    for application in applications:
        elexon = portal.open(staff(Role.ELEXON_ANALYST), f"/applications/{application.pk}/pab-target/")
        elexon.page.get_by_label("Meeting", exact=True).select_option(str(meeting.pk))
        elexon.press("Set the target meeting")
        assert PabTarget.objects.get(application=application, is_current=True).meeting == meeting

    # The QSP recommends and prepares the summary paper of each agenda item.
    recommendations = {
        with_conditions: ("Approved with conditions", "Approve, on condition that the agreed work-off is closed."),
        approved: ("Approved", "Approve: every required test passed."),
        deferred: ("Deferred", "Defer: the test completion report needs the defect analysis."),
    }
    for application, (outcome, text) in recommendations.items():
        qsp = portal.open(staff(Role.QSP), f"/pab/meetings/{meeting.pk}/")
        qsp.follow(re.compile("^Recommend and prepare"), within=qsp.page.locator(f"#agenda-{application.pk}"))
        qsp.page.get_by_label(outcome, exact=True).check()
        qsp.page.get_by_label("The recommendation").fill(text)
        qsp.press("Save the recommendation")
        qsp.press("Prepare the summary paper")
        qsp.expect_text("Being generated")
    run_background_jobs()

    # The secretary has the pack generated, and reads it.
    secretary.goto(f"/pab/meetings/{meeting.pk}/")
    secretary.expect_text("3 of 3 summary papers ready.")
    secretary.press("Generate the meeting pack")
    run_background_jobs()
    secretary.goto(f"/pab/meetings/{meeting.pk}/")
    pack_link = secretary.page.get_by_role("link", name=re.compile("^The meeting pack, version 1"))
    pack = secretary.page.request.get(pack_link.get_attribute("href") or "")
    assert pack.ok and pack.body().startswith(b"%PDF")
    secretary.check_keyboard(
        secretary.page.get_by_role("link", name=re.compile("^Record the decision")), nav=("Home", "PAB meetings")
    )

    # The Board decides; the secretary records each decision from the agenda.
    def record(application, outcome: str, rationale: str, *, condition: bool = False) -> None:
        secretary.goto(f"/pab/meetings/{meeting.pk}/")
        secretary.follow(re.compile("^Record the decision"), within=secretary.page.locator(f"#agenda-{application.pk}"))
        secretary.page.get_by_label(outcome, exact=True).check()
        secretary.page.get_by_label("Rationale").fill(rationale)
        if condition:
            secretary.page.get_by_role("group", name="Conditions").get_by_role("checkbox").first.check()
        secretary.press("Record the decision")
        secretary.expect_banner("You recorded the BSC PAB decision")

    record(with_conditions, "Approved with conditions", "Approved; the work-off item is a condition.", condition=True)
    record(approved, "Approved", "The Board approved the Advanced Data Service.")
    record(deferred, "Deferred", "Send the defect analysis of the test completion report.")
    run_background_jobs()

    secretary.goto(f"/pab/meetings/{meeting.pk}/")
    agenda = secretary.page.locator("#agenda")
    secretary.expect_text("No longer targeted at this meeting")
    assert "Approved with conditions" in secretary.page.locator(f"#agenda-{with_conditions.pk}-decision").inner_text()
    assert agenda.is_visible()

    # The Chair reads and issues both letters.
    chair = portal.open(staff(Role.PAB_CHAIR), "/pab/letters/")
    chair.check_keyboard(chair.page.get_by_role("link", name=supplier_org.name), nav=("Home", "Qualification letters"))
    for organisation in (supplier_org, data_org):
        chair.goto("/pab/letters/")
        chair.follow(organisation.name)
        chair.expect_text("Download the PDF")
        chair.press("Issue the letter")
        chair.expect_banner("You issued the qualification letter")
    run_background_jobs()
    assert set(QualificationLetter.objects.values_list("status", flat=True)) == {"issued"}
    for member in (supplier, data_member):
        letters = [m for m in mail.outbox if member.email in m.to and m.attachments]
        assert letters, f"{member.email} did not get the letter with its PDF"

    # Service Activation is told; the participant can download its letter.
    activation = portal.open(service_activation, "/inbox/")
    activation.expect_text(f"Qualification letter issued: {with_conditions.reference}")
    you = portal.open(supplier, "/pab/letters/")
    you.expect_text(with_conditions.reference)

    # The deferred participant is told what the Board needs, and answers it for the next meeting.
    deferred.refresh_from_db()
    task = deferred.tasks.get(code="approval_bsc_pab")
    assert task.decision == Decision.DEFERRED
    assert PabTarget.objects.get(application=deferred, is_current=True).meeting.date > meeting.date
    networks = portal.open(ldso_member, f"/applications/{deferred.pk}/tasks/approval_bsc_pab/")
    networks.expect_text("Send the defect analysis")
    networks.page.get_by_label("The information asked for").fill("The defect analysis is attached to the report.")
    networks.press("Submit")
    task.refresh_from_db()
    assert task.state == TaskState.SUBMITTED
    assert Notification.objects.filter(recipient=staff(Role.PAB_SECRETARY), application=deferred).exists()
