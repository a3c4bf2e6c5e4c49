"""Applications walked from registration to active with every rule switched on: the workflow core and
the guards of each task's structured content (PQS, PIT checklist, DIP onboarding, QADs, the
Director's password-checked signature)."""

import pytest

from portal.audit.services import audit_verify
from portal.documents.models import DirectorSignature
from portal.documents.signing import signature_check
from portal.qualification.models import Task
from portal.qualification.workflow import ApplicationStatus, TaskState

pytestmark = pytest.mark.django_db

# One application per route and a role group that route takes.
CASES = [
    ("non_sit_supplier_agent", "SUP"),
    ("non_sit_supplier_agent", "MEM"),
    ("non_sit_supplier_agent", "ADS"),
    ("sit", "UMSDS"),
    ("non_sit_ldso", "LDSO"),
    ("new_entrant_ldso", "LDSO"),
    ("non_standard", "SDS"),
]


@pytest.mark.parametrize(("route", "market_role"), CASES)
def test_walks_from_registration_to_active_with_every_rule_on(make_application, advance, org, route, market_role):
    if route == "new_entrant_ldso":
        org.is_new_entrant = True
        org.save(update_fields=["is_new_entrant"])
    application = make_application(route=route, market_role=market_role)
    application = advance(application, stop_before="director_signoff")
    assert application.status == ApplicationStatus.FINAL_QAD

    application = advance(application)

    assert application.status == ApplicationStatus.ACTIVE
    assert application.qualified_at is not None
    states = set(Task.objects.filter(application=application).values_list("state", flat=True))
    assert states <= {TaskState.COMPLETED, TaskState.NOT_REQUIRED}
    signature = DirectorSignature.objects.get(application=application)
    assert signature_check(signature).ok
    assert audit_verify().ok
