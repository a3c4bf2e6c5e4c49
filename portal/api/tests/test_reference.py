import pytest

from portal.api.tests.conftest import assert_error
from portal.participants.models import ApprovalRequirement
from portal.qualification.process import ROUTES

pytestmark = pytest.mark.django_db


def test_routes_with_their_task_definitions(api_as, member):
    body = api_as(member).get("/api/v1/reference/routes").json()
    assert body["count"] == len(ROUTES)
    routes = {route["code"]: route for route in body["items"]}
    non_sit = routes["non_sit_supplier_agent"]
    assert non_sit["role_groups"] == ["supplier", "mem", "data_service"]
    spec = next(r for r in ROUTES if r.code == "non_sit_supplier_agent")
    assert [task["code"] for task in non_sit["tasks"]] == [t.code for t in spec.tasks]
    pit = next(task for task in non_sit["tasks"] if task["code"] == "pit")
    assert pit["depends_on"] == ["pqs"]
    assert pit["actor_roles"] == ["participant_member"]
    assert pit["assurer_roles"] == ["programme_assurance"]
    assert pit["approval_body"] is None
    pab = next(task for task in non_sit["tasks"] if task["code"] == "approval_bsc_pab")
    assert (pab["kind"], pab["approval_body"]) == ("approval", "bsc_pab")
    assert routes["new_entrant_ldso"]["new_entrants_only"] is True


def test_market_roles(api_as, staff):
    from portal.accounts.roles import Role

    body = api_as(staff(Role.DIP_MANAGER)).get("/api/v1/reference/market-roles").json()
    roles = {role["code"]: role for role in body["items"]}
    assert set(roles) == {"SUP", "LDSO", "MEM", "ADS", "SDS", "UMSDS"}
    assert roles["ADS"]["role_group"] == {"code": "data_service", "name": "Data Service"}


def test_approval_matrix_is_the_stored_data(api_as, member):
    body = api_as(member).get("/api/v1/reference/approval-matrix").json()
    rows = {row["role_group"]["code"]: row for row in body["items"]}
    assert [b["code"] for b in rows["mem"]["bodies"]] == ["dip_manager", "rec_code_manager"]
    assert rows["data_service"]["market_roles"] == ["ADS", "SDS", "UMSDS"]
    assert rows["supplier"]["bodies"][0] == {"code": "bsc_pab", "name": "BSC PAB"}
    # The matrix is data: a change is answered at once.
    ApprovalRequirement.objects.filter(role_group__code="mem", body="rec_code_manager").delete()
    body = api_as(member).get("/api/v1/reference/approval-matrix").json()
    rows = {row["role_group"]["code"]: row for row in body["items"]}
    assert [b["code"] for b in rows["mem"]["bodies"]] == ["dip_manager"]


def test_reference_data_needs_authentication(anonymous):
    for path in ("routes", "market-roles", "approval-matrix"):
        assert_error(anonymous.get(f"/api/v1/reference/{path}"), 401, "not_authenticated")


def test_reference_lists_are_paginated(api_as, member):
    body = api_as(member).get("/api/v1/reference/market-roles", {"limit": 2, "offset": 2}).json()
    assert (body["count"], body["limit"], body["offset"]) == (6, 2, 2)
    assert [role["code"] for role in body["items"]] == ["MEM", "ADS"]
    assert_error(api_as(member).get("/api/v1/reference/routes", {"limit": 1000}), 422, "invalid_input")
