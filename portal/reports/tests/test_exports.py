"""Every list as CSV and XLSX: read back, holding what the page shows and nothing else, with text that a
spreadsheet would run as a formula written as text."""

from typing import cast

import pytest

from portal.accounts.roles import Role
from portal.factories import OrganisationFactory, make_member
from portal.participants.models import Organisation
from portal.qualification.models import Application
from portal.reports.tests.conftest import FORMULA, csv_rows, xlsx_rows

pytestmark = pytest.mark.django_db

LISTS = ("pipeline", "deadlines", "applications", "work-queue", "work-off-items", "rec-queue")


def download(client, name: str, file_format: str, **params):
    response = client.get(f"/downloads/{name}.{file_format}", params)
    assert response.status_code == 200, response.content[:500]
    return response


def test_every_list_downloads_as_csv_and_xlsx(build, analyst, signed_in):
    build(5)
    client = signed_in(analyst)
    for name in LISTS:
        as_csv = download(client, name, "csv")
        assert as_csv["Content-Type"] == "text/csv; charset=utf-8"
        assert as_csv["Content-Disposition"].startswith(f'attachment; filename="mhhs-{name}-')
        as_xlsx = download(client, name, "xlsx")
        assert as_xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
        assert as_xlsx["X-Content-Type-Options"] == "nosniff"
        # The same table either way.
        assert [str(v) for v in xlsx_rows(as_xlsx)[0]] == csv_rows(as_csv)[0]
    assert download(client, "search", "xlsx", q="pit-results").status_code == 200


def test_the_pipeline_download_holds_every_application_as_the_page_shows_it(build, analyst, signed_in):
    applications = build(5)
    rows = xlsx_rows(download(signed_in(analyst), "pipeline", "xlsx"))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Reference", "Organisation", "MPID"]
    assert sorted(r[0] for r in body) == sorted(a.reference for a in applications)
    by_reference = {r[0]: dict(zip(header, r, strict=True)) for r in body}
    targeted = applications[3]
    row = by_reference[targeted.reference]
    assert row["Stage"] == "Approval" and row["Target BSC PAB meeting"] is not None
    assert row["Days in stage"] == 0
    assert "The BSC PAB" in row["Waiting on"]


def test_formulas_are_written_as_text(build, analyst, signed_in, staff):
    hostile = cast(Organisation, OrganisationFactory(name="=cmd|' /C calc'!A0"))
    person = make_member(hostile, email="member@hostile.test")
    build(5, organisation=hostile, actor=person)
    client = signed_in(analyst)
    for name in ("pipeline", "applications"):
        sheet = xlsx_rows(download(client, name, "xlsx"))
        assert {r[1] for r in sheet[1:]} == {"'=cmd|' /C calc'!A0"}
        table = csv_rows(download(client, name, "csv"))
        assert {r[1] for r in table[1:]} == {"'=cmd|' /C calc'!A0"}
    items = xlsx_rows(download(client, "work-off-items", "xlsx"))
    assert items[1][items[0].index("Action")] == "'" + FORMULA
    items_csv = csv_rows(download(client, "work-off-items", "csv"))
    assert items_csv[1][items_csv[0].index("Action")] == "'" + FORMULA


def test_downloads_hold_only_what_the_user_may_see(build, member, other_member, other_org, signed_in):
    own = build(2)
    build(2, organisation=other_org, actor=other_member)
    client = signed_in(member)
    for name in ("pipeline", "applications"):
        references = {r[0] for r in xlsx_rows(download(client, name, "xlsx"))[1:]}
        assert references == {a.reference for a in own}
    workoff = xlsx_rows(download(client, "work-off-items", "xlsx"))[1:]
    assert {r[1] for r in workoff} <= {a.reference for a in own}
    searched = xlsx_rows(download(client, "search", "xlsx", q="pit-results"))[1:]
    assert len(searched) == 2 and all(other_org.name not in str(r) for r in searched)


def test_downloads_keep_the_filters_of_their_page(build, analyst, signed_in, staff):
    build(5)
    client = signed_in(analyst)
    sit = xlsx_rows(download(client, "pipeline", "xlsx", route="sit"))[1:]
    assert len(sit) == Application.objects.filter(route__code="sit").count() == 4
    in_approval = xlsx_rows(download(client, "applications", "xlsx", status="in_approval"))[1:]
    assert {r[5] for r in in_approval} == {"In approval"} and len(in_approval) == 2
    # The applications list ignores a value it does not offer, as its page does.
    assert len(xlsx_rows(download(client, "applications", "xlsx", status="nonsense"))) == 6
    overdue = xlsx_rows(download(client, "work-off-items", "xlsx", overdue="yes"))[1:]
    assert len(overdue) == 1 and overdue[0][11] == "yes"
    queue = xlsx_rows(download(signed_in(staff(Role.DIP_MANAGER)), "work-queue", "xlsx"))
    assert {r[0] for r in queue[1:]} == {"DIP Manager approval"}
    rec = xlsx_rows(download(signed_in(staff(Role.REC_CODE_MANAGER)), "rec-queue", "xlsx"))
    assert len(rec) == 3 and rec[0][0] == "Application"


def test_bad_downloads_are_refused(analyst, signed_in):
    client = signed_in(analyst)
    assert client.get("/downloads/everything.csv").status_code == 404
    assert client.get("/downloads/pipeline.pdf").status_code == 404
    refused = client.get("/downloads/pipeline.csv", {"wave": "no-such-wave"})
    assert refused.status_code == 400 and "Choose a QT wave from the list" in refused.content.decode()
    too_long = client.get("/downloads/search.xlsx", {"q": "x" * 200})
    assert too_long.status_code == 400
    assert "100 characters or fewer" in too_long.content.decode()
