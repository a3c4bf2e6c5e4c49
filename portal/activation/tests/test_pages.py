"""The hand-off page and the queue in the browser: what each party sees, the team's forms, inputs,
refusals in the error summary, and 403/404 for the wrong person."""

from datetime import timedelta

import pytest
from django.urls import reverse

from portal.accounts.roles import Role
from portal.activation.models import Handoff, HandoffCheck, HandoffInput
from portal.activation.selectors import uk_today
from portal.activation.services import handoff_check_set, handoff_complete, handoff_go_live_set, handoff_input_add
from portal.activation.testing_support import activation_complete_checklist
from portal.activation.tests.conftest import snapshot, task_of
from portal.factories import make_staff

pytestmark = pytest.mark.django_db


def page_url(application):
    return reverse("activation:handoff", args=[application.pk])


def check_url(application, code="standing_data"):
    return reverse("activation:check_set", args=[application.pk, code])


def url(name, application):
    return reverse(f"activation:{name}", args=[application.pk])


def date_post(day):
    return {"planned_go_live_day": day.day, "planned_go_live_month": day.month, "planned_go_live_year": day.year}


# --- reading -----------------------------------------------------------------------------------------


def test_the_team_sees_everything_and_its_forms(login, team, staff, qualified):
    handoff_input_add(actor=staff(Role.DIP_MANAGER), application_id=qualified.pk, text="Production DIP ID pending.")
    handoff_check_set(actor=team, application_id=qualified.pk, item_code="standing_data", done=True, note="ISD ok.")
    response = login(team).get(page_url(qualified))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Service Activation hand-off" in html
    assert "DIP Manager approval" in html and "BSC PAB approval" in html and "REC Code Manager approval" in html
    assert "DIP IDs" in html
    assert "Production DIP ID pending." in html
    assert "ISD ok." in html
    assert check_url(qualified, "dip_production_ids") in html
    assert url("go_live", qualified) in html
    assert url("complete", qualified) in html  # the first tick started it
    assert "Before the hand-off can be completed" in html
    assert "1 of 8 done" in html
    assert url("input_add", qualified) not in html  # the team does not add inputs


def test_the_hand_off_shows_the_approval_comments_and_the_dip_id(login, team, fully_qualified):
    qualified = fully_qualified
    html = login(team).get(page_url(qualified)).content.decode()
    entry = task_of(qualified, "approval_dip_manager").entries.exclude(comment="").first()
    if entry is not None:
        assert entry.comment in html
    dip_id = qualified.mpid.dip_ids.first()
    assert dip_id is not None and dip_id.value in html


def test_the_participant_sees_progress_but_not_the_internal_notes(login, member, staff, qualified):
    team = make_staff(Role.SERVICE_ACTIVATION, full_name="Sam Activator")
    handoff_input_add(actor=staff(Role.ELEXON_ANALYST), application_id=qualified.pk, text="Internal remark.")
    handoff_check_set(actor=team, application_id=qualified.pk, item_code="standing_data", done=True, note="Team note.")
    handoff_go_live_set(actor=team, application_id=qualified.pk, planned_go_live=uk_today() + timedelta(days=10))
    html = login(member).get(page_url(qualified)).content.decode()
    assert "In progress" in html
    assert "1 of 8 done" in html
    assert (uk_today() + timedelta(days=10)).strftime("%B %Y") in html
    assert "Internal remark." not in html and "Team note." not in html
    assert team.display_name not in html
    assert "<form" not in html.split('id="main-content"')[1].split("</main>")[0].replace(
        'action="/accounts/logout/"', ""
    )


def test_another_organisation_gets_404(login, other_member, qualified):
    assert login(other_member).get(page_url(qualified)).status_code == 404
    before = snapshot()
    assert login(other_member).post(check_url(qualified), {"done": "yes"}).status_code == 404
    assert login(other_member).post(url("start", qualified)).status_code == 404
    assert snapshot() == before


def test_before_qualification_the_page_says_when_it_opens(login, team, make_application):
    application = make_application(route="sit")
    html = login(team).get(page_url(application)).content.decode()
    assert "The hand-off opens when" in html and "Not yet qualified" in html
    assert url("start", application) not in html


def test_the_task_page_links_to_the_hand_off(login, team, qualified):
    html = login(team).get(f"/applications/{qualified.pk}/tasks/service_activation/").content.decode()
    assert page_url(qualified) in html


# --- the team's work ----------------------------------------------------------------------------------


def test_starting_from_the_page(login, team, qualified):
    client = login(team)
    html = client.get(page_url(qualified)).content.decode()
    assert url("start", qualified) in html
    response = client.post(url("start", qualified))
    assert response.status_code == 302 and response["Location"] == page_url(qualified)
    assert task_of(qualified).state == "in_progress"
    assert "You started the Service Activation hand-off" in client.get(page_url(qualified)).content.decode()


def test_ticking_and_unticking_an_item(login, team, qualified):
    client = login(team)
    response = client.post(check_url(qualified), {"done": "yes", "note": "Recorded in ISD."})
    assert response.status_code == 302
    assert response["Location"] == page_url(qualified) + "#item-standing_data"
    check = HandoffCheck.objects.get(item__code="standing_data")
    assert check.done and check.done_by == team and check.note == "Recorded in ISD."
    html = client.get(page_url(qualified)).content.decode()
    assert "You marked “Market role details recorded in industry standing data” as done." in html
    assert "Mark as not done" in html
    client.post(check_url(qualified), {"done": "no"})
    check.refresh_from_db()
    assert not check.done


def test_a_bad_note_is_shown_in_the_error_summary(login, team, qualified):
    before = snapshot()
    response = login(team).post(check_url(qualified), {"done": "yes", "note": "bad\x01"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "There is a problem" in html and 'href="#note-standing_data"' in html and "control characters" in html
    assert snapshot() == before


def test_an_unknown_item_is_404(login, team, qualified):
    assert login(team).post(check_url(qualified, "nope"), {"done": "yes"}).status_code == 404


def test_the_wrong_role_gets_a_clear_refusal_and_nothing_changes(login, staff, member, qualified):
    before = snapshot()
    for user in (staff(Role.ELEXON_ANALYST), member):
        client = login(user)
        response = client.post(check_url(qualified), {"done": "yes"})
        assert response.status_code == 403
        assert "Only the Service Activation team" in response.content.decode()
        assert client.post(url("start", qualified)).status_code == 403
        assert client.post(url("go_live", qualified), date_post(uk_today())).status_code == 403
        assert client.post(url("complete", qualified)).status_code == 403
    response = login(member).post(url("input_add", qualified), {"text": "Hello"})
    assert response.status_code == 403
    assert "Code Bodies and the DIP Manager" in response.content.decode()
    assert snapshot() == before


def test_setting_the_go_live_date(login, team, qualified):
    day = uk_today() + timedelta(days=20)
    response = login(team).post(url("go_live", qualified), date_post(day))
    assert response.status_code == 302 and response["Location"].endswith("#go-live")
    assert Handoff.objects.get(application=qualified).planned_go_live == day


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({}, 400, "Enter the planned go-live date"),
        ({"planned_go_live_day": "31", "planned_go_live_month": "2", "planned_go_live_year": "2030"}, 400, "real date"),
        ({"planned_go_live_day": "1", "planned_go_live_year": "2030"}, 400, "must include a month"),
        ({"planned_go_live_day": "1", "planned_go_live_month": "1", "planned_go_live_year": "30"}, 400, "in numbers"),
        ({"planned_go_live_day": "1", "planned_go_live_month": "1", "planned_go_live_year": "2001"}, 422, "or later"),
    ],
)
def test_a_bad_go_live_date_is_shown_in_the_error_summary(login, team, qualified, data, status, message):
    before = snapshot()
    response = login(team).post(url("go_live", qualified), data)
    assert response.status_code == status
    html = response.content.decode()
    assert message in html and 'href="#id_planned_go_live_day"' in html
    assert snapshot() == before


def test_completion_refused_lists_what_is_missing(login, team, qualified):
    client = login(team)
    client.post(url("start", qualified))
    before = snapshot()
    response = client.post(url("complete", qualified), {"comment": ""})
    assert response.status_code == 409
    html = response.content.decode()
    assert "The hand-off cannot be completed yet" in html and "DIP IDs confirmed for production" in html
    assert snapshot() == before


def test_completing_from_the_page(login, team, member, qualified):
    activation_complete_checklist(qualified, actor=team)
    client = login(team)
    response = client.post(url("complete", qualified), {"comment": "Go for it."})
    assert response.status_code == 302
    qualified.refresh_from_db()
    assert qualified.status == "active"
    html = client.get(page_url(qualified)).content.decode()
    assert "Service Activation complete" in html and url("complete", qualified) not in html
    assert check_url(qualified) not in html  # nothing changes any more
    member_html = login(member).get(page_url(qualified)).content.decode()
    assert "may operate as Supplier under NLEN" in member_html


# --- inputs ---------------------------------------------------------------------------------------------


def test_a_code_body_adds_an_input(login, staff, qualified):
    analyst = staff(Role.ELEXON_ANALYST)
    client = login(analyst)
    html = client.get(page_url(qualified)).content.decode()
    assert url("input_add", qualified) in html and "Add an input as Elexon" in html
    assert check_url(qualified) not in html  # analysts do not tick items
    response = client.post(url("input_add", qualified), {"text": "Watch the MDD effective date.", "body": ""})
    assert response.status_code == 302 and response["Location"].endswith("#inputs")
    entry = HandoffInput.objects.get()
    assert entry.author == analyst and entry.body == "elexon_analyst"
    assert "Watch the MDD effective date." in client.get(page_url(qualified)).content.decode()


def test_an_empty_input_is_shown_in_the_error_summary(login, staff, qualified):
    before = snapshot()
    response = login(staff(Role.DIP_MANAGER)).post(url("input_add", qualified), {"text": "  "})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter the input for the Service Activation team" in html and 'href="#input-text"' in html
    assert snapshot() == before


def test_a_body_the_user_does_not_hold_is_refused(login, staff, qualified):
    before = snapshot()
    response = login(staff(Role.DIP_MANAGER)).post(url("input_add", qualified), {"text": "Hi", "body": "qsp"})
    assert response.status_code == 422
    assert "You cannot add an input for Qualification Service Provider" in response.content.decode()
    assert snapshot() == before


# --- the queue ------------------------------------------------------------------------------------------


def test_the_queue_lists_open_hand_offs_oldest_first_and_completed_ones_on_request(
    login, team, qualify, other_org, other_member
):
    first = qualify()
    second = qualify(organisation=other_org, actor=other_member)
    handoff_check_set(actor=team, application_id=second.pk, item_code="standing_data", done=True)
    client = login(team)
    html = client.get(reverse("activation:queue")).content.decode()
    assert "2 hand-offs" in html
    assert html.index(first.reference) < html.index(second.reference)
    assert "1 of 8 done" in html and "0 of 8 done" in html

    activation_complete_checklist(first, actor=team)
    handoff_complete(actor=team, application_id=first.pk)
    html = client.get(reverse("activation:queue")).content.decode()
    assert first.reference not in html and second.reference in html
    html = client.get(reverse("activation:queue"), {"status": "completed"}).content.decode()
    assert first.reference in html and second.reference not in html
    html = client.get(reverse("activation:queue"), {"status": "nonsense"}).content.decode()
    assert second.reference in html  # an unknown filter is ignored


def test_the_queue_is_scoped(login, qualify, other_org, other_member, member):
    mine = qualify()
    theirs = qualify(organisation=other_org, actor=other_member)
    html = login(member).get(reverse("activation:queue"), {"status": "all"}).content.decode()
    assert mine.reference in html and theirs.reference not in html


def test_the_team_has_the_queue_in_its_navigation(login, team, member):
    assert 'href="/activation/"' in login(team).get("/").content.decode()
    assert 'href="/activation/"' not in login(member).get("/").content.decode()
