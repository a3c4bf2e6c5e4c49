"""The required test set of an application (cases of its role, minus accepted placing reliance at case
and scenario level, minus opted-out DIP flows, with the reason for each) as the set page and selector
show it, and the test execution plan set on it: bulk planning, the plan's schedule, clearing dates,
and the schedule by week."""

import datetime

import pytest
from django.urls import reverse

from portal.audit.models import AuditEvent
from portal.core.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied
from portal.prequalification.models import RelianceScope
from portal.prequalification.services import ItemFields, reliance_item_add
from portal.prequalification.testing import pqs_fill_complete
from portal.testing.models import PlannedExecution
from portal.testing.plan_selectors import qt_schedule, qt_set
from portal.testing.plan_services import PlannedEntry, qt_execution_plan_set, qt_opt_out_add, qt_plan_submit
from portal.testing.tests import test_qt_plan_fixtures as fixtures
from portal.testing.tests.test_qt_plan_fixtures import (
    SUPPLIER_REQUIRED,
    complete_fields,
    qt_task,
    snapshot,
)

pytestmark = [pytest.mark.django_db, pytest.mark.urls("portal.testing.tests.urls")]
D = datetime.date

# The shared fixtures of the QT plan tests.
catalogue, qt_app, ta = fixtures.catalogue, fixtures.qt_app, fixtures.ta


def inclusions(user, application, **filters):
    return {
        i.row.identifier: i.row.inclusion.value
        for i in qt_set(user=user, application_id=application.pk, **filters).items
    }


def relied(identifiers, scope=RelianceScope.TEST_CASES):
    return ItemFields(
        title=f"Vendor testing of {identifiers}",
        scope=scope,
        identifiers=identifiers,
        relied_on=True,
        rationale="Tested end to end by the vendor; unchanged since.",
        provider_kind="software_vendor",
        provider_name="Example Billing Systems Ltd",
        artefacts="Vendor test completion report",
    )


@pytest.fixture
def reliance_app(make_application, advance, member, catalogue):
    """An application whose PQS relies on QTC-TA-2 (a case) and on scenario QTS-TB, both accepted."""
    application = make_application()
    pqs_fill_complete(application, actor=member, with_reliance=False)
    reliance_item_add(actor=member, application_id=application.pk, fields=relied("QTC-TA-2"))
    reliance_item_add(
        actor=member, application_id=application.pk, fields=relied("QTS-TB", RelianceScope.TEST_SCENARIOS)
    )
    return application


# --- the set -------------------------------------------------------------------------------------------


def test_the_set_is_the_role_cases_with_why(member, qt_app, catalogue):
    view = qt_set(user=member, application_id=qt_app.pk)
    assert [i.row.identifier for i in view.items] == ["QTC-TA-1", "QTC-TA-2", "QTC-TA-3", "QTC-TB-1", "QTC-TB-2"]
    assert view.counts == {"required": 4, "optional": 1, "required_unplanned": 4}
    assert view.batch_counts == {"functional": 3, "migration": 2}
    reasons = {i.row.identifier: i.row.reason for i in view.items}
    assert reasons["QTC-TA-1"] == "Mandatory for this role."
    assert reasons["QTC-TA-3"].startswith("Optional for this role")
    assert "QTC-TL-1" not in reasons  # LDSO only


def test_accepted_reliance_removes_cases_and_whole_scenarios(member, reliance_app, advance):
    advance(reliance_app, stop_at_state=("pqs", "submitted"))
    # Proposed but not yet accepted: nothing is relied on.
    assert set(inclusions(member, reliance_app).values()) == {"required", "optional"}
    advance(reliance_app, stop_before="qt")
    view = qt_set(user=member, application_id=reliance_app.pk)
    rows = {i.row.identifier: i.row for i in view.items}
    assert rows["QTC-TA-2"].inclusion == "reliance"
    assert rows["QTC-TA-2"].reason == "Covered by accepted placing reliance on QTC-TA-2."
    assert rows["QTC-TB-1"].inclusion == rows["QTC-TB-2"].inclusion == "reliance"
    assert rows["QTC-TB-1"].reason == "Covered by accepted placing reliance on scenario QTS-TB."
    assert rows["QTC-TA-1"].inclusion == "required"
    assert view.counts["required"] == 1 and view.counts["reliance"] == 3


def test_reliance_accepted_makes_the_reliance_approach_required(member, reliance_app, advance):
    advance(reliance_app, stop_before="qt")
    from portal.testing.plan_services import qt_plan_update

    qt_plan_update(actor=member, application_id=reliance_app.pk, fields=complete_fields())
    with pytest.raises(InvalidInput) as refused:
        qt_plan_submit(actor=member, application_id=reliance_app.pk)
    assert [e["field"] for e in refused.value.details["errors"]] == ["reliance_approach"]


def test_opted_out_flows_take_their_cases_out(member, qt_app, catalogue):
    qt_opt_out_add(actor=member, application_id=qt_app.pk, flow_code="IF-901", reason="We do not send IF-901.")
    view = qt_set(user=member, application_id=qt_app.pk)
    row = next(i.row for i in view.items if i.row.identifier == "QTC-TA-1")
    assert row.inclusion == "opted_out"
    assert row.reason == "Exercises IF-901, which the participant opted out of: We do not send IF-901."
    assert view.counts["required"] == 3 and view.counts["opted_out"] == 1


def test_filters_by_inclusion_and_batch(member, qt_app, catalogue):
    assert list(inclusions(member, qt_app, inclusion="optional")) == ["QTC-TA-3"]
    assert list(inclusions(member, qt_app, batch="migration")) == ["QTC-TB-1", "QTC-TB-2"]
    assert list(inclusions(member, qt_app, inclusion="required", batch="migration")) == ["QTC-TB-1", "QTC-TB-2"]
    view = qt_set(user=member, application_id=qt_app.pk, inclusion="opted_out")
    assert view.items == [] and view.total == 5  # counts stay over the whole set
    with pytest.raises(InvalidInput):
        qt_set(user=member, application_id=qt_app.pk, inclusion="everything")
    with pytest.raises(InvalidInput):
        qt_set(user=member, application_id=qt_app.pk, batch="performance")


def test_everyone_who_may_see_the_application_sees_the_set(qt_app, catalogue, ta, other_member, staff):
    from portal.accounts.roles import Role

    assert qt_set(user=ta, application_id=qt_app.pk).total == 5
    assert not qt_set(user=ta, application_id=qt_app.pk).can_plan
    assert qt_set(user=staff(Role.ELEXON_ANALYST), application_id=qt_app.pk).total == 5
    with pytest.raises(NotFound):
        qt_set(user=other_member, application_id=qt_app.pk)


# --- the execution plan -------------------------------------------------------------------------------


def plan_cases(actor, application, cases, day, note=""):
    entries = [PlannedEntry(case=c, planned_on=day, note=note) for c in cases]
    return qt_execution_plan_set(actor=actor, application_id=application.pk, entries=entries)


def test_bulk_planning_several_cases_on_one_date(member, qt_app, catalogue, ta):
    planned = plan_cases(member, qt_app, ["QTC-TA-1", "qtc-ta-2", "QTC-TA-3"], D(2026, 9, 8), note="Batch 1")
    assert sorted(p.case.identifier for p in planned) == ["QTC-TA-1", "QTC-TA-2", "QTC-TA-3"]
    assert {p.planned_on for p in planned} == {D(2026, 9, 8)} and {p.note for p in planned} == {"Batch 1"}
    assert qt_task(qt_app).state == "in_progress"
    [event] = AuditEvent.objects.filter(action="qt.execution_plan.set")
    assert event.before == {"QTC-TA-1": None, "QTC-TA-2": None, "QTC-TA-3": None}
    assert event.after["QTC-TA-1"] == {"planned_on": "2026-09-08", "note": "Batch 1"}
    view = qt_set(user=member, application_id=qt_app.pk)
    assert view.counts["required_unplanned"] == 2


def test_replanning_and_taking_cases_off_the_plan(member, qt_app, catalogue):
    plan_cases(member, qt_app, ["QTC-TA-1", "QTC-TA-2"], D(2026, 9, 8))
    plan_cases(member, qt_app, ["QTC-TA-1"], D(2026, 9, 15), note="Moved")
    plan_cases(member, qt_app, ["QTC-TA-2"], None)
    assert list(PlannedExecution.objects.values_list("case__identifier", "planned_on", "note")) == [
        ("QTC-TA-1", D(2026, 9, 15), "Moved")
    ]
    event = AuditEvent.objects.filter(action="qt.execution_plan.set").latest("sequence")
    assert event.after == {"QTC-TA-2": None} and event.before["QTC-TA-2"]["planned_on"] == "2026-09-08"


def test_dates_must_fall_within_the_plans_schedule(member, qt_app, catalogue):
    from portal.testing.plan_services import qt_plan_update

    plan_cases(member, qt_app, ["QTC-TA-1"], D(2026, 12, 25))  # no schedule yet: any date is taken
    with pytest.raises(InvalidInput, match="would fall outside the new schedule: QTC-TA-1 \\(25 December 2026\\)"):
        qt_plan_update(actor=member, application_id=qt_app.pk, fields=complete_fields())
    plan_cases(member, qt_app, ["QTC-TA-1"], D(2026, 10, 1))
    qt_plan_update(actor=member, application_id=qt_app.pk, fields=complete_fields())
    before = snapshot()
    with pytest.raises(
        InvalidInput, match="outside the QT schedule in your plan \\(7 September 2026 to 27 November"
    ) as refused:
        plan_cases(member, qt_app, ["QTC-TA-2"], D(2026, 12, 1))
    assert refused.value.details["field"] == "planned_on"
    assert snapshot() == before


def test_every_line_is_checked_before_any_is_stored(member, qt_app, catalogue):
    qt_opt_out_add(actor=member, application_id=qt_app.pk, flow_code="IF-901", reason="Not used.")
    before = snapshot()
    entries = [
        PlannedEntry("QTC-TA-2", D(2026, 9, 8)),
        PlannedEntry("QTC-TL-1", D(2026, 9, 8)),  # another role's case
        PlannedEntry("QTC-NOPE", D(2026, 9, 8)),
        PlannedEntry("QTC-TA-1", D(2026, 9, 8)),  # opted out: not run
        PlannedEntry("QTC-TA-2", D(2026, 9, 9)),  # twice
        PlannedEntry("QTC-TB-1", D(2026, 9, 8), note="x" * 501),
        PlannedEntry("QTC-TB-2", D(2019, 9, 8)),
    ]
    with pytest.raises(InvalidInput, match="6 lines cannot be planned") as refused:
        qt_execution_plan_set(actor=member, application_id=qt_app.pk, entries=entries)
    messages = [e["message"] for e in refused.value.details["errors"]]
    assert messages == [
        "QTC-TL-1 is not a test case of the Supplier role.",
        "QTC-NOPE is not a test case of the Supplier role.",
        "QTC-TA-1 is not run in QT (opted out: Exercises IF-901, which the participant opted out of: Not used.)",
        "QTC-TA-2 is listed more than once.",
        "QTC-TB-1: the note must be 500 characters or fewer.",
        "QTC-TB-2: the planned date must be between 2020 and 2040.",
    ]
    assert snapshot() == before


def test_who_may_plan(member, qt_app, catalogue, ta, other_member, make_application):
    waiting = make_application(market_role="MEM")
    before = snapshot()
    with pytest.raises(PermissionDenied):
        plan_cases(ta, qt_app, ["QTC-TA-1"], D(2026, 9, 8))
    with pytest.raises(NotFound):
        plan_cases(other_member, qt_app, ["QTC-TA-1"], D(2026, 9, 8))
    with pytest.raises(InvalidInput, match="at least one"):
        plan_cases(member, qt_app, [], D(2026, 9, 8))
    with pytest.raises(InvalidTransition, match="cannot start yet"):
        plan_cases(member, waiting, ["QTC-TA-1"], D(2026, 9, 8))
    assert snapshot() == before


def test_the_schedule_by_week(member, qt_app, catalogue):
    plan_cases(member, qt_app, ["QTC-TA-1", "QTC-TA-2"], D(2026, 9, 9))  # a Wednesday
    plan_cases(member, qt_app, ["QTC-TB-1"], D(2026, 9, 13))  # the Sunday of the same week
    plan_cases(member, qt_app, ["QTC-TA-3"], D(2026, 9, 14))  # the next Monday
    qt_opt_out_add(actor=member, application_id=qt_app.pk, flow_code="IF-901", reason="Not used.")
    schedule = qt_schedule(user=member, application_id=qt_app.pk)
    assert [(w.starts_on, [e.planned.case.identifier for e in w.entries]) for w in schedule.weeks] == [
        (D(2026, 9, 7), ["QTC-TA-1", "QTC-TA-2", "QTC-TB-1"]),
        (D(2026, 9, 14), ["QTC-TA-3"]),
    ]
    first = schedule.weeks[0].entries[0]
    assert not first.still_run  # QTC-TA-1 was opted out after it was planned
    assert [i.row.identifier for i in schedule.unplanned_required] == ["QTC-TB-2"]


# --- the pages ----------------------------------------------------------------------------------------------


def test_the_set_page_shows_counts_reasons_and_the_planning_form(login, member, qt_app, catalogue):
    response = login(member).get(reverse("testing:qt_set", args=[qt_app.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Required test set" in html and "QTC-TA-1" in html and "Mandatory for this role." in html
    assert 'name="cases" type="checkbox" value="QTC-TA-1"' in html
    assert "no schedule yet, so planned dates are not checked" in html
    assert "QTC-TL-1" not in html


def test_the_set_page_filters_with_htmx(login, member, qt_app, catalogue):
    response = login(member).get(
        reverse("testing:qt_set", args=[qt_app.pk]),
        {"batch": "migration", "inclusion": "bogus"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="set-results">')
    assert "QTC-TB-1" in html and "QTC-TA-1" not in html
    assert "Showing 2 of 5 test cases (filtered)" in html


def test_planning_through_the_page(login, member, qt_app, catalogue):
    client = login(member)
    url = reverse("testing:qt_execution_plan", args=[qt_app.pk])
    response = client.post(
        url,
        {
            "cases": ["QTC-TA-1", "QTC-TB-2"],
            "planned_on_day": "8",
            "planned_on_month": "9",
            "planned_on_year": "2026",
            "note": "Week 1",
            "action": "plan",
        },
    )
    assert response.status_code == 302
    assert PlannedExecution.objects.count() == 2
    page = client.get(response["Location"]).content.decode()
    assert "You planned 2 test cases on 8 September 2026." in page


def test_the_planning_form_shows_refusals(login, member, qt_app, catalogue):
    client = login(member)
    url = reverse("testing:qt_execution_plan", args=[qt_app.pk])
    response = client.post(url, {"cases": ["QTC-TA-1"], "action": "plan"})
    assert response.status_code == 400
    assert "Enter the planned date" in response.content.decode()
    response = client.post(url, {"planned_on_day": "8", "planned_on_month": "9", "planned_on_year": "2026"})
    assert "Select at least one test case" in response.content.decode()
    response = client.post(
        url, {"cases": ["QTC-TA-1"], "planned_on_day": "8", "planned_on_month": "9", "planned_on_year": "2019"}
    )
    assert response.status_code == 422
    assert "between 2020 and 2040" in response.content.decode()
    assert not PlannedExecution.objects.exists()


def test_staff_see_the_set_without_the_form_and_others_get_404(login, qt_app, catalogue, ta, other_member, client):
    html = login(ta).get(reverse("testing:qt_set", args=[qt_app.pk])).content.decode()
    assert "QTC-TA-1" in html and 'name="cases"' not in html
    client.force_login(other_member)
    assert client.get(reverse("testing:qt_set", args=[qt_app.pk])).status_code == 404
    assert client.get(reverse("testing:qt_schedule", args=[qt_app.pk])).status_code == 404
    response = client.post(reverse("testing:qt_execution_plan", args=[qt_app.pk]), {"cases": ["QTC-TA-1"]})
    assert response.status_code == 404


def test_the_schedule_page(login, member, qt_app, catalogue):
    plan_cases(member, qt_app, ["QTC-TA-1"], D(2026, 9, 9), note="First run")
    html = login(member).get(reverse("testing:qt_schedule", args=[qt_app.pk])).content.decode()
    assert "Week of 7 September 2026" in html and "First run" in html
    assert "3 required cases not planned yet" in html


def test_required_set_fixture_matches(qt_app, catalogue, member):
    assert [i.row.identifier for i in qt_set(user=member, application_id=qt_app.pk, inclusion="required").items] == (
        SUPPLIER_REQUIRED
    )
