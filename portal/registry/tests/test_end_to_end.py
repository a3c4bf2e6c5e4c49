"""The register follows an application walked from registration to active with every app's rules on
(the content guards, the approval decisions, the Service Activation hand-off): the hooks registered in
`RegistryConfig.ready()` fire from the real transitions."""

import pytest

from portal.audit.services import audit_verify
from portal.notifications.models import OutboundEmail
from portal.qualification.workflow import ApplicationStatus
from portal.registry.models import EntryStatus, Register, RegisterEntry

pytestmark = pytest.mark.django_db

QUALIFIED, ACTIVE = EntryStatus.QUALIFIED, EntryStatus.ACTIVE


@pytest.fixture(autouse=True)
def register_hooked() -> None:
    """Every rule stays on here (this replaces the conftest fixture that sets them aside)."""


@pytest.mark.parametrize(
    ("market_role", "registers"),
    [
        (
            "SUP",
            {
                Register.REC_PARTY: [EntryStatus.REC_APPROVED],
                Register.MHHS: [EntryStatus.QUALIFIED, EntryStatus.ACTIVE],
            },
        ),
        ("ADS", {Register.MHHS: [EntryStatus.QUALIFIED, EntryStatus.ACTIVE]}),
    ],
)
def test_an_application_walked_to_active_is_on_the_register(make_application, advance, market_role, registers):
    application = make_application(route="non_sit_supplier_agent", market_role=market_role)

    application = advance(application)

    assert application.status == ApplicationStatus.ACTIVE
    recorded = {
        register: list(
            RegisterEntry.objects.filter(application=application, register=register)
            .order_by("pk")
            .values_list("status", flat=True)
        )
        for register in Register
    }
    assert {r: s for r, s in recorded.items() if s} == registers
    assert RegisterEntry.objects.filter(application=application, is_current=True).count() == len(registers)
    assert OutboundEmail.objects.exists() == (Register.REC_PARTY in registers)
    assert audit_verify().ok
