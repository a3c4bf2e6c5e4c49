"""The shipped PIT exit criteria, as data.

Loaded into `PitCriterion` rows by a data migration (and by `pit_criteria_load()` for a database that
was emptied); after that an administrator edits them in the admin without code. Criteria that name no
route apply on every route, and those that name no role group apply to every role group.

Sources: the PIT stage of the qualification process (functional, migration, non-functional,
operational and regression testing in the participant's own environment, PIT DBT1 completion needed
to enter QT, the RTTM at PIT entry and exit) and the PIT Guidance (non-functional volume and
performance expectations). The RTTMs themselves are uploaded per checkpoint, not as criteria.
"""

from dataclasses import dataclass
from typing import Any

from django.apps import apps as global_apps


@dataclass(frozen=True)
class CriterionSpec:
    code: str
    title: str
    guidance: str
    evidence_required: bool = True
    is_required: bool = True
    routes: tuple[str, ...] = ()
    role_groups: tuple[str, ...] = ()


# Routes on which the participant proposes placing reliance on testing done by others.
RELIANCE_ROUTES = ("non_sit_supplier_agent", "new_entrant_ldso", "non_standard")

CRITERIA: tuple[CriterionSpec, ...] = (
    CriterionSpec(
        "pit_approach",
        "PIT approach and plan agreed internally, covering every requirement area of the role",
        "The test approach and plan for PIT: scope (functional, migration, non-functional and operational "
        "requirements), environments, test data, schedule and exit criteria. Upload the approved plan.",
    ),
    CriterionSpec(
        "pit_dbt1_complete",
        "PIT DBT1 completed",
        "Design, Build and Test phase 1 of PIT is complete. This is needed before Qualification Testing "
        "can start. Upload the DBT1 completion statement or report.",
    ),
    CriterionSpec(
        "functional_tests_complete",
        "Functional test execution complete",
        "Every functional test in scope for the role has been run against the MHHS design (the interfaces "
        "and publications the role sends and receives). Upload the execution summary with pass rates.",
    ),
    CriterionSpec(
        "migration_tests_complete",
        "Migration test execution complete",
        "Tests of migrating MPANs to the MHHS arrangements, and of reverse migration where the role takes "
        "part in it, have been run. Upload the execution summary.",
    ),
    CriterionSpec(
        "non_functional_tests_complete",
        "Non-functional test execution complete, including volume and performance",
        "Non-functional tests have been run, including the volume and performance expectations of the PIT "
        "Guidance, resilience and security. Upload the results against the stated targets.",
    ),
    CriterionSpec(
        "settlement_volume_tests_complete",
        "Settlement-period data volume tests complete",
        "Data Services: the service has processed consumption data at the expected settlement-period volumes "
        "within the required times. Upload the volume test results.",
        role_groups=("data_service",),
    ),
    CriterionSpec(
        "operational_tests_complete",
        "Operational test execution complete",
        "Operational acceptance: business processes, exception handling, monitoring, support and "
        "service management have been tested. Upload the execution summary.",
    ),
    CriterionSpec(
        "regression_tests_complete",
        "Regression test execution complete",
        "Regression tests show that existing (legacy) processes and interfaces still work alongside the "
        "MHHS changes. Upload the execution summary.",
    ),
    CriterionSpec(
        "dip_simulator_tested",
        "Messaging tested end to end against the DIP Simulator",
        "Messages sent and received through the DIP Simulator with mutual TLS and signed requests, for "
        "the interfaces in scope. Upload the message log or test report.",
    ),
    CriterionSpec(
        "defects_triaged",
        "All defects triaged, with no open severity 1 defect",
        "Every defect found in PIT has been triaged; none of severity 1 is open, and each open severity 2 "
        "defect has a fix and a date. Upload the defect log.",
    ),
    CriterionSpec(
        "reliance_artefacts_available",
        "Artefacts of the testing relied on are available",
        "Only if you place reliance on testing done by others (for example a vendor's): the artefacts named "
        "in the placing-reliance proposal are available to the Code Bodies. Upload them or an index of them.",
        is_required=False,
        routes=RELIANCE_ROUTES,
    ),
    CriterionSpec(
        "pit_exit_report",
        "PIT exit report approved",
        "The PIT completion (exit) report: status of every test, defects, and the evidence that each exit "
        "criterion is met, approved by the participant's test lead.",
    ),
    CriterionSpec(
        "qt_readiness_contacts",
        "Contacts for Qualification Testing named",
        "Name the test lead and the people to onboard to the Qualification Test Framework in the note. "
        "No file is needed.",
        evidence_required=False,
    ),
)


def pit_criteria_load(apps: Any = global_apps, *, reset: bool = False) -> int:
    """Add the shipped criteria that are missing (by code) and return how many were added.

        Existing rows are left as an administrator left them; with `reset=True` every shipped criterion is
        put back to its shipped values. Routes and role groups that no longer exist are skipped (a criterion
    left with none of those it names is made inactive rather than widened to everyone). Takes an
        app registry so that a data migration can run it against historical models."""
    PitCriterion = apps.get_model("testing", "PitCriterion")
    Route = apps.get_model("qualification", "Route")
    RoleGroup = apps.get_model("participants", "RoleGroup")
    added = 0
    for position, spec in enumerate(CRITERIA, start=1):
        values = {
            "title": spec.title,
            "guidance": spec.guidance,
            "order": position * 10,
            "is_required": spec.is_required,
            "evidence_required": spec.evidence_required,
            "is_active": True,
        }
        if reset:
            criterion, made = PitCriterion.objects.update_or_create(code=spec.code, defaults=values)
        else:
            criterion, made = PitCriterion.objects.get_or_create(code=spec.code, defaults=values)
        added += int(made)
        if made or reset:
            routes = list(Route.objects.filter(code__in=spec.routes))
            role_groups = list(RoleGroup.objects.filter(code__in=spec.role_groups))
            criterion.routes.set(routes)
            criterion.role_groups.set(role_groups)
            if (spec.routes and not routes) or (spec.role_groups and not role_groups):
                # None named exists any more: an empty list would widen the criterion to everyone.
                criterion.is_active = False
                criterion.save(update_fields=["is_active"])
    return added
