"""The shipped Qualification Testing reference data, as data: the readiness checklist (the QT
prerequisites a participant confirms in its readiness report) and the QT exit rules.

Loaded by data migrations (`0005_default_readiness_items`, `0006_default_exit_rules`) and by the
loaders below for a database that was emptied; after that an administrator edits the rows in the
admin without code. The loaders only add what is missing, unless `reset=True`.

Sources: the QT readiness stage of the qualification process (onboard systems to the QTF, onboard QTF
and ADO users, load test MPANs and the test market domain data for Suppliers, the QT Approach & Plan
and the QT Readiness Report for LDSOs, the RTTM at QT entry) and the QT exit stage (exit criteria met,
RTTM at QT exit, the Test Completion Report with defects and proposed work-off items). The exact exit
thresholds are not published, so they are rules an administrator can change.
"""

from dataclasses import dataclass, field
from typing import Any

from django.apps import apps as global_apps

# --- readiness -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadinessSpec:
    code: str
    title: str
    guidance: str
    role_groups: tuple[str, ...] = ()


READINESS_ITEMS: tuple[ReadinessSpec, ...] = (
    ReadinessSpec(
        "qt_plan_agreed",
        "QT approach and plan agreed with Testing Assurance",
        "Your QT approach and plan, with any DIP flows you opt out of, has been agreed in the portal. The "
        "readiness report cannot be submitted before it is.",
    ),
    ReadinessSpec(
        "execution_plan_set",
        "Test execution plan set for the required cases",
        "Every required test case has a planned date in the test execution plan, within the plan's schedule.",
    ),
    ReadinessSpec(
        "systems_onboarded",
        "Systems onboarded to the QT environment",
        "The systems under test are connected to the Qualification Test Framework (QTF) and have sent and "
        "received a smoke-test message.",
    ),
    ReadinessSpec(
        "dip_onboarded",
        "Onboarded to the pre-production DIP",
        "DIP onboarding is complete for the MPID and role: certificates, DIP IDs and message channels in the "
        "pre-production (UIT) DIP.",
    ),
    ReadinessSpec(
        "qt_users_onboarded",
        "QT users onboarded",
        "Everyone who will run tests has a working QTF account. Name them in the note.",
    ),
    ReadinessSpec(
        "test_management_users_onboarded",
        "Test-management users onboarded",
        "Everyone who will record executions and upload evidence has access to the test-management tool "
        "(the ADO access form has been returned and accounts work).",
    ),
    ReadinessSpec(
        "test_mpans_loaded",
        "Test MPANs loaded",
        "The test MPANs issued for your MPID are loaded into your systems as legacy MPANs, ready to migrate.",
        role_groups=("supplier",),
    ),
    ReadinessSpec(
        "test_market_data_loaded",
        "Test market domain data loaded",
        "The QTF market domain data (the D0269 and D0270 files: test-stub MPIDs, LLFs and the rest) is loaded.",
        role_groups=("supplier",),
    ),
    ReadinessSpec(
        "test_data_prepared",
        "Test data prepared",
        "The test data described in the plan is prepared for every case in the execution plan.",
    ),
    ReadinessSpec(
        "rttm_qt_entry",
        "RTTM at QT entry captured",
        "The Requirements Traceability Matrix has been captured at QT entry, tracing each requirement to its "
        "PIT test, its QT test and its QAD evidence.",
    ),
    ReadinessSpec(
        "support_contacts_nominated",
        "Support contacts nominated",
        "The test lead, environment support and defect contacts for the test window are named in the note, "
        "with their hours of cover.",
    ),
)


def readiness_items_load(apps: Any = global_apps, *, reset: bool = False) -> int:
    """Add the shipped readiness items that are missing (by code) and return how many were added.

    Existing rows are left as an administrator left them; with `reset=True` every shipped item is put
    back to its shipped values. An item whose role groups no longer exist is made inactive rather than
    widened to everyone. Takes an app registry so a data migration can run it on historical models."""
    ReadinessItem = apps.get_model("testing", "ReadinessItem")
    RoleGroup = apps.get_model("participants", "RoleGroup")
    added = 0
    for position, spec in enumerate(READINESS_ITEMS, start=1):
        values = {"title": spec.title, "guidance": spec.guidance, "order": position * 10, "is_active": True}
        if reset:
            item, made = ReadinessItem.objects.update_or_create(code=spec.code, defaults=values)
        else:
            item, made = ReadinessItem.objects.get_or_create(code=spec.code, defaults=values)
        added += int(made)
        if made or reset:
            role_groups = list(RoleGroup.objects.filter(code__in=spec.role_groups))
            item.role_groups.set(role_groups)
            if spec.role_groups and not role_groups:
                item.is_active = False
                item.save(update_fields=["is_active"])
    return added


# --- exit rules ------------------------------------------------------------------------------------

# The routes that run Qualification Testing in the portal. On the SIT route the Programme runs SIT
# against its own exit criteria, so the QT exit rules do not apply there.
QT_ROUTES = ("non_sit_supplier_agent", "non_sit_ldso", "new_entrant_ldso", "non_standard")


@dataclass(frozen=True)
class ExitRuleSpec:
    code: str
    title: str
    kind: str
    parameters: dict[str, Any] = field(default_factory=dict)
    routes: tuple[str, ...] = QT_ROUTES


EXIT_RULES: tuple[ExitRuleSpec, ...] = (
    ExitRuleSpec("plan_agreed", "The QT approach and plan is agreed by Testing Assurance", "plan_agreed"),
    ExitRuleSpec(
        "readiness_confirmed", "The readiness report is confirmed by Testing Assurance", "readiness_confirmed"
    ),
    ExitRuleSpec("rttm_qt_entry", "The RTTM is captured at QT entry", "rttm_captured", {"checkpoint": "qt_entry"}),
    ExitRuleSpec(
        "mandatory_cases_passed",
        "Every required test case passed, or is covered by an agreed work-off item",
        "mandatory_cases_passed",
    ),
    ExitRuleSpec(
        "evidence_accepted",
        "The evidence of every required case's latest run is accepted",
        "evidence_accepted",
    ),
    # A critical defect always blocks exit: no work-off item can cover it.
    ExitRuleSpec(
        "no_open_critical_defects",
        "No open severity 1 (critical) defect",
        "no_open_defects",
        {"max_severity": 1, "work_off_allowed": False},
    ),
    ExitRuleSpec(
        "no_open_high_defects",
        "No open severity 1 or 2 defect, unless covered by an agreed work-off item",
        "no_open_defects",
        {"max_severity": 2},
    ),
    ExitRuleSpec("rttm_qt_exit", "The RTTM is captured at QT exit", "rttm_captured", {"checkpoint": "qt_exit"}),
)


def exit_rules_load(apps: Any = global_apps, *, reset: bool = False) -> int:
    """Add the shipped exit rules that are missing (by code) and return how many were added; with
    `reset=True` every shipped rule is put back to its shipped values. A rule whose routes no longer
    exist is made inactive rather than widened to every route."""
    ExitRule = apps.get_model("testing", "ExitRule")
    Route = apps.get_model("qualification", "Route")
    added = 0
    for position, spec in enumerate(EXIT_RULES, start=1):
        values = {
            "title": spec.title,
            "kind": spec.kind,
            "parameters": dict(spec.parameters),
            "order": position * 10,
            "is_active": True,
        }
        if reset:
            rule, made = ExitRule.objects.update_or_create(code=spec.code, defaults=values)
        else:
            rule, made = ExitRule.objects.get_or_create(code=spec.code, defaults=values)
        added += int(made)
        if made or reset:
            routes = list(Route.objects.filter(code__in=spec.routes))
            rule.routes.set(routes)
            if spec.routes and not routes:
                rule.is_active = False
                rule.save(update_fields=["is_active"])
    return added
