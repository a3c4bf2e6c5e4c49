import pytest

from portal.accounts.roles import Role
from portal.api.tests.conftest import assert_error, counts
from portal.audit.models import AuditEvent
from portal.factories import MpidFactory
from portal.qualification.models import Application
from portal.qualification.workflow import ApplicationStatus

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("generic_workflow")]

SUPPLIER = {"mpid": "NLEN", "market_role": "SUP", "route": "non_sit_supplier_agent"}


# --- list --------------------------------------------------------------------------------------


def test_list_shows_only_the_callers_organisation(api_as, member, other_member, other_org, make_application):
    own = make_application()
    make_application(organisation=other_org, actor=other_member)
    body = api_as(member).get("/api/v1/applications").json()
    assert body["count"] == 1
    assert [item["id"] for item in body["items"]] == [own.pk]
    item = body["items"][0]
    assert item["reference"] == own.reference
    assert item["mpid"] == "NLEN"
    assert item["market_role"] == {"code": "SUP", "name": "Supplier"}
    assert item["route"]["code"] == "non_sit_supplier_agent"
    assert item["organisation"] == {"id": own.organisation_id, "name": "Northern Lights Energy Ltd"}
    assert item["status"] == "in_preparation"


def test_list_for_staff_who_follow_every_application(api_as, staff, other_member, other_org, make_application):
    make_application()
    make_application(organisation=other_org, actor=other_member)
    assert api_as(staff(Role.ELEXON_ANALYST)).get("/api/v1/applications").json()["count"] == 2


def test_list_for_staff_of_a_body_shows_only_roles_it_approves(api_as, staff, org, make_application):
    make_application()  # a Supplier needs BSC PAB approval
    MpidFactory(organisation=org, code="NLMM")
    make_application(market_role="MEM", mpid="NLMM")  # MOA/MEM does not
    body = api_as(staff(Role.PAB_SECRETARY)).get("/api/v1/applications").json()
    assert [item["market_role"]["code"] for item in body["items"]] == ["SUP"]


def test_list_for_a_user_with_no_role_is_empty(api_as, make_application):
    from portal.factories import UserFactory

    make_application()
    assert api_as(UserFactory()).get("/api/v1/applications").json()["count"] == 0


def test_list_filters(api_as, member, org, make_application):
    MpidFactory(organisation=org, code="NLMM")
    supplier = make_application()
    mem = make_application(market_role="MEM", mpid="NLMM", route="sit")
    client = api_as(member)

    def ids(**params):
        return [item["id"] for item in client.get("/api/v1/applications", params).json()["items"]]

    assert ids(route="sit") == [mem.pk]
    assert ids(search="NLEN") == [supplier.pk]
    assert ids(search="Northern") == sorted([supplier.pk, mem.pk], reverse=True)
    assert ids(status="in_preparation", route="non_sit_supplier_agent") == [supplier.pk]
    assert ids(status="active") == []


def test_list_is_paginated_with_a_total_count(api_as, member, org, make_application):
    for code in ("NLMA", "NLMB"):
        MpidFactory(organisation=org, code=code)
    made = [make_application(), make_application(mpid="NLMA"), make_application(mpid="NLMB")]
    body = api_as(member).get("/api/v1/applications", {"limit": 2, "offset": 1}).json()
    assert (body["count"], body["limit"], body["offset"]) == (3, 2, 1)
    assert len(body["items"]) == 2
    assert {item["id"] for item in body["items"]} < {a.pk for a in made}


def test_list_refuses_bad_filters(api_as, member):
    assert_error(api_as(member).get("/api/v1/applications", {"status": "shiny"}), 422, "invalid_input")
    assert_error(api_as(member).get("/api/v1/applications", {"offset": -1}), 422, "invalid_input")


# --- create ------------------------------------------------------------------------------------


def test_create_registers_the_application_with_its_tasks(api_as, member, org):
    response = api_as(member).post("/api/v1/applications", {"organisation_id": org.pk, **SUPPLIER})
    assert response.status_code == 201, response.content
    body = response.json()
    application = Application.objects.get(pk=body["id"])
    assert application.created_by == member
    assert body["status"] == "in_preparation"
    assert body["created_by"] == "Priya Member"
    codes = [task["code"] for task in body["tasks"]]
    assert codes[:4] == ["pqs", "pit", "dip_onboarding", "initial_qad"]
    assert {"approval_dip_manager", "approval_bsc_pab", "approval_rec_code_manager"} <= set(codes)
    pqs = body["tasks"][0]
    assert pqs["state"] == "not_started"
    assert pqs["waiting_on"] == "actor"
    assert pqs["waiting_on_roles"] == ["participant_member"]
    assert [a["action"] for a in pqs["available_actions"]] == ["start", "submit"]
    assert AuditEvent.objects.filter(action="application.create", application_id=application.pk).exists()


def test_create_accepts_a_lower_case_mpid(api_as, member, org):
    response = api_as(member).post("/api/v1/applications", {"organisation_id": org.pk, **SUPPLIER, "mpid": "nlen"})
    assert response.status_code == 201
    assert response.json()["mpid"] == "NLEN"


def test_create_for_another_organisation_answers_404(api_as, member, other_org):
    before = counts()
    response = api_as(member).post(
        "/api/v1/applications", {"organisation_id": other_org.pk, **SUPPLIER, "mpid": "RIVP"}
    )
    assert_error(response, 404, "not_found")
    assert counts() == before


def test_create_by_staff_answers_403(api_as, staff, org):
    # Staff belong to no participant organisation: refused for their role, as on the web page.
    before = counts()
    response = api_as(staff(Role.ELEXON_ANALYST)).post("/api/v1/applications", {"organisation_id": org.pk, **SUPPLIER})
    assert_error(response, 403, "permission_denied")
    assert counts() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"mpid": "RIVP"}, "mpid"),
        ({"market_role": "NOPE"}, "market_role"),
        ({"route": "nowhere"}, "route"),
        ({"route": "non_sit_ldso"}, "route"),
        ({"route": "new_entrant_ldso", "market_role": "LDSO"}, "route"),
    ],
)
def test_create_refuses_bad_choices(api_as, member, org, other_org, change, field):
    before = counts()
    response = api_as(member).post("/api/v1/applications", {"organisation_id": org.pk, **SUPPLIER, **change})
    body = assert_error(response, 422, "invalid_input")
    assert body["details"] == {"field": field}
    assert counts() == before


def test_create_refuses_malformed_input(api_as, member, org):
    before = counts()
    response = api_as(member).post("/api/v1/applications", {"organisation_id": org.pk, **SUPPLIER, "mpid": "TOOLONG"})
    body = assert_error(response, 422, "invalid_input")
    assert body["details"]["errors"][0]["field"] == "mpid"
    assert_error(api_as(member).post("/api/v1/applications", {}), 422, "invalid_input")
    assert counts() == before


def test_create_refuses_a_second_open_application_for_the_same_mpid_and_role(api_as, member, org, make_application):
    make_application()
    before = counts()
    response = api_as(member).post("/api/v1/applications", {"organisation_id": org.pk, **SUPPLIER})
    assert_error(response, 409, "conflict")
    assert counts() == before


# --- read --------------------------------------------------------------------------------------


def test_get_shows_tasks_and_the_callers_actions(api_as, member, staff, make_application, advance):
    application = advance(make_application(), stop_at_state=("pqs", "submitted"))
    body = api_as(member).get(f"/api/v1/applications/{application.pk}").json()
    pqs = next(t for t in body["tasks"] if t["code"] == "pqs")
    assert pqs["state"] == "submitted"
    assert pqs["waiting_on"] == "assurer"
    assert pqs["available_actions"] == []
    analyst_view = api_as(staff(Role.ELEXON_ANALYST)).get(f"/api/v1/applications/{application.pk}").json()
    pqs = next(t for t in analyst_view["tasks"] if t["code"] == "pqs")
    assert {a["action"] for a in pqs["available_actions"]} == {"accept", "request_changes"}
    request_changes = next(a for a in pqs["available_actions"] if a["action"] == "request_changes")
    assert request_changes == {"action": "request_changes", "label": "Request changes", "comment_required": True}


def test_get_another_organisations_application_answers_exactly_like_a_missing_one(
    api_as, other_member, make_application
):
    application = make_application()
    client = api_as(other_member)
    hidden = client.get(f"/api/v1/applications/{application.pk}")
    missing = client.get(f"/api/v1/applications/{application.pk + 1000}")
    assert_error(hidden, 404, "not_found")
    assert hidden.json() == missing.json()


def test_get_for_staff_of_a_body_not_approving_the_role_answers_404(api_as, staff, org, make_application):
    MpidFactory(organisation=org, code="NLMM")
    application = make_application(market_role="MEM", mpid="NLMM")
    assert_error(api_as(staff(Role.PAB_CHAIR)).get(f"/api/v1/applications/{application.pk}"), 404, "not_found")


# --- withdraw ----------------------------------------------------------------------------------


def test_withdraw(api_as, member, make_application):
    application = make_application()
    response = api_as(member).post(f"/api/v1/applications/{application.pk}/withdraw", {"reason": "Merged with a peer."})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "withdrawn"
    assert body["closed_reason"] == "Merged with a peer."
    assert all(task["available_actions"] == [] and task["waiting_on"] is None for task in body["tasks"])


def test_withdraw_by_staff_answers_403(api_as, staff, make_application):
    application = make_application()
    before = counts()
    response = api_as(staff(Role.ELEXON_ANALYST)).post(
        f"/api/v1/applications/{application.pk}/withdraw", {"reason": "No."}
    )
    assert_error(response, 403, "permission_denied")
    assert counts() == before


def test_withdraw_another_organisations_application_answers_404(api_as, other_member, make_application):
    application = make_application()
    before = counts()
    response = api_as(other_member).post(f"/api/v1/applications/{application.pk}/withdraw", {"reason": "Mischief."})
    assert_error(response, 404, "not_found")
    assert counts() == before


@pytest.mark.parametrize("payload", [{"reason": "   "}, {}, {"reason": "x" * 5001}])
def test_withdraw_needs_a_reason(api_as, member, make_application, payload):
    application = make_application()
    before = counts()
    response = api_as(member).post(f"/api/v1/applications/{application.pk}/withdraw", payload)
    assert_error(response, 422, "invalid_input")
    assert counts() == before


def test_withdraw_twice_answers_409(api_as, member, make_application):
    application = make_application()
    client = api_as(member)
    client.post(f"/api/v1/applications/{application.pk}/withdraw", {"reason": "Merged."})
    before = counts()
    assert_error(
        client.post(f"/api/v1/applications/{application.pk}/withdraw", {"reason": "Again."}), 409, "invalid_transition"
    )
    assert counts() == before


# --- non-completion ----------------------------------------------------------------------------


def test_non_completion_by_a_code_body(api_as, staff, make_application):
    application = make_application()
    response = api_as(staff(Role.ELEXON_ANALYST)).post(
        f"/api/v1/applications/{application.pk}/non-completion", {"reason": "No response in 6 months."}
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == ApplicationStatus.NON_COMPLETION


def test_non_completion_by_the_participant_answers_403(api_as, member, make_application):
    application = make_application()
    before = counts()
    response = api_as(member).post(f"/api/v1/applications/{application.pk}/non-completion", {"reason": "Hmm."})
    assert_error(response, 403, "permission_denied")
    assert counts() == before


def test_non_completion_by_a_body_not_seeing_the_application_answers_404(api_as, staff, org, make_application):
    MpidFactory(organisation=org, code="NLDS")
    application = make_application(market_role="ADS", mpid="NLDS")  # Data Services need no REC approval
    response = api_as(staff(Role.REC_CODE_MANAGER)).post(
        f"/api/v1/applications/{application.pk}/non-completion", {"reason": "Stalled."}
    )
    assert_error(response, 404, "not_found")


def test_non_completion_after_qualification_answers_409(api_as, staff, make_application, advance):
    application = advance(make_application(), stop_before="service_activation")
    assert application.status == ApplicationStatus.QUALIFIED
    before = counts()
    response = api_as(staff(Role.ELEXON_ANALYST)).post(
        f"/api/v1/applications/{application.pk}/non-completion", {"reason": "Too late."}
    )
    assert_error(response, 409, "invalid_transition")
    assert counts() == before


def test_non_completion_needs_a_reason(api_as, staff, make_application):
    application = make_application()
    before = counts()
    response = api_as(staff(Role.ELEXON_ANALYST)).post(f"/api/v1/applications/{application.pk}/non-completion", {})
    assert_error(response, 422, "invalid_input")
    assert counts() == before
