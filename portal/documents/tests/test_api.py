"""The QAD through the HTTP API: template, answers with evidence, submit, versions and diff,
clarifications, signing with the password, verification, and delegates."""

import json
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from portal.accounts.roles import Role
from portal.accounts.services import api_token_create
from portal.audit.models import AuditEvent
from portal.documents.models import Clarification, DirectorSignature, EvidenceFile, QadAnswer, QadSubmission
from portal.documents.selectors import declaration_current
from portal.documents.testing_support import current_otp_code, qad_complete_answers
from portal.documents.tests.urls import API_PREFIX as API
from portal.factories import TEST_PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.urls("portal.documents.tests.urls")]

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"


class Api:
    def __init__(self, user):
        _, secret = api_token_create(actor=user, user=user, name=f"tests {uuid.uuid4().hex[:8]}")
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {secret}"}

    def get(self, path, params=None):
        return self.client.get(API + path, params or {}, headers=self.headers)

    def post(self, path, payload=None):
        return self.client.post(
            API + path, json.dumps(payload or {}), content_type="application/json", headers=self.headers
        )

    def upload(self, path, data):
        return self.client.post(API + path, data, headers=self.headers)

    def delete(self, path):
        return self.client.delete(API + path, headers=self.headers)


def error(response, status, code):
    assert response.status_code == status, response.content
    answer = response.json()
    assert set(answer) == {"code", "message", "details"} and answer["code"] == code, answer
    return answer


def stored():
    return (
        QadSubmission.objects.count(),
        QadAnswer.objects.count(),
        EvidenceFile.objects.count(),
        Clarification.objects.count(),
        DirectorSignature.objects.count(),
        AuditEvent.objects.exclude(action__startswith="api_token.").exclude(action="authz.denied").count(),
    )


def test_the_template(member):
    body = Api(member).get("/template").json()
    assert body["version"] == "1.0" and body["status"] == "active"
    assert len(body["sections"]) == 12
    dip = next(s for s in body["sections"] if s["number"] == "4.5")
    assert dip["questions"][0]["assessed_by"] == ["dip_manager"]
    assert dip["questions"][0]["role_groups"] == ["data_service", "ldso", "mem", "supplier"]
    error(Api(member).get("/template", {"version": "0.1"}), 404, "not_found")
    assert Api(member).get("/declaration").json()["version"] == declaration_current().version


def test_writing_and_submitting_a_qad(member, make_application, stages):
    application = stages.initial_open(make_application())
    api = Api(member)
    overview = api.get(f"/applications/{application.pk}").json()
    assert [q["kind"] for q in overview["qads"]] == ["initial", "final"]
    assert overview["qads"][0]["editable"] is True and overview["qads"][0]["current"] is None
    error(api.get(f"/applications/{application.pk}/initial"), 404, "not_found")

    saved = api.post(
        f"/applications/{application.pk}/initial/answers",
        {"answers": [{"question": "1.1", "text": "Northern Lights Energy Ltd, NLEN as Supplier."}]},
    )
    assert saved.status_code == 200, saved.content
    assert saved.json()["version"] == 1 and saved.json()["status"] == "draft"
    assert {"question": "1.4", "missing": "evidence"} not in saved.json()["missing"]
    assert {"question": "1.4", "missing": "answer"} in saved.json()["missing"]

    uploaded = api.upload(
        f"/applications/{application.pk}/initial/answers/1.4/evidence",
        {"files": SimpleUploadedFile("architecture.pdf", PDF), "text": "See the diagram."},
    )
    assert uploaded.status_code == 200, uploaded.content
    answer = next(a for a in uploaded.json()["answers"] if a["question"] == "1.4")
    assert answer["evidence"][0]["name"] == "architecture.pdf"
    assert answer["evidence"][0]["download"] == f"/evidence/{answer['evidence'][0]['id']}/download/"

    refused = error(api.post(f"/applications/{application.pk}/initial/submit"), 422, "invalid_input")
    assert {"question": "1.2", "missing": "answer"} in refused["details"]["missing"]

    qad_complete_answers(actor=member, application=application, kind="initial")
    submitted = api.post(f"/applications/{application.pk}/initial/submit", {"comment": "Ready."})
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["status"] == "submitted"
    assert submitted.json()["review_clock"]["holder"] == "code_bodies"
    listed = api.get(f"/applications/{application.pk}/initial/versions").json()
    assert [(v["version"], v["status"]) for v in listed] == [(1, "submitted")]
    assert api.get(f"/applications/{application.pk}/initial/versions/1").json()["answers"]
    error(api.get(f"/applications/{application.pk}/initial/versions/9"), 404, "not_found")


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"answers": [{"question": "9.9", "text": "x"}]}, 422),
        ({"answers": [{"question": "1.1", "text": "x" * 20001}]}, 422),
        ({"answers": [{"question": "1.1", "attach_evidence_ids": [999999]}]}, 422),
        ({"answers": []}, 422),
        ({"answers": "1.1"}, 422),
    ],
)
def test_bad_answers_store_nothing(member, make_application, stages, payload, status):
    application = stages.initial_open(make_application())
    before = stored()
    error(Api(member).post(f"/applications/{application.pk}/initial/answers", payload), status, "invalid_input")
    assert stored() == before


def test_a_bad_file_is_refused_naming_its_rule(member, make_application, stages):
    application = stages.initial_open(make_application())
    before = stored()
    answer = error(
        Api(member).upload(
            f"/applications/{application.pk}/initial/answers/1.4/evidence",
            {"files": SimpleUploadedFile("report.docx", b"MZ\x90\x00")},
        ),
        422,
        "invalid_input",
    )
    assert answer["details"]["rule"] == "type" and "report.docx" in answer["message"]
    assert stored() == before


def test_wrong_role_other_organisation_and_bad_kind(member, other_member, staff, make_application, stages):
    application = stages.initial_open(make_application())
    path = f"/applications/{application.pk}/initial/answers"
    payload = {"answers": [{"question": "1.1", "text": "x"}]}
    before = stored()
    error(Api(staff(Role.ELEXON_ANALYST)).post(path, payload), 403, "permission_denied")
    error(Api(other_member).post(path, payload), 404, "not_found")
    error(Api(staff(Role.PAB_CHAIR)).get(f"/applications/{application.pk}"), 404, "not_found")
    error(Api(member).post(f"/applications/{application.pk}/interim/answers", payload), 422, "invalid_input")
    assert stored() == before


def test_the_diff(member, make_application, stages):
    application = stages.initial_submitted(make_application())
    stages.review(application, "initial_qad", "request_changes", "Expand 1.1.")
    api = Api(member)
    assert api.post(f"/applications/{application.pk}/initial/versions").status_code == 201
    api.post(f"/applications/{application.pk}/initial/answers", {"answers": [{"question": "1.1", "text": "New."}]})
    diff = api.get(f"/applications/{application.pk}/initial/diff", {"old": 1, "new": 2}).json()
    assert diff["changed"] == 1
    [row] = [r for r in diff["rows"] if r["change"] != "unchanged"]
    assert (row["question"], row["change"], row["after"]) == ("1.1", "changed", "New.")
    error(api.get(f"/applications/{application.pk}/initial/diff", {"old": 1, "new": 1}), 422, "invalid_input")
    error(api.get(f"/applications/{application.pk}/initial/diff", {"old": 0, "new": 1}), 422, "invalid_input")


def test_clarifications(member, staff, make_application, stages):
    application = stages.final_submitted(make_application())
    analyst = Api(staff(Role.ELEXON_ANALYST))
    path = f"/applications/{application.pk}/final/clarifications"
    error(Api(member).post(path, {"question": "1.1", "text": "Me?"}), 403, "permission_denied")
    error(analyst.post(path, {"question": "1.1", "text": ""}), 422, "invalid_input")
    raised = analyst.post(path, {"question": "3.1.2", "text": "Which cases failed?"})
    assert raised.status_code == 201, raised.content
    clarification = raised.json()
    assert (clarification["organisation"], clarification["market_role"]) == ("Northern Lights Energy Ltd", "SUP")
    assert (clarification["section"], clarification["question"], clarification["version"]) == ("3.1", "3.1.2", 1)
    assert clarification["status"] == "open"

    answered = Api(member).post(f"/clarifications/{clarification['id']}/answer", {"text": "TC-12."})
    assert answered.json()["status"] == "answered"
    error(Api(member).post(f"/clarifications/{clarification['id']}/close"), 403, "permission_denied")
    error(analyst.post(f"/clarifications/{clarification['id']}/answer", {"text": "x"}), 403, "permission_denied")
    closed = analyst.post(f"/clarifications/{clarification['id']}/close", {"text": "Thanks."})
    assert closed.json()["status"] == "closed"
    assert [m["action"] for m in closed.json()["messages"]] == ["raise", "answer", "close"]
    error(analyst.post(f"/clarifications/{clarification['id']}/close"), 409, "invalid_transition")
    assert len(Api(member).get(path).json()) == 1
    current = Api(member).get(f"/applications/{application.pk}/final").json()
    assert current["review_clock"]["participant_seconds"] >= 0


def test_signing_and_verification(director, member, make_application, stages):
    application = stages.final_agreed(make_application())
    api = Api(director)
    sign = f"/applications/{application.pk}/sign"
    version = declaration_current().version
    before = stored()
    answer = error(api.post(sign, {"password": "wrong", "declaration_version": version}), 403, "permission_denied")
    assert answer["details"] == {"field": "password"}
    error(Api(member).post(sign, {"password": TEST_PASSWORD, "declaration_version": version}), 403, "permission_denied")
    error(api.post(sign, {"password": TEST_PASSWORD, "declaration_version": version + 1}), 409, "conflict")
    error(api.post(sign, {"declaration_version": version}), 422, "invalid_input")
    assert stored() == before

    signed = api.post(
        sign, {"password": TEST_PASSWORD, "otp_code": current_otp_code(director), "declaration_version": version}
    )
    assert signed.status_code == 201, signed.content
    signature = signed.json()
    assert signature["status"] == "valid" and signature["signed_as"] == "director" and signature["version"] == 1
    assert signature["manifest"]["qad"]["version"] == 1
    check = Api(member).get(f"/signatures/{signature['id']}").json()
    assert check["ok"] is True and check["recorded_sha256"] == signature["manifest_sha256"]
    overview = Api(member).get(f"/applications/{application.pk}").json()
    assert overview["signoff_state"] == "completed"

    QadAnswer.objects.filter(
        submission__application=application, submission__kind="final", question__number="4.5.1"
    ).update(text="Changed.")
    verified = Api(member).post(f"/signatures/{signature['id']}/verify").json()
    assert verified["ok"] is False and "The answer to question 4.5.1 has changed." in verified["problems"]
    assert verified["signature"]["status"] == "voided"
    assert Api(member).get(f"/applications/{application.pk}").json()["signoff_state"] == "not_started"


def test_another_organisation_cannot_see_a_signature(director, other_member, make_application, stages):
    application = stages.signed(make_application())
    signature = DirectorSignature.objects.get(application=application)
    error(Api(other_member).get(f"/signatures/{signature.pk}"), 404, "not_found")
    error(Api(other_member).get(f"/applications/{application.pk}/signatures"), 404, "not_found")


def test_reopening_through_the_api(member, staff, make_application, stages):
    application = stages.signed(make_application())
    path = f"/applications/{application.pk}/final/reopen"
    error(Api(member).post(path, {"reason": "Please."}), 403, "permission_denied")
    error(Api(staff(Role.ELEXON_ANALYST)).post(path, {"reason": ""}), 422, "invalid_input")
    body = Api(staff(Role.ELEXON_ANALYST)).post(path, {"reason": "PAB deferred."}).json()
    assert body["signature"]["status"] == "voided" and body["signoff_state"] == "cannot_start"
    final = next(q for q in body["qads"] if q["kind"] == "final")
    assert final["task_state"] == "not_started"


def test_signing_delegates(director, member, org, other_member):
    path = f"/organisations/{org.pk}/signing-delegates"
    error(Api(member).post(path, {"user_id": member.pk}), 403, "permission_denied")
    error(Api(other_member).get(path), 404, "not_found")
    granted = Api(director).post(path, {"user_id": member.pk})
    assert granted.status_code == 201, granted.content
    assert granted.json()["email"] == member.email
    error(Api(director).post(path, {"user_id": member.pk}), 409, "conflict")
    assert [d["user_id"] for d in Api(member).get(path).json()] == [member.pk]
    revoked = Api(director).delete(f"/signing-delegates/{granted.json()['id']}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert Api(member).get(path).json() == []
