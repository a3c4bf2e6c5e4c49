"""The public register pages and files: readable without signing in (and nothing else is), the current
register in two sections with filters, every change in the history, and the CSV and JSON files, whose
text cannot run as a spreadsheet formula."""

import csv
import io
import json
from datetime import date
from typing import cast

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from portal.accounts.roles import Role
from portal.factories import MpidFactory, OrganisationFactory, make_member
from portal.participants.models import MarketRole, Organisation
from portal.qualification.models import Application
from portal.registry.models import EntryStatus, Register, RegisterEntry
from portal.registry.selectors import EXPORT_FIELDS, register_role_choices
from portal.registry.services import register_record
from portal.registry.views import HISTORY_PAGE_SIZE, REGISTER_PAGE_SIZE

pytestmark = pytest.mark.django_db

CONDITIONS = "Close work-off item WO-3 by 1 March 2027."


@pytest.fixture
def anonymous() -> Client:
    return Client()


@pytest.fixture
def record(make_application, staff):
    """`record(organisation_name, mpid, market_role, register, status)`: an entry, as the effects would
    record it, for an application of a new organisation."""

    def make(name: str, mpid: str, market_role: str, register: str, status: str, **kwargs) -> RegisterEntry:
        organisation = Organisation.objects.filter(name=name).first() or cast(
            Organisation, OrganisationFactory(name=name)
        )
        if not organisation.mpids.filter(code=mpid).exists():
            MpidFactory(organisation=organisation, code=mpid)
        application = Application.objects.filter(mpid__code=mpid, market_role__code=market_role).first()
        if application is None:
            application = make_application(
                organisation=organisation,
                mpid=mpid,
                market_role=market_role,
                route="sit",
                actor=make_member(organisation),
            )
        return register_record(
            actor=staff(Role.REC_CODE_MANAGER), application=application, register=register, status=status, **kwargs
        )

    return make


@pytest.fixture
def register(record):
    """A small register: a supplier approved by REC and qualified, a MEM active, an ADS qualified."""
    record(
        "Aurora Supply Ltd",
        "AURS",
        "SUP",
        Register.REC_PARTY,
        EntryStatus.REC_APPROVED,
        effective_date=date(2027, 1, 4),
    )
    record("Aurora Supply Ltd", "AURS", "SUP", Register.MHHS, EntryStatus.QUALIFIED, effective_date=date(2027, 1, 5))
    record(
        "Borealis Metering Ltd",
        "BORM",
        "MEM",
        Register.REC_PARTY,
        EntryStatus.REC_APPROVED,
        conditions=CONDITIONS,
        effective_date=date(2027, 1, 6),
    )
    record("Borealis Metering Ltd", "BORM", "MEM", Register.MHHS, EntryStatus.QUALIFIED, conditions=CONDITIONS)
    record("Borealis Metering Ltd", "BORM", "MEM", Register.MHHS, EntryStatus.ACTIVE, effective_date=date(2027, 2, 1))
    record("Cirrus Data Services", "CIRD", "ADS", Register.MHHS, EntryStatus.QUALIFIED, effective_date=date(2027, 2, 2))


# --- who may read what ---------------------------------------------------------------------------------


def test_the_register_is_public_and_nothing_else_is(anonymous, register):
    for url in ("/register/", "/register/history/", "/register.csv", "/register.json", "/api/v1/register"):
        assert anonymous.get(url).status_code == 200, url
    for url in ("/applications/", "/", "/inbox/", "/applications/1/"):
        response = anonymous.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url
    assert anonymous.get("/api/v1/applications").status_code == 401


def test_the_register_is_linked_from_every_page(anonymous, client, member):
    assert 'href="/register/"' in anonymous.get("/accounts/login/").content.decode()
    client.force_login(member)
    assert 'href="/register/"' in client.get("/applications/").content.decode()


def test_the_register_shows_nothing_but_the_register(anonymous, register):
    page = anonymous.get("/register/").content.decode()
    for private in (CONDITIONS, "QA-0", "@", "/applications/"):
        assert private not in page.replace("/accounts/login/", ""), private


def test_only_get_is_answered(anonymous):
    assert anonymous.post("/register/").status_code == 405
    assert anonymous.post("/register.csv").status_code == 405


# --- the current register ------------------------------------------------------------------------------


def sections(page: str) -> tuple[str, str]:
    rec, mhhs = page.split('<h2 class="govuk-heading-l" id="rec_party">REC Party Register</h2>')[1].split(
        '<h2 class="govuk-heading-l" id="mhhs">MHHS qualified participants</h2>'
    )
    return rec, mhhs


def test_the_register_shows_each_mpid_and_role_as_it_stands_in_two_sections(anonymous, register):
    response = anonymous.get("/register/")

    assert response.status_code == 200
    rec, mhhs = sections(response.content.decode())
    assert "Aurora Supply Ltd" in rec and "Borealis Metering Ltd" in rec and "Cirrus" not in rec
    assert "Approved by the REC Code Manager" in rec
    assert "With conditions" in rec
    assert "4 Jan 2027" in rec and "6 Jan 2027" in rec
    assert "Supplier<br>" in rec and ">SUP</span>" in rec
    assert rec.count("govuk-table__row") == 3  # the head and two entries
    assert mhhs.count("govuk-table__row") == 4  # the head and three entries
    assert "Active (Service Activation complete)" in mhhs
    assert "1 Feb 2027" in mhhs
    # Borealis is active now: its earlier "qualified" entry is history, not the register.
    borealis = mhhs.split("Borealis Metering Ltd")[1].split("</tr>")[0]
    assert "MHHS Qualified" not in borealis and "Active" in borealis


def test_the_register_is_filtered_by_role_and_status(anonymous, register):
    rec, mhhs = sections(anonymous.get("/register/", {"role": "MEM"}).content.decode())
    assert "Borealis" in rec and "Borealis" in mhhs
    assert "Aurora" not in rec + mhhs and "Cirrus" not in rec + mhhs

    rec, mhhs = sections(anonymous.get("/register/", {"status": "qualified"}).content.decode())
    assert "No entries match these filters." in rec
    assert "Aurora" in mhhs and "Cirrus" in mhhs and "Borealis" not in mhhs

    rec, mhhs = sections(anonymous.get("/register/", {"role": "ADS", "status": "active"}).content.decode())
    assert "No entries match these filters." in rec and "No entries match these filters." in mhhs


def test_filters_that_are_not_offered_are_ignored(anonymous, register):
    response = anonymous.get("/register/", {"role": "<script>", "status": "approved"})
    assert response.status_code == 200
    rec, mhhs = sections(response.content.decode())
    assert "Aurora" in rec and "Cirrus" in mhhs
    assert "<script>" not in response.content.decode()


def test_the_register_is_searched_by_organisation_or_mpid(anonymous, register):
    rec, mhhs = sections(anonymous.get("/register/", {"search": "boreal"}).content.decode())
    assert "Borealis" in rec and "Borealis" in mhhs
    assert "Aurora" not in rec + mhhs and "Cirrus" not in rec + mhhs

    rec, mhhs = sections(anonymous.get("/register/", {"search": "aurs"}).content.decode())
    assert "Aurora" in rec and "Aurora" in mhhs and "Borealis" not in rec + mhhs

    rec, mhhs = sections(anonymous.get("/register/", {"search": "URS"}).content.decode())  # an MPID is matched whole
    assert "No entries match these filters." in rec and "No entries match these filters." in mhhs


def test_each_section_of_the_register_is_paged_on_its_own(anonymous, record):
    for n in range(REGISTER_PAGE_SIZE + 1):
        record(f"Organisation {n:03}", f"Q{n:03}", "SUP", Register.MHHS, "qualified")
    record("Aurora Supply Ltd", "AURS", "SUP", Register.REC_PARTY, "rec_approved")

    rec, first = sections(anonymous.get("/register/", {"status": "qualified"}).content.decode())
    assert f"{REGISTER_PAGE_SIZE + 1} entries, page 1 of 2" in first
    assert "Organisation 000" in first and f"Organisation {REGISTER_PAGE_SIZE:03}" not in first
    assert first.count("govuk-table__row") == REGISTER_PAGE_SIZE + 1
    # The next page keeps the filters and comes back to its own section.
    assert 'href="?status=qualified&amp;mhhs_page=2#mhhs"' in first
    assert "No entries match these filters." in rec

    rec, second = sections(anonymous.get("/register/", {"mhhs_page": "2"}).content.decode())
    assert "page 2 of 2" in second and f"Organisation {REGISTER_PAGE_SIZE:03}" in second
    assert "Organisation 000" not in second
    assert "Aurora" in rec  # the other section stays on its first page
    # A page that does not exist shows the last one.
    _, beyond = sections(anonymous.get("/register/", {"mhhs_page": "99"}).content.decode())
    assert "page 2 of 2" in beyond


def test_the_register_pages_in_a_fixed_number_of_queries(anonymous, record, django_assert_max_num_queries):
    for n in range(12):
        record(f"Organisation {n:03}", f"Q{n:03}", "SUP", Register.MHHS, "qualified")
    with django_assert_max_num_queries(6):
        assert anonymous.get("/register/").status_code == 200


def test_an_empty_register_says_so(anonymous):
    rec, mhhs = sections(anonymous.get("/register/").content.decode())
    assert "No entries yet." in rec and "No entries yet." in mhhs


# --- the history ---------------------------------------------------------------------------------------


def test_the_history_shows_every_entry_newest_first(anonymous, register):
    page = anonymous.get("/register/history/").content.decode()

    assert "6 entries" in page
    rows = page.split('<tbody class="govuk-table__body">')[1].split("</tr>")[:-1]
    assert [("Cirrus" in r, "Borealis" in r, "Aurora" in r) for r in rows] == [
        (True, False, False),
        (False, True, False),
        (False, True, False),
        (False, True, False),
        (False, False, True),
        (False, False, True),
    ]
    assert "Replaced" in rows[2] and "MHHS Qualified" in rows[2]  # Borealis's qualified entry
    assert "Replaced" not in rows[1]


def test_the_history_is_paginated_and_filtered(anonymous, record):
    for n in range(HISTORY_PAGE_SIZE + 1):
        mpid = "".join(chr(65 + (n // 26**i) % 26) for i in (3, 2, 1, 0))
        record(f"Organisation {n:03d}", mpid, "MEM", Register.REC_PARTY, EntryStatus.REC_APPROVED)

    first = anonymous.get("/register/history/").content.decode()
    second = anonymous.get("/register/history/", {"page": 2}).content.decode()

    assert f"{HISTORY_PAGE_SIZE + 1} entries, page 1 of 2" in first
    assert "Organisation 050" in first and "Organisation 000" not in first
    assert "Organisation 000" in second
    assert 'href="?page=2"' in first
    assert "No entries match" in anonymous.get("/register/history/", {"role": "SUP"}).content.decode()


# --- the files -----------------------------------------------------------------------------------------


def read_csv(response) -> list[dict[str, str]]:
    content = b"".join(response.streaming_content).decode("utf-8")
    assert content.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(content.lstrip("\ufeff"))))


def test_the_csv_holds_the_current_register(anonymous, register):
    response = anonymous.get("/register.csv")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="mhhs-register.csv"'
    rows = read_csv(response)
    assert list(rows[0]) == list(EXPORT_FIELDS)
    assert len(rows) == 5
    borealis = {r["register"]: r for r in rows if r["mpid"] == "BORM"}
    assert borealis["rec_party"] == {
        **borealis["rec_party"],
        "register_name": "REC Party Register",
        "organisation": "Borealis Metering Ltd",
        "market_role": "MEM",
        "market_role_name": "Metering Equipment Manager (MOA)",
        "status": "rec_approved",
        "status_name": "Approved by the REC Code Manager",
        "with_conditions": "yes",
        "effective_date": "2027-01-06",
        "is_current": "yes",
        "superseded_at": "",
        "previous_id": "",
    }
    assert borealis["mhhs"]["status"] == "active"
    assert borealis["mhhs"]["previous_id"] != ""
    assert all(CONDITIONS not in value for row in rows for value in row.values())


def test_the_csv_and_json_with_history_hold_every_entry(anonymous, register):
    rows = read_csv(anonymous.get("/register.csv", {"history": "1"}))
    document = anonymous.get("/register.json", {"history": "1"}).json()

    assert len(rows) == document["count"] == len(document["entries"]) == 6
    assert document["history"] is True
    assert [r["is_current"] for r in rows].count("no") == 1
    assert [e["id"] for e in document["entries"]] == [int(r["id"]) for r in rows]
    assert anonymous.get("/register.csv", {"history": "1"})["Content-Disposition"].endswith(
        'filename="mhhs-register-history.csv"'
    )


def test_the_json_holds_the_current_register(anonymous, register):
    response = anonymous.get("/register.json")

    assert response["Content-Type"] == "application/json"
    document = json.loads(response.content)
    assert document["history"] is False and document["count"] == 5
    cirrus = next(e for e in document["entries"] if e["mpid"] == "CIRD")
    assert cirrus == {
        "id": cirrus["id"],
        "register": "mhhs",
        "register_name": "MHHS qualification",
        "organisation": "Cirrus Data Services",
        "mpid": "CIRD",
        "market_role": "ADS",
        "market_role_name": "Advanced Data Service",
        "status": "qualified",
        "status_name": "MHHS Qualified",
        "with_conditions": False,
        "effective_date": "2027-02-02",
        "recorded_at": cirrus["recorded_at"],
        "is_current": True,
        "superseded_at": None,
        "previous_id": None,
    }
    assert CONDITIONS not in response.content.decode()


@pytest.mark.parametrize(
    "name",
    ['=HYPERLINK("http://evil.example","Click")', "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1"],
)
def test_text_in_the_csv_never_runs_as_a_formula(anonymous, record, name):
    record(name, "EVIL", "MEM", Register.REC_PARTY, EntryStatus.REC_APPROVED)

    (row,) = read_csv(anonymous.get("/register.csv"))

    assert row["organisation"] == "'" + name
    # The JSON carries the name as it is: no spreadsheet reads it.
    assert anonymous.get("/register.json").json()["entries"][0]["organisation"] == name


def test_the_role_filter_offers_every_role_once_including_roles_only_entries_still_name(anonymous, record):
    for n in range(3):
        record(f"Organisation {n:03}", f"Q{n:03}", "SUP", Register.MHHS, "qualified")
    record("Aurora Supply Ltd", "AURS", "ADS", Register.MHHS, "qualified")
    # The reference data renames a role; the entries keep the code and name they were recorded with.
    ads_name = MarketRole.objects.get(code="ADS").name
    MarketRole.objects.filter(code="ADS").update(code="OLD")
    with CaptureQueriesContext(connection) as queries:
        choices = register_role_choices()
    codes = [code for code, _ in choices]
    assert codes.count("SUP") == 1 and codes.count("ADS") == 1 and codes.count("OLD") == 1
    assert dict(choices)["ADS"] == ads_name
    # One row per role and name read, not one per entry.
    distinct = next(q["sql"] for q in queries.captured_queries if "DISTINCT" in q["sql"])
    assert "recorded_at" not in distinct
    page = anonymous.get("/register/").content.decode()
    assert page.count('<option value="ADS">') == 1
