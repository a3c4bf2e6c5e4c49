"""The default process definition of each route, as data.

This is what a route *is*: which tasks exist, in which order, what each depends on, who acts, who
assures, and which are optional. It is loaded into `Route` and `TaskDefinition` rows by a data
migration and by `manage.py load_reference_data`; after that an administrator may change the
rows without code. Approval tasks are defined for every body; an application gets only those its
role group needs under the approval-routing matrix (`participants.ApprovalRequirement`).
"""

from dataclasses import dataclass, field

from portal.accounts.roles import Role
from portal.participants.models import ApprovalBody
from portal.qualification.workflow import Stage, TaskKind

PARTICIPANT = (Role.PARTICIPANT_MEMBER,)
DIRECTOR = (Role.PARTICIPANT_DIRECTOR,)
CODE_BODIES = (Role.ELEXON_ANALYST, Role.QSP, Role.REC_CODE_MANAGER)


@dataclass(frozen=True)
class TaskSpec:
    code: str
    title: str
    kind: TaskKind
    stage: Stage
    actor_roles: tuple[Role, ...]
    assurer_roles: tuple[Role, ...]
    depends_on: tuple[str, ...] = ()
    optional: bool = False
    approval_body: ApprovalBody | None = None
    description: str = ""


@dataclass(frozen=True)
class RouteSpec:
    code: str
    name: str
    description: str
    role_groups: tuple[str, ...]
    new_entrants_only: bool
    tasks: tuple[TaskSpec, ...] = field(default_factory=tuple)


APPROVAL_CODES = ("approval_dip_manager", "approval_bsc_pab", "approval_rec_code_manager")


def _pqs(optional: bool, description: str) -> TaskSpec:
    return TaskSpec(
        "pqs",
        "Pre-Qualification Submission and placing-reliance proposal",
        TaskKind.SUBMISSION,
        Stage.PREPARATION,
        PARTICIPANT,
        CODE_BODIES,
        optional=optional,
        description=description,
    )


def _preparation(*, pqs: TaskSpec | None) -> tuple[TaskSpec, ...]:
    first = ("pqs",) if pqs else ()
    tasks = [
        TaskSpec(
            "pit",
            "Pre-Integration Testing",
            TaskKind.SUBMISSION,
            Stage.PREPARATION,
            PARTICIPANT,
            (Role.PROGRAMME_ASSURANCE,),
            depends_on=first,
            description="PIT exit criteria with evidence, and the RTTM at PIT entry and PIT exit. "
            "Assured by the MHHS Programme.",
        ),
        TaskSpec(
            "dip_onboarding",
            "DIP onboarding",
            TaskKind.SUBMISSION,
            Stage.PREPARATION,
            PARTICIPANT,
            (Role.DIP_MANAGER,),
            depends_on=first,
            description="The DIP onboarding steps and a DIP ID for each MPID and role. Runs in parallel "
            "with PIT and is confirmed by the DIP Manager.",
        ),
        TaskSpec(
            "initial_qad",
            "Initial QAD",
            TaskKind.SUBMISSION,
            Stage.PREPARATION,
            PARTICIPANT,
            CODE_BODIES,
            depends_on=("pit", "dip_onboarding"),
            description="The first Qualification Assessment Document, submitted to the timeline in "
            "QA&P Appendix C and reviewed by the Code Bodies.",
        ),
    ]
    return ((pqs,) if pqs else ()) + tuple(tasks)


def _testing(*, title: str, assurers: tuple[Role, ...], description: str) -> tuple[TaskSpec, ...]:
    return (
        TaskSpec(
            "qt",
            title,
            TaskKind.SUBMISSION,
            Stage.TESTING,
            PARTICIPANT,
            assurers,
            depends_on=("initial_qad",),
            description=description,
        ),
        TaskSpec(
            "workoff",
            "Work-off plans",
            TaskKind.SUBMISSION,
            Stage.TESTING,
            PARTICIPANT,
            (Role.ELEXON_ANALYST, Role.REC_CODE_MANAGER, Role.TESTING_ASSURANCE),
            depends_on=("qt",),
            optional=True,
            description="Plans for tests that could not be completed, reviewed with Testing Assurance "
            "and agreed with the Code Bodies. Not required when every test was completed.",
        ),
    )


def _final_and_approval() -> tuple[TaskSpec, ...]:
    return (
        TaskSpec(
            "final_qad",
            "Final QAD",
            TaskKind.SUBMISSION,
            Stage.FINAL_QAD,
            PARTICIPANT,
            CODE_BODIES,
            depends_on=("qt", "workoff"),
            description="The complete QAD with evidence, developed during testing and submitted after "
            "it. Accepting it records that the Code Bodies agree its content is complete.",
        ),
        TaskSpec(
            "director_signoff",
            "Director sign-off",
            TaskKind.SIGNOFF,
            Stage.FINAL_QAD,
            DIRECTOR,
            (),
            depends_on=("final_qad",),
            description="A Company Director signs the Final QAD once its content is agreed complete.",
        ),
        TaskSpec(
            "approval_dip_manager",
            "DIP Manager approval",
            TaskKind.APPROVAL,
            Stage.APPROVAL,
            PARTICIPANT,
            (Role.DIP_MANAGER,),
            depends_on=("director_signoff",),
            approval_body=ApprovalBody.DIP_MANAGER,
            description="The DIP Manager approves every role, on QAD section 4.5 and DIP onboarding.",
        ),
        TaskSpec(
            "approval_bsc_pab",
            "BSC PAB approval",
            TaskKind.APPROVAL,
            Stage.APPROVAL,
            PARTICIPANT,
            (Role.PAB_SECRETARY, Role.PAB_CHAIR),
            depends_on=("director_signoff",),
            approval_body=ApprovalBody.BSC_PAB,
            description="The BSC Performance Assurance Board decides at its meeting; the secretary "
            "records the decision.",
        ),
        TaskSpec(
            "approval_rec_code_manager",
            "REC Code Manager approval",
            TaskKind.APPROVAL,
            Stage.APPROVAL,
            PARTICIPANT,
            (Role.REC_CODE_MANAGER,),
            depends_on=("director_signoff",),
            approval_body=ApprovalBody.REC_CODE_MANAGER,
            description="The REC Code Manager approves the Final QAD on a rolling basis from Director "
            "sign-off, and updates the REC Party Register.",
        ),
        TaskSpec(
            "service_activation",
            "Service Activation",
            TaskKind.ACTIVATION,
            Stage.SERVICE_ACTIVATION,
            PARTICIPANT,
            (Role.SERVICE_ACTIVATION,),
            depends_on=APPROVAL_CODES,
            description="Onboarding to the settlement services once MHHS Qualified; the participant may "
            "operate when it is complete.",
        ),
    )


QT_DESCRIPTION = (
    "The QT approach and plan, readiness, test executions with evidence and the test completion "
    "report, managed by Testing Assurance."
)

ROUTES: tuple[RouteSpec, ...] = (
    RouteSpec(
        "non_sit_supplier_agent",
        "Non-SIT Supplier & Agent",
        "Suppliers, Supplier Agents and MEMs that did not take part in SIT: PQS and placing reliance, "
        "PIT, DIP onboarding, Qualification Testing in waves, work-off, Final QAD and approval "
        "(QA&P Annex 2).",
        ("supplier", "mem", "data_service"),
        False,
        _preparation(
            pqs=_pqs(
                False,
                "Preferred wave, PIT and QT approach and timescales, target migration "
                "date and the placing-reliance proposal. Required on this route.",
            )
        )
        + _testing(title="Qualification Testing", assurers=(Role.TESTING_ASSURANCE,), description=QT_DESCRIPTION)
        + _final_and_approval(),
    ),
    RouteSpec(
        "sit",
        "SIT",
        "Participants that took part in Systems Integration Testing: PIT, Initial QAD, SIT, work-off, "
        "Final QAD, approval. No further Qualification Testing is needed.",
        ("supplier", "ldso", "mem", "data_service"),
        False,
        _preparation(pqs=None)
        + _testing(
            title="Systems Integration Testing",
            assurers=(Role.PROGRAMME_ASSURANCE,),
            description="SIT with its exit criteria, run and assured by the MHHS Programme Testing team.",
        )
        + _final_and_approval(),
    ),
    RouteSpec(
        "non_sit_ldso",
        "Non-SIT LDSO",
        "Existing LDSOs that did not take part in SIT: QT run by the Programme for the Code Bodies, "
        "with a QT approach and plan that may opt out of DIP flows (QA&P Annex 1).",
        ("ldso",),
        False,
        _preparation(pqs=None)
        + _testing(
            title="Qualification Testing",
            assurers=(Role.PROGRAMME_ASSURANCE, Role.TESTING_ASSURANCE),
            description=QT_DESCRIPTION,
        )
        + _final_and_approval(),
    ),
    RouteSpec(
        "new_entrant_ldso",
        "New-entrant LDSO",
        "New LDSOs after legacy qualification: a PQS only when placing reliance, PIT, DIP onboarding, "
        "Initial QAD, QT, Final QAD and approval (QA&P Annex 3).",
        ("ldso",),
        True,
        _preparation(
            pqs=_pqs(
                True,
                "Only for a new-entrant LDSO that places reliance on testing done by a "
                "third party. Mark it not required if you do not place reliance.",
            )
        )
        + _testing(title="Qualification Testing", assurers=(Role.TESTING_ASSURANCE,), description=QT_DESCRIPTION)
        + _final_and_approval(),
    ),
    RouteSpec(
        "non_standard",
        "Non-standard pathway",
        "Handled case by case by the Code Bodies, e.g. a new participant entering before M14 "
        "(QA&P Appendix B, Pathway 5).",
        ("supplier", "ldso", "mem", "data_service"),
        False,
        _preparation(pqs=_pqs(True, "Agreed case by case with the Code Bodies."))
        + _testing(title="Qualification Testing", assurers=(Role.TESTING_ASSURANCE,), description=QT_DESCRIPTION)
        + _final_and_approval(),
    ),
)

ROLE_GROUPS: tuple[tuple[str, str], ...] = (
    ("supplier", "Supplier"),
    ("ldso", "LDSO"),
    ("mem", "MOA / MEM"),
    ("data_service", "Data Service"),
)

MARKET_ROLES: tuple[tuple[str, str, str], ...] = (
    ("SUP", "Supplier", "supplier"),
    ("LDSO", "Licensed Distribution System Operator", "ldso"),
    ("MEM", "Metering Equipment Manager (MOA)", "mem"),
    ("ADS", "Advanced Data Service", "data_service"),
    ("SDS", "Smart Data Service", "data_service"),
    ("UMSDS", "Unmetered Supplies Data Service", "data_service"),
)

# The approval-routing matrix as published after the QWG of July 2025.
APPROVAL_MATRIX: tuple[tuple[str, ApprovalBody], ...] = (
    ("supplier", ApprovalBody.DIP_MANAGER),
    ("supplier", ApprovalBody.BSC_PAB),
    ("supplier", ApprovalBody.REC_CODE_MANAGER),
    ("ldso", ApprovalBody.DIP_MANAGER),
    ("ldso", ApprovalBody.BSC_PAB),
    ("ldso", ApprovalBody.REC_CODE_MANAGER),
    ("mem", ApprovalBody.DIP_MANAGER),
    ("mem", ApprovalBody.REC_CODE_MANAGER),
    ("data_service", ApprovalBody.DIP_MANAGER),
    ("data_service", ApprovalBody.BSC_PAB),
)
