"""The approval-routing matrix is data: each market role gets the approval tasks its row names, and
changing the rows changes what new applications get."""

import pytest

from portal.core.errors import InvalidInput
from portal.participants.models import ApprovalBody, ApprovalRequirement, RoleGroup
from portal.qualification.models import Application, TaskDefinition
from portal.qualification.reference_data import reference_data_load
from portal.qualification.tests.helpers import snapshot
from portal.qualification.workflow import TaskKind

pytestmark = pytest.mark.django_db

DIP, PAB, REC = ApprovalBody.DIP_MANAGER, ApprovalBody.BSC_PAB, ApprovalBody.REC_CODE_MANAGER
TASK_OF_BODY = {DIP: "approval_dip_manager", PAB: "approval_bsc_pab", REC: "approval_rec_code_manager"}

# The matrix as published after the QWG of July 2025.
MATRIX = {
    "SUP": {DIP, PAB, REC},
    "LDSO": {DIP, PAB, REC},
    "MEM": {DIP, REC},
    "ADS": {DIP, PAB},
    "SDS": {DIP, PAB},
    "UMSDS": {DIP, PAB},
}
ROLE_GROUP = {
    "SUP": "supplier",
    "LDSO": "ldso",
    "MEM": "mem",
    "ADS": "data_service",
    "SDS": "data_service",
    "UMSDS": "data_service",
}


def approval_tasks(application: Application) -> set[str]:
    return set(application.tasks.filter(definition__kind=TaskKind.APPROVAL).values_list("code", flat=True))


def test_the_shipped_matrix_is_the_published_one():
    rows = {(r.role_group.code, r.body) for r in ApprovalRequirement.objects.select_related("role_group")}
    assert rows == {(ROLE_GROUP[role], body) for role, bodies in MATRIX.items() for body in bodies}


@pytest.mark.parametrize("route", ["sit", "non_standard"])
@pytest.mark.parametrize("market_role", list(MATRIX))
def test_a_new_application_gets_the_approvals_of_its_row(make_application, market_role, route):
    application = make_application(market_role=market_role, route=route)

    assert approval_tasks(application) == {TASK_OF_BODY[body] for body in MATRIX[market_role]}
    # Service Activation waits for exactly the approvals the application has.
    activation = application.tasks.get(code="service_activation")
    assert set(activation.definition.depends_on) & {t.code for t in application.tasks.all()} == approval_tasks(
        application
    )


@pytest.mark.parametrize(
    ("market_role", "change", "expected"),
    [
        pytest.param("ADS", ("add", REC), {DIP, PAB, REC}, id="rec-added-for-data-services"),
        pytest.param("ADS", ("remove", PAB), {DIP}, id="pab-removed-for-data-services"),
        pytest.param("MEM", ("add", PAB), {DIP, PAB, REC}, id="pab-added-for-mem"),
        pytest.param("SUP", ("remove", REC), {DIP, PAB}, id="rec-removed-for-suppliers"),
        pytest.param("LDSO", ("remove", DIP), {PAB, REC}, id="dip-removed-for-ldso"),
    ],
)
def test_changing_the_rows_changes_what_new_applications_get(
    make_application, org, other_org, other_member, market_role, change, expected
):
    existing = make_application(market_role=market_role, route="sit", organisation=other_org, actor=other_member)
    verb, body = change
    group = RoleGroup.objects.get(code=ROLE_GROUP[market_role])
    if verb == "add":
        ApprovalRequirement.objects.create(role_group=group, body=body)
    else:
        ApprovalRequirement.objects.filter(role_group=group, body=body).delete()

    application = make_application(market_role=market_role, route="sit")

    assert approval_tasks(application) == {TASK_OF_BODY[b] for b in expected}
    # Applications already running keep the approvals they were registered with.
    assert approval_tasks(existing) == {TASK_OF_BODY[b] for b in MATRIX[market_role]}


def test_a_role_group_without_any_row_cannot_register(make_application, member):
    ApprovalRequirement.objects.filter(role_group__code="mem").delete()
    before = snapshot()

    with pytest.raises(InvalidInput, match="No approval body is set for the MOA / MEM role group"):
        make_application(market_role="MEM", route="sit")

    assert snapshot() == before


def test_a_route_missing_an_approval_the_role_needs_cannot_register(make_application):
    """Otherwise the application could become qualified without that body's approval."""
    TaskDefinition.objects.filter(route__code="sit", code="approval_rec_code_manager").delete()
    before = snapshot()

    with pytest.raises(InvalidInput, match="has no approval task for REC Code Manager") as refused:
        make_application(market_role="SUP", route="sit")

    assert refused.value.details == {"field": "route"}
    assert snapshot() == before
    # A role that does not need that body is unaffected.
    assert approval_tasks(make_application(market_role="ADS", route="sit")) == {TASK_OF_BODY[DIP], TASK_OF_BODY[PAB]}


def test_reloading_reference_data_keeps_an_administrators_matrix():
    ApprovalRequirement.objects.filter(role_group__code="data_service", body=PAB).delete()

    reference_data_load()
    assert not ApprovalRequirement.objects.filter(role_group__code="data_service", body=PAB).exists()

    reference_data_load(reset=True)
    assert ApprovalRequirement.objects.filter(role_group__code="data_service", body=PAB).exists()
