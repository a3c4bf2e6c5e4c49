"""The required test-case set of an application, with the reason each case is in or out.

Required = the current cases for the application's role group, minus the cases (or whole scenarios)
covered by placing reliance the Code Bodies accepted, minus the cases that exercise a DIP flow the
participant opted out of in its QT plan. Optional cases for the role are listed too, as not required.
Computed live from the data; nothing is stored, so a change of catalogue, reliance or opt-out shows
at once.
"""

from dataclasses import dataclass
from enum import StrEnum

from django.db.models import Prefetch

from portal.prequalification.selectors import accepted_reliance_identifiers
from portal.qualification.models import Application
from portal.testing.models import DipFlowOptOut, TestCaseVersion


class Inclusion(StrEnum):
    REQUIRED = "required"
    OPTIONAL = "optional"
    RELIANCE = "reliance"
    OPTED_OUT = "opted_out"


@dataclass(frozen=True)
class SetRow:
    version: TestCaseVersion
    inclusion: Inclusion
    reason: str

    @property
    def required(self) -> bool:
        return self.inclusion == Inclusion.REQUIRED

    @property
    def case_id(self) -> int:
        return self.version.case_id

    @property
    def identifier(self) -> str:
        return self.version.case.identifier


def role_case_versions(application: Application) -> list[TestCaseVersion]:
    """The current versions of the active cases that apply to the application's role group."""
    return list(
        TestCaseVersion.objects.filter(
            is_current=True,
            case__is_active=True,
            role_groups=application.market_role.role_group_id,
        )
        .select_related("case", "case__scenario")
        .prefetch_related(Prefetch("dip_flows"))
        .order_by("case__identifier")
    )


def required_set(application: Application) -> list[SetRow]:
    """Every case for the application's role, each with whether it is required and why."""
    reliance = accepted_reliance_identifiers(application=application)
    opted_out = {
        o.flow.code: o.reason for o in DipFlowOptOut.objects.filter(application=application).select_related("flow")
    }
    rows = []
    for version in role_case_versions(application):
        rows.append(_classify(version, reliance.test_cases, reliance.test_scenarios, opted_out))
    return rows


def _classify(
    version: TestCaseVersion,
    relied_cases: frozenset[str],
    relied_scenarios: frozenset[str],
    opted_out: dict[str, str],
) -> SetRow:
    case = version.case
    if case.identifier in relied_cases:
        return SetRow(version, Inclusion.RELIANCE, f"Covered by accepted placing reliance on {case.identifier}.")
    if case.scenario.identifier in relied_scenarios:
        return SetRow(
            version,
            Inclusion.RELIANCE,
            f"Covered by accepted placing reliance on scenario {case.scenario.identifier}.",
        )
    flows = [flow.code for flow in version.dip_flows.all() if flow.code in opted_out]
    if flows:
        first = flows[0]
        return SetRow(
            version,
            Inclusion.OPTED_OUT,
            f"Exercises {', '.join(flows)}, which the participant opted out of: {opted_out[first]}",
        )
    if not version.mandatory:
        return SetRow(version, Inclusion.OPTIONAL, "Optional for this role; run it if the function is used.")
    return SetRow(version, Inclusion.REQUIRED, "Mandatory for this role.")


def required_case_ids(application: Application) -> set[int]:
    return {row.case_id for row in required_set(application) if row.required}
