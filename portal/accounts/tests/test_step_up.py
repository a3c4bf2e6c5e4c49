"""Step-up authentication before an approval decision: a session whose last authenticator code is
more than 10 minutes old is sent to enter a new one, the decision it posted is kept and recorded once
the code is entered; the API needs a current code unless the session has just stepped up."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from portal.accounts.mfa import totp_code
from portal.accounts.roles import Role
from portal.accounts.tests.conftest import sign_in
from portal.approvals.models import ApprovalDecision
from portal.audit.models import AuditEvent
from portal.factories import TEST_TOTP_SECRET

pytestmark = pytest.mark.django_db

DECIDE = {"outcome": "approved", "rationale": "Section 4.5 is complete."}


def page(application) -> str:
    return f"/applications/{application.pk}/approvals/dip_manager/"


def test_a_stale_session_must_step_up_before_deciding_then_the_decision_goes_through(signed, staff, clock):
    application = signed()
    client = Client()
    sign_in(client, staff(Role.DIP_MANAGER))
    clock.forward(11 * 60)  # within the idle limit, past the 10-minute step-up window

    assert client.get(page(application)).status_code == 200  # reading needs no step-up
    asked = client.post(page(application), DECIDE)
    assert asked.status_code == 302 and asked["Location"].startswith(reverse("mfa_reauthenticate"))
    assert not ApprovalDecision.objects.exists()
    assert client.get(asked["Location"]).status_code == 200

    wrong = client.post(asked["Location"], {"code": "12345"})
    assert wrong.status_code == 200 and not ApprovalDecision.objects.exists()

    done = client.post(asked["Location"], {"code": totp_code(TEST_TOTP_SECRET)})
    assert done.status_code == 302
    decision = ApprovalDecision.objects.get()
    assert decision.outcome == "approved" and decision.rationale == DECIDE["rationale"]
    assert AuditEvent.objects.filter(action="auth.reauthenticated").count() == 1
    assert AuditEvent.objects.filter(action="approval.decision").count() == 1


def test_a_fresh_session_decides_at_once(signed, staff):
    application = signed()
    client = Client()
    sign_in(client, staff(Role.DIP_MANAGER))
    response = client.post(page(application), DECIDE)
    assert response.status_code == 302 and response["Location"] == page(application)
    assert ApprovalDecision.objects.count() == 1


def test_the_api_in_a_stale_session_needs_a_code(signed, staff, clock):
    application = signed()
    client = Client()
    sign_in(client, staff(Role.DIP_MANAGER))
    clock.forward(11 * 60)
    url = f"/api/v1/applications/{application.pk}/approvals/dip_manager/decisions"
    client.get("/")  # the CSRF cookie
    headers = {"X-CSRFToken": client.cookies["csrftoken"].value}
    refused = client.post(url, json.dumps(DECIDE), content_type="application/json", headers=headers)
    assert refused.status_code == 403 and refused.json()["code"] == "step_up_required"
    assert not ApprovalDecision.objects.exists()
    with_code = {**headers, "X-OTP": totp_code(TEST_TOTP_SECRET)}
    made = client.post(url, json.dumps(DECIDE), content_type="application/json", headers=with_code)
    assert made.status_code == 201, made.content
    assert AuditEvent.objects.filter(action="approval.decision").count() == 1
