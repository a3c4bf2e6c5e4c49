"""The work-off pages: the plan, proposing and changing items, one item with its history and actions,
closing with evidence, the list across applications, the conditions on the application page, and
the links that reach them."""

import pytest
from django.urls import reverse

from portal.workoff.models import WorkOffItem
from portal.workoff.services import workoff_item_close
from portal.workoff.tests.conftest import in_days, pdf, snapshot

pytestmark = pytest.mark.django_db


def plan_url(application):
    return reverse("workoff:plan", args=[application.pk])


def item_url(item, rest=""):
    return reverse("workoff:item_detail", args=[item.application_id, item.pk]) + rest


def date_fields(day):
    return {"due_on_day": str(day.day), "due_on_month": str(day.month), "due_on_year": str(day.year)}


# --- the plan ------------------------------------------------------------------------------------------


def test_the_plan_lists_the_items_and_offers_proposing_to_the_participant(login, member, qt_app, propose):
    item = propose(qt_app)
    page = login(member).get(plan_url(qt_app))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Work-off plan" in html
    assert item_url(item) in html
    assert "WOT-001 Meter read rejection" in html
    assert "Waiting for Testing Assurance" in html
    assert reverse("workoff:item_propose", args=[qt_app.pk]) in html
    assert "WO-001 has not been reviewed by Testing Assurance yet" in html


def test_reviewers_read_the_plan_without_the_propose_button(login, tester, qt_app, propose):
    propose(qt_app)
    html = login(tester).get(plan_url(qt_app)).content.decode()
    assert "WO-001" in html
    assert reverse("workoff:item_propose", args=[qt_app.pk]) not in html


def test_another_organisation_gets_not_found_on_every_page(login, other_member, qt_app, agreed_item):
    client = login(other_member)
    for url in (
        plan_url(qt_app),
        reverse("workoff:item_propose", args=[qt_app.pk]),
        item_url(agreed_item),
        item_url(agreed_item, "edit/"),
    ):
        assert client.get(url).status_code == 404, url
    before = snapshot()
    assert client.post(item_url(agreed_item, "withdraw/"), {"comment": "x"}).status_code == 404
    assert client.post(item_url(agreed_item, "close/"), {"note": "x", "files": [pdf()]}).status_code == 404
    assert snapshot() == before


def test_the_task_page_and_the_application_page_link_to_the_plan(login, member, qt_app, agreed_item):
    client = login(member)
    task_page = client.get(reverse("web:task_detail", args=[qt_app.pk, "workoff"]))
    assert plan_url(qt_app) in task_page.content.decode()
    application_page = client.get(reverse("web:application_detail", args=[qt_app.pk])).content.decode()
    assert "Work-off conditions" in application_page
    assert item_url(agreed_item) in application_page
    assert plan_url(qt_app) in application_page


def test_the_application_page_shows_no_conditions_panel_without_agreed_items(login, member, qt_app, propose):
    propose(qt_app)
    html = login(member).get(reverse("web:application_detail", args=[qt_app.pk])).content.decode()
    assert "Work-off conditions" not in html


def test_overdue_conditions_are_flagged_on_the_application_page(login, tester, agreed_item):
    WorkOffItem.objects.filter(pk=agreed_item.pk).update(due_on=in_days(-2))
    html = login(tester).get(reverse("web:application_detail", args=[agreed_item.application_id])).content.decode()
    assert "Overdue" in html


# --- proposing and changing ------------------------------------------------------------------------------


def test_proposing_an_item_from_the_form(login, member, qt_app, catalogue):
    client = login(member)
    form = client.get(reverse("workoff:item_propose", args=[qt_app.pk]))
    assert form.status_code == 200
    html = form.content.decode()
    assert f'value="case:{catalogue.failed.pk}"' in html
    assert f'value="case:{catalogue.passed.pk}"' not in html
    response = client.post(
        reverse("workoff:item_propose", args=[qt_app.pk]),
        {
            "covers": f"case:{catalogue.failed.pk}",
            "action": "Fix and re-run.",
            "owner": "Sam Tester",
            **date_fields(in_days(14)),
        },
    )
    item = WorkOffItem.objects.get()
    assert response.status_code == 302
    assert response["Location"] == item_url(item)
    assert (item.case, item.owner, item.due_on) == (catalogue.failed, "Sam Tester", in_days(14))


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"covers": "", "action": "Fix.", "owner": "Sam"}, 400, "Select the test case or defect the item covers"),
        ({"action": "", "owner": "Sam"}, 400, "Enter the action that will close the item"),
        ({"action": "Fix.", "owner": "Sam", "due_on_day": ""}, 400, "The due date must include a day"),
        (
            {"action": "Fix.", "owner": "Sam", "due_on_day": "", "due_on_month": "", "due_on_year": ""},
            400,
            "Enter the due date",
        ),
        ({"action": "Fix.", "owner": "Sam", "due_on_day": "31", "due_on_month": "2"}, 400, "must be a real date"),
        ({"action": "Fix.", "owner": "Sam", "due_on_year": "26"}, 400, "The year must be 4 numbers"),
        ({"action": "Fix.", "owner": "Sam", "due_on": "past"}, 422, "The due date must be today or later"),
        ({"action": "Fix.", "owner": "Sam\u0007"}, 422, "The owner must be one line"),
    ],
)
def test_the_propose_form_shows_what_is_wrong_and_stores_nothing(
    login, member, qt_app, catalogue, data, status, message
):
    fields = {"covers": f"case:{catalogue.failed.pk}", **date_fields(in_days(7))}
    if data.pop("due_on", None) == "past":
        fields.update(date_fields(in_days(-1)))
    fields.update(data)
    before = snapshot()
    response = login(member).post(reverse("workoff:item_propose", args=[qt_app.pk]), fields)
    assert response.status_code == status
    html = response.content.decode()
    assert "govuk-error-summary" in html
    assert message in html
    assert snapshot() == before


def test_reviewers_are_not_offered_the_propose_form(login, tester, qt_app):
    assert login(tester).get(reverse("workoff:item_propose", args=[qt_app.pk])).status_code == 403


def test_the_propose_page_says_why_nothing_can_be_proposed_yet(login, member, make_application, advance, catalogue):
    application = make_application()
    advance(application, stop_before="qt")
    html = login(member).get(reverse("workoff:item_propose", args=[application.pk])).content.decode()
    assert "once Qualification Testing is in progress" in html
    assert 'name="covers"' not in html


def test_changing_an_item_from_the_form(login, member, qt_app, propose):
    item = propose(qt_app)
    client = login(member)
    form = client.get(item_url(item, "edit/"))
    assert form.status_code == 200
    assert 'value="Sam Tester, MHHS test lead"' in form.content.decode()
    response = client.post(item_url(item, "edit/"), {"action": "New plan.", "owner": "Ops", **date_fields(in_days(9))})
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.action, item.owner, item.due_on) == ("New plan.", "Ops", in_days(9))


def test_an_agreed_item_offers_no_change_form(login, member, agreed_item):
    assert login(member).get(item_url(agreed_item, "edit/")).status_code == 403


# --- one item: history and actions ----------------------------------------------------------------------


def test_the_item_page_shows_the_history_and_the_reviewers_actions(login, tester, qt_app, propose):
    item = propose(qt_app)
    html = login(tester).get(item_url(item)).content.decode()
    assert "Work-off item WO-001" in html
    assert "proposed WO-001" in html  # the history, from the audit log
    assert item_url(item, "review/") in html
    assert item_url(item, "request_changes/") in html
    assert item_url(item, "agree/") not in html
    assert item_url(item, "edit/") not in html


def test_the_participant_sees_change_and_withdraw_on_a_proposed_item(login, member, qt_app, propose):
    item = propose(qt_app)
    html = login(member).get(item_url(item)).content.decode()
    assert item_url(item, "edit/") in html
    assert item_url(item, "withdraw/") in html
    assert item_url(item, "review/") not in html


def test_reviewing_agreeing_and_asking_for_changes_from_the_page(login, tester, analyst, member, qt_app, propose):
    item = propose(qt_app)
    response = login(tester).post(item_url(item, "review/"), {"comment": "Fine."})
    assert response.status_code == 302 and response["Location"] == item_url(item)
    item.refresh_from_db()
    assert item.status == "reviewed"

    client = login(analyst)
    refused = client.post(item_url(item, "request_changes/"), {"comment": ""})
    assert refused.status_code == 422
    assert "Enter a comment for “Request changes”" in refused.content.decode()
    assert client.post(item_url(item, "agree/"), {"comment": ""}).status_code == 302
    item.refresh_from_db()
    assert item.status == "agreed"


def test_a_wrong_action_or_party_is_refused_by_the_page(login, member, qt_app, propose):
    item = propose(qt_app)
    client = login(member)
    before = snapshot()
    assert client.post(item_url(item, "review/"), {"comment": ""}).status_code == 403
    assert client.post(item_url(item, "approve/"), {"comment": ""}).status_code == 404
    assert client.get(item_url(item, "review/")).status_code == 405
    assert snapshot() == before


def test_closing_from_the_page_with_evidence_and_downloading_it(login, member, tester, agreed_item):
    client = login(member)
    page = client.get(item_url(agreed_item)).content.decode()
    assert item_url(agreed_item, "close/") in page
    refused = client.post(item_url(agreed_item, "close/"), {"note": "Re-run passed."})
    assert refused.status_code == 422
    assert "Attach the evidence that the item is closed" in refused.content.decode()
    response = client.post(item_url(agreed_item, "close/"), {"note": "Re-run passed.", "files": [pdf("rerun.pdf")]})
    assert response.status_code == 302
    agreed_item.refresh_from_db()
    assert agreed_item.status == "closed"
    evidence = agreed_item.closure_evidence.get()
    download_url = reverse("workoff:evidence_download", args=[agreed_item.application_id, evidence.pk])
    reviewer = login(tester)
    page = reviewer.get(item_url(agreed_item)).content.decode()
    assert download_url in page
    assert item_url(agreed_item, "reopen/") in page
    download = reviewer.get(download_url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    assert 'filename="rerun.pdf"' in download["Content-Disposition"]


# --- the list across applications ---------------------------------------------------------------------------


def test_staff_find_the_list_in_the_navigation_and_participants_do_not(login, tester, member, qt_app):
    list_url = reverse("workoff:item_list")
    assert list_url in login(tester).get(reverse("web:home")).content.decode()
    assert list_url not in login(member).get(reverse("web:home")).content.decode()


def test_the_list_filters_by_status_overdue_and_organisation_and_sorts_by_due_date(
    login, tester, qt_app, propose, agreed_item, catalogue
):
    later = propose(qt_app, case_id=catalogue.never_run.pk, due_on=in_days(90))
    WorkOffItem.objects.filter(pk=agreed_item.pk).update(due_on=in_days(-1))
    client = login(tester)
    html = client.get(reverse("workoff:item_list")).content.decode()
    assert html.index(item_url(agreed_item)) < html.index(item_url(later))
    assert "2 items" in html
    html = client.get(reverse("workoff:item_list"), {"sort": "-due_on"}).content.decode()
    assert html.index(item_url(later)) < html.index(item_url(agreed_item))
    html = client.get(reverse("workoff:item_list"), {"overdue": "yes"}).content.decode()
    assert item_url(agreed_item) in html and item_url(later) not in html
    html = client.get(reverse("workoff:item_list"), {"status": "proposed"}).content.decode()
    assert item_url(later) in html and item_url(agreed_item) not in html
    html = client.get(reverse("workoff:item_list"), {"organisation": str(qt_app.organisation_id)}).content.decode()
    assert "2 items" in html
    # Values the form does not offer are ignored, not refused.
    page = client.get(reverse("workoff:item_list"), {"status": "nonsense", "organisation": "x", "page": "99"})
    assert page.status_code == 200 and "2 items" in page.content.decode()


def test_the_list_answers_htmx_with_the_results_only(login, tester, agreed_item):
    response = login(tester).get(reverse("workoff:item_list"), {"status": "agreed"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="workoff-results">')
    assert "<html" not in html
    assert item_url(agreed_item) in html


def test_a_participant_sees_only_its_own_items_in_the_list(login, other_member, agreed_item):
    html = login(other_member).get(reverse("workoff:item_list")).content.decode()
    assert item_url(agreed_item) not in html
    assert "No work-off items match" in html


def test_a_closed_item_shows_its_closure(login, tester, member, agreed_item):
    workoff_item_close(
        actor=member,
        application_id=agreed_item.application_id,
        item_id=agreed_item.pk,
        note="Re-run passed on 3 March.",
        files=[pdf()],
    )
    html = login(tester).get(item_url(agreed_item)).content.decode()
    assert "Re-run passed on 3 March." in html
    assert "Closed by Priya Member" in html
