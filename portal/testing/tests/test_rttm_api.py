"""The RTTM API: read the matrix, set rows (all or nothing), capture, list, read and compare
snapshots, download the matrix or a snapshot; errors as `{code, message, details}`; another
organisation's application answers 404."""

import pytest

from portal.accounts.roles import Role
from portal.api.tests.conftest import assert_error
from portal.notifications.models import Notification
from portal.testing.models import RttmEntry, RttmSnapshot
from portal.testing.tests.catalogue_support import XLSX, read_workbook, state

pytestmark = pytest.mark.django_db


@pytest.fixture
def pit_app(make_application):
    return make_application(route="sit")


def rttm(application, rest=""):
    return f"/api/v1/applications/{application.pk}/rttm{rest}"


def put(client, path, payload):
    return client.client.put(path, payload, content_type="application/json", headers=client.headers)


def test_reading_the_matrix(api_as, member, staff, pit_app):
    body = api_as(member).get(rttm(pit_app)).json()
    assert body["application"]["id"] == pit_app.pk
    assert body["can_edit"] is True and body["can_capture"] == ["pit_entry", "pit_exit"]
    assert body["total"] == len(body["rows"]) and body["uncovered"] == sum(1 for r in body["rows"] if not r["covered"])
    row = next(r for r in body["rows"] if r["requirement"] == "REQ-FUN-001")
    assert [c["identifier"] for c in row["qt_cases"]] == ["QTC-FUN-01-01", "QTC-FUN-01-02"]
    assert row["qt_cases"][0] == {
        "identifier": "QTC-FUN-01-01",
        "version": 1,
        "title": "Gaining supplier registers an MPAN on change of supplier",
        "mandatory": True,
    }
    assert [r["requirement"] for r in body["rows"]] == sorted(r["requirement"] for r in body["rows"])
    staff_view = api_as(staff(Role.TESTING_ASSURANCE)).get(rttm(pit_app)).json()
    assert staff_view["can_edit"] is False and staff_view["can_capture"] == []


def test_setting_rows(api_as, member, pit_app):
    response = put(
        api_as(member),
        rttm(pit_app),
        {
            "entries": [
                {"requirement": "REQ-OPS-003", "pit_tests": ["PIT-OPS-1", "PIT-OPS-2"], "qad_reference": "3.4"},
                {"requirement": "req-ops-004", "note": "Tested at the yearly failover."},
            ]
        },
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"changed": ["REQ-OPS-003", "REQ-OPS-004"], "unchanged": 0}
    assert RttmEntry.objects.get(requirement__identifier="REQ-OPS-003").pit_tests == "PIT-OPS-1, PIT-OPS-2"
    row = next(r for r in api_as(member).get(rttm(pit_app)).json()["rows"] if r["requirement"] == "REQ-OPS-003")
    assert row["covered"] is True and row["qad_reference"] == "3.4"


def test_capturing_listing_reading_and_comparing(api_as, member, staff, pit_app):
    programme = staff(Role.PROGRAMME_ASSURANCE)
    client = api_as(member)
    response = client.post(rttm(pit_app, "/snapshots"), {"checkpoint": "pit_entry"})
    assert response.status_code == 201, response.content
    first = response.json()
    assert first["checkpoint"] == "pit_entry" and first["checkpoint_label"] == "PIT entry" and first["version"] == 1
    assert len(first["rows"]) == first["row_count"] and len(first["sha256"]) == 64
    assert Notification.objects.filter(recipient=programme, subject__startswith="RTTM at PIT entry captured").exists()

    put(client, rttm(pit_app), {"entries": [{"requirement": "REQ-OPS-003", "pit_tests": ["PIT-OPS-1"]}]})
    second = client.post(rttm(pit_app, "/snapshots"), {"checkpoint": "pit_exit"}).json()
    listed = client.get(rttm(pit_app, "/snapshots")).json()
    assert [s["id"] for s in listed] == [second["id"], first["id"]]
    assert api_as(programme).get(rttm(pit_app, f"/snapshots/{first['id']}")).json()["sha256"] == first["sha256"]

    comparison = client.get(
        rttm(pit_app, "/compare"), {"from_snapshot": first["id"], "to_snapshot": second["id"]}
    ).json()
    assert comparison["before"]["id"] == first["id"] and comparison["after"]["id"] == second["id"]
    assert comparison["added"] == [] and comparison["removed"] == []
    assert comparison["changed"] == [
        {
            "requirement": "REQ-OPS-003",
            "changes": [
                {"field": "pit_tests", "before": [], "after": ["PIT-OPS-1"]},
                {"field": "covered", "before": False, "after": True},
            ],
        }
    ]
    assert comparison["unchanged"] == first["row_count"] - 1


def test_downloads(api_as, member, pit_app):
    client = api_as(member)
    snapshot = client.post(rttm(pit_app, "/snapshots"), {"checkpoint": "pit_entry"}).json()
    response = client.get(rttm(pit_app, "/export"))
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    assert response["Content-Disposition"].startswith(f'attachment; filename="RTTM {pit_app.reference}')
    response = client.get(rttm(pit_app, "/export"), {"snapshot_id": snapshot["id"]})
    assert dict(read_workbook(response.content)["Snapshot"])["SHA-256 of the rows"] == snapshot["sha256"]
    assert_error(client.get(rttm(pit_app, "/export"), {"snapshot_id": snapshot["id"] + 1}), 404, "not_found")


def test_refusals_change_nothing(api_as, member, other_member, staff, pit_app):
    before = state()
    outsider = api_as(other_member)
    assert_error(outsider.get(rttm(pit_app)), 404, "not_found")
    assert_error(put(outsider, rttm(pit_app), {"entries": [{"requirement": "REQ-FUN-001"}]}), 404, "not_found")
    assert_error(outsider.post(rttm(pit_app, "/snapshots"), {"checkpoint": "pit_entry"}), 404, "not_found")
    assert_error(outsider.get(rttm(pit_app, "/snapshots")), 404, "not_found")
    assert_error(outsider.get(rttm(pit_app, "/export")), 404, "not_found")
    programme = api_as(staff(Role.PROGRAMME_ASSURANCE))
    assert_error(programme.post(rttm(pit_app, "/snapshots"), {"checkpoint": "pit_entry"}), 403, "permission_denied")
    assert_error(
        put(programme, rttm(pit_app), {"entries": [{"requirement": "REQ-FUN-001", "pit_tests": ["X"]}]}),
        403,
        "permission_denied",
    )
    client = api_as(member)
    assert_error(client.post(rttm(pit_app, "/snapshots"), {"checkpoint": "qt_entry"}), 409, "invalid_transition")
    assert_error(client.post(rttm(pit_app, "/snapshots"), {"checkpoint": "later"}), 422, "invalid_input")
    body = assert_error(
        put(
            client,
            rttm(pit_app),
            {"entries": [{"requirement": "REQ-FUN-001", "pit_tests": ["X"]}, {"requirement": "REQ-NOPE"}]},
        ),
        422,
        "invalid_input",
    )
    assert body["details"]["field"] == "entries.1.requirement"
    assert_error(put(client, rttm(pit_app), {"entries": []}), 422, "invalid_input")
    assert_error(
        put(client, rttm(pit_app), {"entries": [{"requirement": "REQ-FUN-001", "pit_tests": ["P" * 61]}]}),
        422,
        "invalid_input",
    )
    assert_error(client.get(rttm(pit_app, "/snapshots/1")), 404, "not_found")
    assert_error(client.get(rttm(pit_app, "/compare"), {"from_snapshot": 1, "to_snapshot": 2}), 404, "not_found")
    assert state() == before
    assert not RttmSnapshot.objects.exists()
