"""The test catalogue: the shipped reference data, versioned test cases (one current version, enforced
by the database), every staff write allowed and refused, the difference between versions, and the
coverage of the requirements."""

from typing import Any

import pytest
from django.db import IntegrityError, transaction

from portal.accounts.roles import Role
from portal.audit.models import AuditEvent
from portal.core.errors import Conflict, InvalidInput, InvalidTransition, NotFound, PermissionDenied
from portal.notifications.models import Notification
from portal.prequalification.testing import RELIED_ON_ITEM
from portal.qualification.services import application_withdraw
from portal.testing import catalogue_data
from portal.testing import catalogue_selectors as catalogue
from portal.testing.catalogue_data import catalogue_load
from portal.testing.catalogue_services import (
    CaseFields,
    StepInput,
    case_create,
    case_publish,
    case_reinstate,
    case_retire,
    dip_flow_create,
    dip_flow_update,
    requirement_create,
    requirement_update,
    scenario_create,
    scenario_update,
)
from portal.testing.models import DipFlow, Requirement, TestCase, TestCaseVersion, TestScenario
from portal.testing.tests.catalogue_support import state

pytestmark = pytest.mark.django_db


@pytest.fixture
def ta(staff):
    return staff(Role.TESTING_ASSURANCE)


def fields(**overrides: Any) -> CaseFields:
    values: dict[str, Any] = {
        "title": "Gaining supplier registers an MPAN on change of supplier, with a future date",
        "batch": "functional",
        "mandatory": True,
        "role_groups": ["supplier"],
        "dip_flows": ["IF-001"],
        "requirements": ["REQ-FUN-001"],
        "steps": [
            StepInput("Request the registration of a test MPAN.", "The registration is accepted."),
            StepInput("Receive IF-001.", "The supply start date is stored."),
        ],
    }
    values.update(overrides)
    return CaseFields(**values)


# --- the shipped catalogue -------------------------------------------------------------------------


def test_the_shipped_catalogue_is_loaded_by_the_migration():
    assert 25 <= Requirement.objects.count() <= 40
    assert 12 <= DipFlow.objects.count() <= 20
    assert 10 <= TestScenario.objects.count() <= 15
    assert 40 <= TestCase.objects.count() <= 70
    versions = TestCaseVersion.objects.filter(is_current=True)
    assert versions.count() == TestCase.objects.count()
    assert not TestCaseVersion.objects.exclude(version=1).exists()
    for group in ("supplier", "ldso", "mem", "data_service"):
        assert versions.filter(role_groups__code=group, mandatory=True).exists(), group
    assert versions.filter(mandatory=False).exists()
    for version in versions.prefetch_related("requirements"):
        assert 2 <= len(version.steps) <= 5
        assert all(step["action"] and step["expected"] for step in version.steps)
        assert version.requirements.exists(), version.case.identifier
    assert DipFlow.objects.filter(opt_out_allowed=False, code="IF-001").exists()
    assert DipFlow.objects.filter(opt_out_allowed=True).exists()
    assert {r.area for r in Requirement.objects.all()} == {"functional", "migration", "non_functional", "operational"}


def test_loading_again_adds_nothing_and_keeps_changes(ta):
    case_publish(actor=ta, identifier="QTC-FUN-01-01", fields=fields())
    before = state()
    assert catalogue_load() == {"requirements": 0, "dip_flows": 0, "scenarios": 0, "cases": 0}
    assert state() == before


def test_the_demo_reliance_names_real_cases():
    identifiers = [i.strip() for i in str(RELIED_ON_ITEM.identifiers).split(",")]
    assert TestCase.objects.filter(identifier__in=identifiers).count() == len(identifiers)


def test_every_shipped_case_names_known_flows_and_requirements():
    requirements = {r.identifier for r in catalogue_data.REQUIREMENTS}
    flows = {f.code for f in catalogue_data.FLOWS}
    for spec in catalogue_data.CASES:
        assert set(spec.requirements) <= requirements
        assert set(spec.flows) <= flows


# --- versions ----------------------------------------------------------------------------------------


def test_publishing_adds_a_version_and_keeps_the_old_one(ta, member, make_application, advance):
    testing = advance(make_application(), stop_before="qt")  # a Supplier whose QT is about to start
    version = case_publish(actor=ta, identifier="qtc-fun-01-01", fields=fields())
    assert version.version == 2 and version.is_current and version.created_by == ta
    old = TestCaseVersion.objects.get(case__identifier="QTC-FUN-01-01", version=1)
    assert not old.is_current
    assert old.title == "Gaining supplier registers an MPAN on change of supplier"  # never rewritten
    assert [s["step"] for s in version.steps] == [1, 2]
    event = AuditEvent.objects.get(action="catalogue.case.publish")
    assert event.before["version"] == 1 and event.after["version"] == 2
    assert event.after["title"] == version.title
    notice = Notification.objects.get(recipient=member, subject="Test case QTC-FUN-01-01 changed")
    assert notice.link == "/qt/catalogue/cases/QTC-FUN-01-01/"
    assert not Notification.objects.filter(recipient=ta, subject__startswith="Test case").exists()
    assert testing.organisation_id == member.memberships.get().organisation_id


def test_participants_of_other_role_groups_are_not_told(ta, member, make_application, advance):
    advance(make_application(), stop_before="qt")
    case_publish(actor=ta, identifier="QTC-FUN-03-01", fields=fields(role_groups=["mem"]))  # a MEM case
    assert not Notification.objects.filter(recipient=member, subject__startswith="Test case").exists()


def test_the_database_allows_one_current_version_per_case():
    case = TestCase.objects.get(identifier="QTC-FUN-01-01")
    with pytest.raises(IntegrityError), transaction.atomic():
        TestCaseVersion.objects.create(case=case, version=2, is_current=True, title="x", batch="functional")
    with pytest.raises(IntegrityError), transaction.atomic():
        TestCaseVersion.objects.create(case=case, version=1, is_current=False, title="x", batch="functional")
    with pytest.raises(IntegrityError), transaction.atomic():
        TestCaseVersion.objects.create(case=case, version=3, is_current=False, title="x", batch="hardware")


def test_publishing_what_the_case_already_says_is_refused(ta):
    current = TestCaseVersion.objects.get(case__identifier="QTC-FUN-01-02", is_current=True)
    same = CaseFields(
        title=current.title,
        batch=current.batch,
        mandatory=current.mandatory,
        role_groups=["Supplier"],  # by name, in any case
        dip_flows=["if-001"],
        requirements=["REQ-FUN-001"],
        steps=[StepInput(s["action"], s["expected"]) for s in current.steps],
    )
    before = state()
    with pytest.raises(InvalidInput, match="Nothing changed: this is what version 1"):
        case_publish(actor=ta, identifier="QTC-FUN-01-02", fields=same)
    assert state() == before


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": ""}, "title", "Enter the title"),
        ({"title": "x" * 301}, "title", "300 characters or fewer"),
        ({"batch": "hardware"}, "batch", "is not one of"),
        ({"mandatory": None}, "mandatory", "Say whether the case is mandatory"),
        ({"role_groups": []}, "role_groups", "at least one role group"),
        ({"role_groups": ["retailer"]}, "role_groups", "no role group “retailer”"),
        ({"dip_flows": ["IF-999"]}, "dip_flows", "no DIP flow “IF-999”"),
        ({"requirements": ["REQ-XXX-001"]}, "requirements", "no requirement “REQ-XXX-001”"),
        ({"steps": []}, "steps", "at least one step"),
        ({"steps": [StepInput("Do it", "")]}, "steps.1.expected", "Enter the step 1 expected result"),
        ({"steps": [StepInput("Do \x00 it", "ok")]}, "steps.1.action", "control characters"),
        ({"steps": [StepInput("a", "b")] * 31}, "steps", "at most 30 steps"),
    ],
)
def test_bad_content_is_refused_naming_the_field(ta, overrides, field, message):
    before = state()
    with pytest.raises(InvalidInput, match=message) as refused:
        case_publish(actor=ta, identifier="QTC-FUN-01-01", fields=fields(**overrides))
    assert refused.value.details["field"] == field
    assert state() == before


def test_several_problems_are_listed_together(ta):
    with pytest.raises(InvalidInput) as refused:
        case_publish(actor=ta, identifier="QTC-FUN-01-01", fields=fields(title="", batch="x", role_groups=[]))
    assert [e["field"] for e in refused.value.details["errors"]] == ["title", "batch", "role_groups"]


@pytest.mark.parametrize("role", [Role.DIP_MANAGER, Role.REC_CODE_MANAGER, Role.PAB_MEMBER])
def test_only_the_catalogue_keepers_change_it(staff, member, role):
    before = state()
    for user in (member, staff(role)):
        with pytest.raises(PermissionDenied, match="Only Testing Assurance"):
            case_publish(actor=user, identifier="QTC-FUN-01-01", fields=fields())
        with pytest.raises(PermissionDenied):
            case_retire(actor=user, identifier="QTC-FUN-01-01", reason="No longer needed.")
        with pytest.raises(PermissionDenied):
            requirement_create(actor=user, identifier="REQ-FUN-099", area="functional", text="x")
        with pytest.raises(PermissionDenied):
            dip_flow_create(actor=user, code="IF-099", title="x", opt_out_allowed=True)
        with pytest.raises(PermissionDenied):
            scenario_create(actor=user, identifier="QTS-FUN-99", title="x", batch="functional")
    assert state() == before


@pytest.mark.parametrize("role", [Role.TESTING_ASSURANCE, Role.ELEXON_ANALYST, Role.QSP, Role.PROGRAMME_ASSURANCE])
def test_each_keeper_role_may_publish(staff, role):
    assert case_publish(actor=staff(role), identifier="QTC-FUN-01-01", fields=fields()).version == 2


def test_an_unknown_case_is_not_found(ta):
    with pytest.raises(NotFound):
        case_publish(actor=ta, identifier="QTC-NOPE-01", fields=fields())


def test_adding_a_case_makes_version_1(ta):
    version = case_create(actor=ta, identifier=" qtc-fun-01-07 ", scenario="QTS-FUN-01", fields=fields())
    assert version.case.identifier == "QTC-FUN-01-07" and version.version == 1
    assert version.case.scenario.identifier == "QTS-FUN-01"
    assert sorted(version.role_groups.values_list("code", flat=True)) == ["supplier"]
    assert AuditEvent.objects.filter(action="catalogue.case.create").exists()
    with pytest.raises(Conflict, match="already a test case QTC-FUN-01-07"):
        case_create(actor=ta, identifier="QTC-FUN-01-07", scenario="QTS-FUN-01", fields=fields())


@pytest.mark.parametrize(
    ("identifier", "scenario", "field"),
    [
        ("", "QTS-FUN-01", "identifier"),
        ("QTC FUN 01", "QTS-FUN-01", "identifier"),
        ("QTC-FUN-01-09", "QTS-NOPE-01", "scenario"),
        ("=cmd|' /C calc'!A0", "QTS-FUN-01", "identifier"),
    ],
)
def test_adding_a_case_checks_its_identity(ta, identifier, scenario, field):
    before = state()
    with pytest.raises(InvalidInput) as refused:
        case_create(actor=ta, identifier=identifier, scenario=scenario, fields=fields())
    assert refused.value.details["field"] == field
    assert state() == before


def test_retire_and_reinstate(ta, member, make_application, advance):
    advance(make_application(), stop_before="qt")
    case = case_retire(actor=ta, identifier="QTC-FUN-01-01", reason="Replaced by QTC-FUN-01-07.")
    assert not case.is_active
    event = AuditEvent.objects.get(action="catalogue.case.retire")
    assert event.after == {"is_active": False, "reason": "Replaced by QTC-FUN-01-07."}
    assert Notification.objects.filter(recipient=member, subject="Test case QTC-FUN-01-01 retired").exists()
    assert "QTC-FUN-01-01" not in [v.case.identifier for v in catalogue.catalogue_cases(user=member)]

    before = state()
    with pytest.raises(InvalidTransition, match="retired: reinstate it"):
        case_publish(actor=ta, identifier="QTC-FUN-01-01", fields=fields())
    with pytest.raises(InvalidTransition, match="already retired"):
        case_retire(actor=ta, identifier="QTC-FUN-01-01", reason="Again.")
    assert state() == before

    assert case_reinstate(actor=ta, identifier="QTC-FUN-01-01").is_active
    with pytest.raises(InvalidTransition, match="not retired"):
        case_reinstate(actor=ta, identifier="QTC-FUN-01-01")


def test_retiring_needs_a_reason(ta):
    before = state()
    with pytest.raises(InvalidInput, match="Enter the reason") as refused:
        case_retire(actor=ta, identifier="QTC-FUN-01-01", reason="  ")
    assert refused.value.details["field"] == "reason"
    assert state() == before


# --- scenarios, requirements, DIP flows ------------------------------------------------------------


def test_scenarios(ta):
    scenario = scenario_create(actor=ta, identifier="qts-fun-07", title="Switching of meter types", batch="Functional")
    assert scenario.identifier == "QTS-FUN-07" and scenario.batch == "functional"
    scenario = scenario_update(
        actor=ta,
        identifier="QTS-FUN-07",
        title="Meter type changes",
        batch="functional",
        description="Smart to traditional.",
    )
    assert scenario.title == "Meter type changes"
    assert (
        AuditEvent.objects.filter(action="catalogue.scenario.update").get().before["title"]
        == "Switching of meter types"
    )
    with pytest.raises(InvalidInput, match="Nothing changed"):
        scenario_update(
            actor=ta,
            identifier="QTS-FUN-07",
            title="Meter type changes",
            batch="functional",
            description="Smart to traditional.",
        )
    with pytest.raises(Conflict):
        scenario_create(actor=ta, identifier="QTS-FUN-07", title="Again", batch="functional")


def test_a_scenario_with_active_cases_cannot_be_retired(ta):
    before = state()
    with pytest.raises(InvalidTransition, match="still has 6 active cases"):
        scenario_update(
            actor=ta, identifier="QTS-FUN-01", title="Change of supplier", batch="functional", is_active=False
        )
    assert state() == before


def test_a_retired_scenario_takes_no_new_cases(ta):
    for case in TestCase.objects.filter(scenario__identifier="QTS-OPS-02"):
        case_retire(actor=ta, identifier=case.identifier, reason="Scenario withdrawn.")
    scenario = TestScenario.objects.get(identifier="QTS-OPS-02")
    scenario_update(
        actor=ta, identifier=scenario.identifier, title=scenario.title, batch=scenario.batch, is_active=False
    )
    with pytest.raises(InvalidTransition, match="retired: new cases cannot be added"):
        case_create(actor=ta, identifier="QTC-OPS-02-03", scenario="QTS-OPS-02", fields=fields())
    with pytest.raises(InvalidTransition, match="reinstate the scenario"):
        case_reinstate(actor=ta, identifier="QTC-OPS-02-01")


def test_requirements(ta, member, make_application, advance):
    advance(make_application(), stop_before="qt")
    requirement = requirement_create(
        actor=ta, identifier="REQ-OPS-008", area="Operational", text="Data retention follows the BSC."
    )
    assert requirement.area == "operational"
    notice = Notification.objects.get(recipient=member, subject="New requirement for your RTTM: REQ-OPS-008")
    assert notice.link == "/qt/catalogue/requirements/"
    requirement = requirement_update(
        actor=ta, identifier="REQ-OPS-008", area="operational", text="Data retention follows the BSC.", is_active=False
    )
    assert not requirement.is_active
    event = AuditEvent.objects.get(action="catalogue.requirement.update")
    assert event.summary.endswith("(retired)")
    with pytest.raises(InvalidInput, match="Enter the requirement text"):
        requirement_create(actor=ta, identifier="REQ-OPS-009", area="operational", text="")
    with pytest.raises(InvalidInput, match="is not one of"):
        requirement_create(actor=ta, identifier="REQ-OPS-009", area="legal", text="x")
    with pytest.raises(Conflict):
        requirement_create(actor=ta, identifier="REQ-OPS-008", area="operational", text="x")
    with pytest.raises(NotFound):
        requirement_update(actor=ta, identifier="REQ-NOPE", area="operational", text="x", is_active=True)


def test_participants_of_closed_applications_are_not_told(ta, member, make_application):
    application = make_application(route="sit")  # PIT is with them
    application_withdraw(actor=member, application_id=application.pk, reason="Leaving the market.")
    requirement_create(actor=ta, identifier="REQ-OPS-010", area="operational", text="Something new.")
    assert not Notification.objects.filter(recipient=member, subject__startswith="New requirement").exists()


def test_dip_flows(ta):
    flow = dip_flow_create(actor=ta, code="if-042", title="Meter reading replay", opt_out_allowed=True)
    assert flow.code == "IF-042"
    flow = dip_flow_update(actor=ta, code="IF-042", title="Meter reading replay", opt_out_allowed=False)
    assert not flow.opt_out_allowed
    with pytest.raises(InvalidInput, match="not an interface ID"):
        dip_flow_create(actor=ta, code="FLOW42", title="x", opt_out_allowed=True)
    with pytest.raises(InvalidInput, match="Nothing changed"):
        dip_flow_update(actor=ta, code="IF-042", title="Meter reading replay", opt_out_allowed=False)
    assert [e.action for e in AuditEvent.objects.filter(action__startswith="catalogue.dip_flow")] == [
        "catalogue.dip_flow.create",
        "catalogue.dip_flow.update",
    ]


# --- reading: filters, differences, coverage -------------------------------------------------------


def test_filters(member):
    def ids(**kwargs):
        return {
            v.case.identifier for v in catalogue.catalogue_cases(user=member, filters=catalogue.CaseFilters(**kwargs))
        }

    assert ids(role_group="mem", batch="migration") == {"QTC-MIG-01-03", "QTC-MIG-02-03"}
    assert ids(dip_flow="if-009") == {"QTC-FUN-06-01", "QTC-FUN-06-02", "QTC-FUN-06-03"}
    assert ids(dip_flow="IF-009", mandatory=False) == {"QTC-FUN-06-02", "QTC-FUN-06-03"}
    assert ids(q="comms hub") == {"QTC-FUN-03-06"}
    assert ids(q="qtc-nfr-01") == {"QTC-NFR-01-01", "QTC-NFR-01-02"}
    assert ids(scenario="QTS-DIP-02") == {"QTC-DIP-02-01", "QTC-DIP-02-02", "QTC-DIP-02-03"}
    all_groups = catalogue.catalogue_cases(user=member, filters=catalogue.CaseFilters(role_group="supplier"))
    assert all_groups.count() == len({v.pk for v in all_groups})  # each case once


def test_the_difference_between_two_versions(ta, member):
    case_publish(
        actor=ta,
        identifier="QTC-FUN-01-02",
        fields=fields(
            title="Losing supplier processes the loss of an MPAN",
            mandatory=False,
            role_groups=["supplier", "data_service"],
            dip_flows=["IF-041"],
            requirements=["REQ-FUN-001", "REQ-FUN-010"],
            steps=[
                StepInput(
                    "Trigger a change of supplier away from one of your test MPANs.",
                    "IF-001 is received naming you as the losing supplier, with the supply end date.",
                ),
                StepInput("Process the loss in your billing system.", "A final bill is produced."),
                StepInput("Send the final reading.", "The reading is accepted."),
            ],
        ),
    )
    diff = catalogue.case_version_diff(user=member, identifier="QTC-FUN-01-02", from_version=1, to_version=2)
    assert [(c.field, c.before, c.after) for c in diff.fields] == [("mandatory", True, False)]
    assert [(s.field, s.added, s.removed) for s in diff.sets] == [
        ("role_groups", ["data_service"], []),
        ("dip_flows", ["IF-041"], ["IF-001"]),
        ("requirements", ["REQ-FUN-010"], []),
    ]
    assert [(s.step, s.change) for s in diff.steps] == [(2, "changed"), (3, "added")]
    assert diff.steps[0].expected_changed and not diff.steps[0].action_changed
    back = catalogue.case_version_diff(user=member, identifier="QTC-FUN-01-02", from_version=2, to_version=1)
    assert [(s.step, s.change) for s in back.steps] == [(2, "changed"), (3, "removed")]
    with pytest.raises(NotFound):
        catalogue.case_version_diff(user=member, identifier="QTC-FUN-01-02", from_version=1, to_version=3)


def test_coverage(ta, member):
    coverage = catalogue.catalogue_coverage(user=member)
    uncovered = {row.requirement.identifier for row in coverage.uncovered}
    assert uncovered == {"REQ-NFR-008", "REQ-OPS-003", "REQ-OPS-004", "REQ-OPS-007"}
    assert coverage.rows[0].requirement.identifier == "REQ-NFR-008"  # uncovered first
    areas = {a.area: (a.total, a.covered, a.uncovered) for a in coverage.areas}
    assert areas["operational"] == (7, 4, 3)
    assert areas["non_functional"] == (8, 7, 1)
    assert coverage.total == Requirement.objects.filter(is_active=True).count()

    # Retiring the only case tracing a requirement uncovers it; a case version naming it covers it.
    case_retire(actor=ta, identifier="QTC-OPS-02-01", reason="Moved to operational readiness.")
    assert "REQ-OPS-005" in {r.requirement.identifier for r in catalogue.catalogue_coverage(user=member).uncovered}
    case_publish(
        actor=ta,
        identifier="QTC-OPS-01-02",
        fields=fields(
            role_groups=["supplier", "ldso", "mem", "data_service"], requirements=["REQ-OPS-002", "REQ-OPS-003"]
        ),
    )
    only = catalogue.catalogue_coverage(user=member, area="operational", uncovered_only=True)
    assert {row.requirement.identifier for row in only.rows} == {"REQ-OPS-004", "REQ-OPS-005", "REQ-OPS-007"}
