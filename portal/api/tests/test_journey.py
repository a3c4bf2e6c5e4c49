"""A Non-SIT Supplier application from registration to active, driven only through the API, each
person with their own token, each checking first that the step is waiting for them and offered to them.

The content each task holds (the PQS form, the PIT checklist, DIP onboarding, the QAD answers and the
Director's password signature) has its own endpoints and rules in its own app; this walk sets those
rules aside (`generic_workflow`) and exercises the process itself: who acts, in which order, and how
the application's status follows."""

import pytest

from portal.accounts.roles import Role
from portal.audit.services import audit_verify
from portal.qualification.models import Application

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("generic_workflow")]


def test_non_sit_supplier_from_registration_to_active(api_as, member, director, staff, org):
    participant = api_as(member)
    signer = api_as(director)
    analyst = api_as(staff(Role.ELEXON_ANALYST))
    programme = api_as(staff(Role.PROGRAMME_ASSURANCE))
    dip = api_as(staff(Role.DIP_MANAGER))
    testing = api_as(staff(Role.TESTING_ASSURANCE))
    pab = api_as(staff(Role.PAB_SECRETARY))
    rec = api_as(staff(Role.REC_CODE_MANAGER))
    activation = api_as(staff(Role.SERVICE_ACTIVATION))

    response = participant.post(
        "/api/v1/applications",
        {"organisation_id": org.pk, "mpid": "NLEN", "market_role": "SUP", "route": "non_sit_supplier_agent"},
    )
    assert response.status_code == 201, response.content
    application_id = response.json()["id"]
    base = f"/api/v1/applications/{application_id}"

    def status() -> str:
        return str(participant.get(base).json()["status"])

    def step(client, code: str, action: str, comment: str = "", expect: str | None = None) -> None:
        queue = client.get("/api/v1/work-queue", {"limit": 200}).json()["items"]
        waiting = {(item["application"]["id"], item["code"]) for item in queue}
        assert (application_id, code) in waiting, f"{code} is not in the work queue of the one who must act"
        task = client.get(f"{base}/tasks/{code}").json()
        assert action in {a["action"] for a in task["available_actions"]}, (code, task["available_actions"])
        response = client.post(f"{base}/tasks/{code}/transitions", {"action": action, "comment": comment})
        assert response.status_code == 200, response.content
        if expect is not None:
            assert response.json()["state"] == expect, (code, response.json()["state"])

    # Preparation: PQS and placing reliance, then PIT and DIP onboarding in parallel, then the Initial QAD.
    step(participant, "pqs", "submit", "Wave 2; placing reliance on our agent's testing.", expect="submitted")
    step(analyst, "pqs", "accept", "Reliance accepted.", expect="completed")
    step(participant, "pit", "submit", "PIT exit criteria met.")
    step(participant, "dip_onboarding", "submit", "DIP ID 1234567890.")
    step(programme, "pit", "accept", expect="completed")
    step(dip, "dip_onboarding", "accept", expect="completed")
    step(participant, "initial_qad", "submit")
    step(analyst, "initial_qad", "request_changes", "Section 3 is missing the RTTM.", expect="changes_requested")
    step(participant, "initial_qad", "submit", "Section 3 added.", expect="submitted")
    step(analyst, "initial_qad", "accept", expect="completed")
    assert status() == "in_testing"

    # Qualification Testing; every test completed, so no work-off plan is needed.
    step(participant, "qt", "submit", "Test completion report attached.")
    step(testing, "qt", "accept", expect="completed")
    step(participant, "workoff", "mark_not_required", "Every test case passed.", expect="not_required")
    assert status() == "final_qad"

    # Final QAD, agreed complete, signed by a Company Director.
    step(participant, "final_qad", "submit")
    step(analyst, "final_qad", "accept", expect="completed")
    step(signer, "director_signoff", "sign", expect="completed")
    assert status() == "in_approval"

    # A Supplier needs all three bodies.
    step(dip, "approval_dip_manager", "approve", expect="completed")
    step(pab, "approval_bsc_pab", "approve_with_conditions", "Monitor settlement performance for 3 months.")
    assert status() == "in_approval"
    step(rec, "approval_rec_code_manager", "approve", expect="completed")
    assert status() == "qualified"

    step(activation, "service_activation", "start", expect="in_progress")
    assert status() == "in_service_activation"
    step(activation, "service_activation", "complete", expect="completed")

    final = participant.get(base).json()
    assert final["status"] == "active"
    assert final["qualified_at"] is not None and final["activated_at"] is not None
    assert all(task["state"] in {"completed", "not_required"} for task in final["tasks"])
    assert all(task["waiting_on"] is None for task in final["tasks"])
    pab_task = participant.get(f"{base}/tasks/approval_bsc_pab").json()
    assert pab_task["decision"] == "approved_with_conditions"
    assert Application.objects.get(pk=application_id).status == "active"
    assert audit_verify().ok
    # Nobody has anything left to do on it.
    for client in (participant, signer, analyst, programme, dip, testing, pab, rec, activation):
        queue = client.get("/api/v1/work-queue").json()["items"]
        assert all(item["application"]["id"] != application_id for item in queue)
    subjects = [n["subject"] for n in participant.get("/api/v1/notifications", {"limit": 200}).json()["items"]]
    assert any("is MHHS Qualified" in subject for subject in subjects)
