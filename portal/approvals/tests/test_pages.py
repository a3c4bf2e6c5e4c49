"""The approvals pages: the meeting calendar, a meeting, the secretary's forms, an application's target
page with the analysts' form, the calendar feeds page, and the links that lead to them."""

from datetime import timedelta

import pytest

from portal.accounts.roles import Role
from portal.approvals.models import MeetingStatus, PabMeeting, PabTarget
from portal.approvals.permissions import PAB_TASK
from portal.approvals.selectors import working_calendar
from portal.approvals.services import pab_target_set
from portal.approvals.tests.conftest import snapshot, working_day_after
from portal.core.calendar import uk_today
from portal.qualification import hooks
from portal.qualification.services import task_reopen

pytestmark = pytest.mark.django_db


def date_fields(prefix, day):
    return {f"{prefix}_day": day.day, f"{prefix}_month": day.month, f"{prefix}_year": day.year}


def test_the_calendar_lists_meetings_by_month_with_the_applications_each_user_may_see(
    login, make_meeting, signed, analyst, other_member, member
):
    meeting = make_meeting(30)
    application = signed()
    pab_target_set(actor=analyst, application_id=application.pk, meeting_id=meeting.pk)

    # Each meeting counts the applications targeted at it and links to its agenda, which lists them.
    counted = f'href="/pab/meetings/{meeting.pk}/#agenda">1 application<'
    page = login(analyst).get(f"/pab/meetings/?year={meeting.date.year}")
    assert page.status_code == 200
    html = page.content.decode()
    assert f"{meeting.date:%B %Y}" in html and counted in html
    assert "Add a meeting" not in html  # only for the secretary
    ahead = login(analyst).get("/pab/meetings/").content.decode()  # by default: the months ahead
    assert "BSC PAB meetings ahead" in ahead and f"{meeting.date:%B %Y}" in ahead and counted in ahead
    assert application.reference in login(analyst).get(f"/pab/meetings/{meeting.pk}/").content.decode()

    html = login(member).get(f"/pab/meetings/?year={meeting.date.year}").content.decode()
    assert counted in html  # their own
    assert application.reference in login(member).get(f"/pab/meetings/{meeting.pk}/").content.decode()
    html = login(other_member).get(f"/pab/meetings/?year={meeting.date.year}").content.decode()
    assert counted not in html and application.organisation.name not in html
    assert "None you can see" in html
    assert login(other_member).get(f"/pab/meetings/{meeting.pk}/").status_code == 200  # meetings are not secret
    assert application.reference not in login(other_member).get(f"/pab/meetings/{meeting.pk}/").content.decode()


def test_the_calendar_needs_a_sign_in(client):
    assert client.get("/pab/meetings/").status_code == 302


def test_staff_have_pab_meetings_in_the_menu_and_participants_do_not(login, analyst, member):
    assert 'href="/pab/meetings/"' in login(analyst).get("/").content.decode()
    assert 'href="/pab/meetings/"' not in login(member).get("/").content.decode()


def test_the_secretary_generates_and_adds_meetings_from_the_pages(login, secretary):
    client = login(secretary)
    html = client.get("/pab/meetings/").content.decode()
    assert "Add a meeting" in html and "Generate the next 12 months" in html
    response = client.post("/pab/meetings/generate/", follow=True)
    added = PabMeeting.objects.count()
    assert added in (11, 12)  # this month's meeting may have passed
    assert f"{added} added" in response.content.decode()

    form = client.get("/pab/meetings/new/")
    assert form.status_code == 200 and 'value="10:00"' in form.content.decode()
    day = working_day_after(16)
    while PabMeeting.objects.filter(date=day).exists():
        day = working_day_after((day - uk_today()).days + 1)
    response = client.post(
        "/pab/meetings/new/",
        {**date_fields("date", day), "starts_at": "13:30", "duration_minutes": "120", "location": "Online"},
    )
    meeting = PabMeeting.objects.get(date=day)
    assert response.status_code == 302 and response["Location"] == f"/pab/meetings/{meeting.pk}/"
    assert meeting.starts_at.strftime("%H:%M") == "13:30" and meeting.duration_minutes == 120


def test_a_bad_meeting_form_shows_what_is_wrong_and_changes_nothing(login, secretary):
    client = login(secretary)
    before = snapshot()
    saturday = uk_today() + timedelta(days=(5 - uk_today().weekday()) % 7 or 7)
    response = client.post(
        "/pab/meetings/new/",
        {**date_fields("date", saturday), "starts_at": "10:00", "duration_minutes": "240", "location": "Online"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "There is a problem" in html and "is a Saturday" in html and 'href="#id_date_day"' in html
    response = client.post("/pab/meetings/new/", {"date_day": "31", "date_month": "2", "date_year": "2027"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "must be a real date" in html and "Enter the time the meeting starts" in html
    assert snapshot() == before


def test_others_may_not_use_the_secretarys_forms(login, analyst, make_meeting):
    meeting = make_meeting(30)
    client = login(analyst)
    assert client.get("/pab/meetings/new/").status_code == 403
    assert client.get(f"/pab/meetings/{meeting.pk}/edit/").status_code == 403
    assert client.post(f"/pab/meetings/{meeting.pk}/cancel/", {"reason": "No."}).status_code == 403
    assert client.post("/pab/meetings/generate/").status_code == 403
    assert client.get("/pab/meetings/999999/").status_code == 404


def test_the_secretary_moves_cancels_and_marks_meetings_held(login, secretary, make_meeting):
    meeting = make_meeting(30)
    client = login(secretary)
    page = client.get(f"/pab/meetings/{meeting.pk}/")
    assert "Change or move this meeting" in page.content.decode()
    edit = client.get(f"/pab/meetings/{meeting.pk}/edit/")
    assert f'value="{meeting.date.day}"' in edit.content.decode()
    new_day = working_day_after(50)
    response = client.post(
        f"/pab/meetings/{meeting.pk}/edit/",
        {**date_fields("date", new_day), "starts_at": "10:00", "duration_minutes": "240", "location": "Online"},
    )
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.date == new_day and meeting.set_by_hand

    response = client.post(f"/pab/meetings/{meeting.pk}/cancel/", {"reason": ""})
    assert response.status_code == 400 and "Enter why the meeting is cancelled" in response.content.decode()
    response = client.post(f"/pab/meetings/{meeting.pk}/cancel/", {"reason": "Not quorate."}, follow=True)
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.CANCELLED and "Why it was cancelled" in response.content.decode()

    past = make_meeting(on=uk_today() - timedelta(days=2), paper_deadline=uk_today() - timedelta(days=9))
    assert "Record that it was held" in client.get(f"/pab/meetings/{past.pk}/").content.decode()
    client.post(f"/pab/meetings/{past.pk}/held/")
    past.refresh_from_db()
    assert past.status == MeetingStatus.HELD
    response = client.post(f"/pab/meetings/{past.pk}/held/")
    assert response.status_code == 409 and "held already" in response.content.decode()


def test_the_analyst_sets_and_moves_the_target_on_the_applications_page(login, analyst, signed, make_meeting, member):
    application = signed()
    first, second = make_meeting(30), make_meeting(60)
    client = login(analyst)
    page = client.get(f"/applications/{application.pk}/pab-target/")
    html = page.content.decode()
    assert page.status_code == 200 and "Set the target meeting" in html and "What it takes to make each meeting" in html

    response = client.post(f"/applications/{application.pk}/pab-target/", {"meeting": str(first.pk)})
    assert response.status_code == 302
    assert PabTarget.objects.get(application=application, is_current=True).meeting == first

    response = client.post(f"/applications/{application.pk}/pab-target/", {"meeting": str(second.pk)})
    assert response.status_code == 422
    assert "why the target meeting is moving" in response.content.decode()
    response = client.post(
        f"/applications/{application.pk}/pab-target/", {"meeting": str(second.pk), "reason": "More evidence due."}
    )
    assert response.status_code == 302
    html = client.get(f"/applications/{application.pk}/pab-target/").content.decode()
    assert "History of the target" in html and "More evidence due." in html

    # The participant sees the target and its history, without the form.
    html = login(member).get(f"/applications/{application.pk}/pab-target/").content.decode()
    assert f"{second.date:%A} {second.date.day} {second.date:%B %Y}" in html and "Move the target meeting" not in html


def test_a_late_paper_needs_its_reason_on_the_form(login, analyst, signed, make_meeting):
    application = signed()
    late = make_meeting(3, paper_deadline=uk_today() - timedelta(days=1))
    client = login(analyst)
    assert "(paper deadline passed)" in client.get(f"/applications/{application.pk}/pab-target/").content.decode()
    response = client.post(f"/applications/{application.pk}/pab-target/", {"meeting": str(late.pk)})
    html = response.content.decode()
    assert response.status_code == 422 and 'href="#id_late_reason"' in html
    response = client.post(
        f"/applications/{application.pk}/pab-target/", {"meeting": str(late.pk), "late_reason": "Chair agreed."}
    )
    assert response.status_code == 302


def test_another_organisations_target_page_is_not_found(login, other_member, signed):
    application = signed()
    client = login(other_member)
    assert client.get(f"/applications/{application.pk}/pab-target/").status_code == 404
    assert client.post(f"/applications/{application.pk}/pab-target/", {"meeting": "1"}).status_code == 404


def test_the_application_page_shows_the_target_and_the_deadlines(login, analyst, signed, make_meeting, member):
    application = signed()
    meeting = make_meeting(40)
    html = login(member).get(f"/applications/{application.pk}/").content.decode()
    assert "Target BSC PAB meeting" in html and "Not set yet. The earliest meeting it can still make is" in html
    pab_target_set(actor=analyst, application_id=application.pk, meeting_id=meeting.pk)
    html = login(member).get(f"/applications/{application.pk}/").content.decode()
    assert f"{meeting.date:%A} {meeting.date.day} {meeting.date:%B %Y}" in html
    assert "Final QAD signed by a Director" in html and "Add your deadlines to your calendar" in html


def test_an_application_without_pab_shows_no_pab_panel(login, signed, member):
    application = signed(market_role="MEM")
    html = login(member).get(f"/applications/{application.pk}/").content.decode()
    assert "Target BSC PAB meeting" not in html
    html = login(member).get(f"/applications/{application.pk}/pab-target/").content.decode()
    assert "does not need BSC PAB approval" in html


def test_the_bsc_pab_task_links_to_the_target_page(login, signed, member):
    application = signed()
    hooks.register_task_page(PAB_TASK, "approvals:pab_target")  # the content rules were set aside for speed
    html = login(member).get(f"/applications/{application.pk}/tasks/{PAB_TASK}/").content.decode()
    assert f'href="/applications/{application.pk}/pab-target/"' in html


def test_the_work_queue_shows_the_deadline_of_each_task(login, analyst, signed, make_meeting, director):
    application = signed()
    meeting = make_meeting(3, paper_deadline=uk_today() - timedelta(days=1))
    pab_target_set(actor=analyst, application_id=application.pk, meeting_id=meeting.pk, late_reason="Agreed.")
    task_reopen(actor=None, application_id=application.pk, task_code="director_signoff", reason="New QAD version.")
    html = login(director).get("/work-queue/").content.decode()
    assert '<th scope="col" class="govuk-table__header">Deadline</th>' in html
    assert "Overdue" in html


def test_the_calendar_feeds_page_creates_shows_and_resets_the_address(login, member):
    client = login(member)
    html = client.get("/calendar/feeds/").content.decode()
    assert "Create my feed address" in html and "/calendar/pab.ics" in html
    client.post("/calendar/feeds/reset/")
    html = client.get("/calendar/feeds/").content.decode()
    assert "/calendar/private/" in html and "Get a new address" in html
    first = html.split("/calendar/private/")[1].split(".ics")[0]
    response = client.post("/calendar/feeds/reset/", follow=True)
    assert "The old one no longer works" in response.content.decode()
    assert first not in response.content.decode()


@pytest.mark.parametrize("role", [Role.PAB_MEMBER, Role.SERVICE_ACTIVATION])
def test_every_signed_in_user_may_read_the_calendar(login, staff, role, make_meeting):
    make_meeting(30)
    assert login(staff(role)).get("/pab/meetings/").status_code == 200


def test_before_signing_the_application_page_says_what_it_takes_to_make_the_next_meeting(
    login, make_application, advance, content_rules_off, make_meeting, member
):
    application = advance(make_application(route="sit"), stop_before="director_signoff")
    meeting = make_meeting(60)
    html = login(member).get(f"/applications/{application.pk}/").content.decode()
    signed_by = working_calendar().add_working_days(meeting.paper_deadline, -5)
    assert (
        f"The earliest meeting it can still make is {meeting.date:%A} {meeting.date.day} {meeting.date:%B %Y}" in html
    )
    assert f"To make it: Final QAD signed by a Director by {signed_by.day} {signed_by:%B %Y}" in html
