"""The RTTM pages of an application: reachable from the PIT and QT pages, the matrix with the
participant's forms while PIT or QT is with them, captures, snapshots, comparison, the workbook out
and in; refusals in the error summary, another organisation's application answering 404."""

import pytest
from django.urls import reverse

from portal.accounts.roles import Role
from portal.testing.models import ImportJob, RttmEntry, RttmSnapshot
from portal.testing.rttm_services import rttm_entry_set, rttm_snapshot_capture
from portal.testing.tests.catalogue_support import XLSX, read_workbook, state, upload, xlsx_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def pit_app(make_application):
    return make_application(route="sit")


@pytest.fixture
def login(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


def url(name, application, *args):
    return reverse(f"testing:{name}", args=[application.pk, *args])


def test_the_pit_page_links_here(login, member, pit_app):
    html = login(member).get(reverse("testing:pit_checklist", args=[pit_app.pk])).content.decode()
    assert url("rttm", pit_app) in html


def test_the_qt_page_links_here(login, member, make_application, advance):
    application = advance(make_application(), stop_before="qt")
    html = login(member).get(reverse("testing:qt_overview", args=[application.pk])).content.decode()
    assert url("rttm", application) in html


def test_the_participant_sees_the_matrix_with_its_forms(login, member, pit_app):
    response = login(member).get(url("rttm", pit_app))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Requirements traceability (RTTM)" in html
    assert url("rttm_entry", pit_app, "REQ-FUN-001") in html
    assert url("rttm_capture", pit_app) in html
    assert 'value="pit_entry"' in html and 'value="qt_entry"' not in html
    assert url("rttm_import", pit_app) in html
    assert "QTC-FUN-01-01 v1" in html
    assert "None required of you; cases for MOA / MEM trace it" in html
    assert html.index('id="row-REQ-OPS-003"') < html.index('id="row-REQ-FUN-001"')  # not covered first


def test_staff_see_it_without_forms_and_other_organisations_not_at_all(login, staff, other_member, pit_app):
    html = login(staff(Role.PROGRAMME_ASSURANCE)).get(url("rttm", pit_app)).content.decode()
    assert url("rttm_entry", pit_app, "REQ-FUN-001") not in html and url("rttm_capture", pit_app) not in html
    client = login(other_member)
    for name in ("rttm", "rttm_compare", "rttm_export", "rttm_import"):
        assert client.get(url(name, pit_app)).status_code == 404
    before = state()
    assert client.post(url("rttm_entry", pit_app, "REQ-FUN-001"), {"pit_tests": "X"}).status_code == 404
    assert client.post(url("rttm_capture", pit_app), {"checkpoint": "pit_entry"}).status_code == 404
    assert state() == before


def test_setting_a_row_from_the_page(login, member, pit_app):
    client = login(member)
    response = client.post(
        url("rttm_entry", pit_app, "REQ-OPS-003"), {"pit_tests": "PIT-OPS-1", "qad_reference": "3.4", "note": ""}
    )
    assert response.status_code == 302
    assert response["Location"] == url("rttm", pit_app) + "#row-REQ-OPS-003"
    assert RttmEntry.objects.get(application=pit_app).pit_tests == "PIT-OPS-1"
    assert "You saved the RTTM row of REQ-OPS-003" in client.get(response["Location"]).content.decode()


def test_a_refused_row_shows_the_problem_and_keeps_what_was_entered(login, member, pit_app):
    before = state()
    response = login(member).post(
        url("rttm_entry", pit_app, "REQ-OPS-003"), {"pit_tests": "PIT-OPS-1", "qad_reference": "4" * 201}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'href="#qad_reference-REQ-OPS-003">QAD reference must be 200 characters or fewer' in html
    assert 'value="PIT-OPS-1"' in html
    assert state() == before


def test_staff_cannot_post_a_row(login, staff, pit_app):
    before = state()
    response = login(staff(Role.PROGRAMME_ASSURANCE)).post(
        url("rttm_entry", pit_app, "REQ-OPS-003"), {"pit_tests": "X"}
    )
    assert response.status_code == 403
    assert state() == before


def test_capturing_and_the_snapshot_page(login, member, pit_app):
    client = login(member)
    response = client.post(url("rttm_capture", pit_app), {"checkpoint": "pit_entry"})
    snapshot = RttmSnapshot.objects.get()
    assert response.status_code == 302 and response["Location"] == url("rttm_snapshot", pit_app, snapshot.pk)
    html = client.get(response["Location"]).content.decode()
    assert "RTTM at PIT entry, version 1" in html and snapshot.sha256 in html
    assert "You captured version 1 of the RTTM at PIT entry" in html

    response = client.post(url("rttm_capture", pit_app), {"checkpoint": "qt_exit"})
    assert response.status_code == 409
    assert "is captured while “Systems Integration Testing” is with you" in response.content.decode()
    response = client.post(url("rttm_capture", pit_app), {})
    assert response.status_code == 422 and "Choose the checkpoint" in response.content.decode()
    assert RttmSnapshot.objects.count() == 1
    assert client.get(url("rttm_snapshot", pit_app, snapshot.pk + 100)).status_code == 404


def test_comparing_on_the_page(login, member, pit_app):
    first = rttm_snapshot_capture(actor=member, application_id=pit_app.pk, checkpoint="pit_entry")
    rttm_entry_set(actor=member, application_id=pit_app.pk, requirement="REQ-OPS-003", pit_tests="PIT-OPS-9")
    second = rttm_snapshot_capture(actor=member, application_id=pit_app.pk, checkpoint="pit_exit")
    client = login(member)
    html = client.get(url("rttm_compare", pit_app)).content.decode()  # the two latest by default
    assert "From PIT entry v1 to PIT exit v1" in html
    assert "<del>(none)</del>" in html and "<ins>PIT-OPS-9</ins>" in html
    assert "<del>Not covered</del>" in html and "<ins>Covered</ins>" in html
    html = client.get(url("rttm_compare", pit_app), {"from": second.pk, "to": first.pk}).content.decode()
    assert "<ins>(none)</ins>" in html
    response = client.get(url("rttm_compare", pit_app), {"from": first.pk, "to": first.pk})
    assert response.status_code == 400 and "Choose two different snapshots" in response.content.decode()
    response = client.get(url("rttm_compare", pit_app), {"from": first.pk, "to": 99999})
    assert response.status_code == 400


def test_the_workbooks_download(login, member, pit_app):
    snapshot = rttm_snapshot_capture(actor=member, application_id=pit_app.pk, checkpoint="pit_entry")
    client = login(member)
    response = client.get(url("rttm_export", pit_app))
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    assert response["Content-Disposition"] == f'attachment; filename="RTTM {pit_app.reference} NLEN SUP current.xlsx"'
    assert "RTTM" in read_workbook(response.content)
    response = client.get(url("rttm_export", pit_app), {"snapshot": snapshot.pk})
    assert "Snapshot" in read_workbook(response.content)
    assert client.get(url("rttm_export", pit_app), {"snapshot": "x"}).status_code == 404
    assert client.get(url("rttm_export", pit_app), {"snapshot": snapshot.pk + 1}).status_code == 404


def test_importing_from_the_page(login, member, staff, pit_app):
    client = login(member)
    assert "Import the RTTM from a workbook" in client.get(url("rttm_import", pit_app)).content.decode()
    content = xlsx_bytes({"RTTM": [["Requirement", "PIT tests", "QAD reference"], ["REQ-OPS-003", "PIT-1", "3.4"]]})
    response = client.post(url("rttm_import", pit_app), {"file": upload(content, "rttm.xlsx")})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("testing:import_job", args=[job.pk])
    assert job.kind == "rttm" and job.application == pit_app
    response = client.post(url("rttm_import", pit_app), {})
    assert response.status_code == 422 and 'href="#file">Choose the workbook to import' in response.content.decode()

    client = login(staff(Role.PROGRAMME_ASSURANCE))
    html = client.get(url("rttm_import", pit_app)).content.decode()
    assert "You can import the RTTM only while" in html and 'type="file"' not in html
    assert client.post(url("rttm_import", pit_app), {"file": upload(content, "rttm.xlsx")}).status_code == 403
    assert ImportJob.objects.count() == 1
