"""The demo data set, as data: organisations, people, staff and applications with the story of each.

Everything here is fictional (organisations, people, MPIDs, DIP IDs and company numbers; e-mail
addresses use the reserved `.example` domain), but it follows the real process: the routes, the
approval-routing matrix, the documents and the way reviewers and participants write to each other.
`services.demo_data_load` turns it into rows by calling the ordinary services.
"""

from dataclasses import dataclass

from portal.accounts.roles import Role
from portal.qualification.workflow import Action, ApplicationStatus, Decision

# One password for every demo account, printed by `manage.py demo_logins`. Demo data only.
DEMO_PASSWORD = "mhhs-demo-password"  # noqa: S105
# The authenticator-app secret of every demo staff user and director (they must sign in with a second
# factor): add it to an authenticator app as a "setup key", or print the current code with
# `manage.py demo_totp`. Published, so demo data only (load_demo_data refuses production settings).
DEMO_TOTP_SECRET = "MHHSDEMOQUALIFICATIONPORTAL23456"  # noqa: S105


@dataclass(frozen=True)
class Person:
    email: str
    full_name: str
    job_title: str
    director: bool = False


@dataclass(frozen=True)
class OrganisationSpec:
    name: str
    company_number: str
    mpids: tuple[str, ...]
    people: tuple[Person, ...]
    contact_email: str
    is_bsc_party: bool = True
    is_rec_party: bool = True
    is_new_entrant: bool = False

    @property
    def members(self) -> tuple[Person, ...]:
        """People who are members but not directors, in the order given."""
        return tuple(p for p in self.people if not p.director)

    @property
    def director(self) -> Person:
        return next(p for p in self.people if p.director)


@dataclass(frozen=True)
class StaffSpec:
    email: str
    full_name: str
    job_title: str
    role: Role
    body: str
    superuser: bool = False


# --- the steps of an application's story --------------------------------------------------------


@dataclass(frozen=True)
class Walk:
    """Take the next step the process allows, again and again, with the usual comments.

    Stops when nothing more can be done or when the task `until_before` is next. Tasks in `hold` are
    left as they are. `work_off` submits a work-off plan; otherwise optional tasks are marked not
    required."""

    until_before: str | None = None
    hold: tuple[str, ...] = ()
    work_off: bool = False


@dataclass(frozen=True)
class Step:
    """One transition, taken by a holder of `role` (or by the demo user `by`), with its own comment."""

    task: str
    action: Action
    role: Role
    comment: str = ""
    by: str | None = None


@dataclass(frozen=True)
class Withdraw:
    reason: str
    by: str | None = None


Script = tuple[Walk | Step | Withdraw, ...]


@dataclass(frozen=True)
class BoardItem:
    """One application on the agenda of the demo's BSC PAB meeting."""

    outcome: Decision
    recommendation: str
    rationale: str


@dataclass(frozen=True)
class ApplicationSpec:
    stage: str  # what this application shows, in words
    organisation: str
    mpid: str
    market_role: str
    route: str
    expected_status: ApplicationStatus
    script: Script = ()
    dip_id: str = ""
    # Which of the Elexon analysts reviews this application (0 or 1).
    analyst: int = 0
    # On the agenda of the demo's BSC PAB meeting (held today): what the Elexon analyst recommends and
    # what the Board decides, with its reasons; `after_board` is played once the Board has decided.
    board: BoardItem | None = None
    after_board: Script = ()


# --- staff --------------------------------------------------------------------------------------

STAFF: tuple[StaffSpec, ...] = (
    StaffSpec(
        "harriet.lowe@elexon.example",
        "Harriet Lowe",
        "Qualification Analyst",
        Role.ELEXON_ANALYST,
        "Elexon (BSC Code Body)",
    ),
    StaffSpec(
        "samuel.adeyemi@elexon.example",
        "Samuel Adeyemi",
        "Senior Qualification Analyst",
        Role.ELEXON_ANALYST,
        "Elexon (BSC Code Body)",
    ),
    StaffSpec(
        "mark.holloway@qsp.example",
        "Mark Holloway",
        "Lead Qualification Assessor",
        Role.QSP,
        "Qualification Service Provider",
    ),
    StaffSpec(
        "priya.raman@mhhsprogramme.example",
        "Priya Raman",
        "Qualification Test Manager",
        Role.TESTING_ASSURANCE,
        "Testing Assurance",
    ),
    StaffSpec(
        "james.whitaker@mhhsprogramme.example",
        "James Whitaker",
        "PIT Assurance Lead",
        Role.PROGRAMME_ASSURANCE,
        "MHHS Programme",
    ),
    StaffSpec(
        "eleanor.hughes@dipmanager.example",
        "Eleanor Hughes",
        "DIP Onboarding Manager",
        Role.DIP_MANAGER,
        "DIP Manager",
    ),
    StaffSpec(
        "kwame.mensah@recmanager.example",
        "Kwame Mensah",
        "Performance Assurance Analyst",
        Role.REC_CODE_MANAGER,
        "REC Code Manager",
    ),
    StaffSpec(
        "rachel.fox@elexon.example",
        "Rachel Fox",
        "BSC PAB Secretary",
        Role.PAB_SECRETARY,
        "BSC PAB",
    ),
    StaffSpec(
        "margaret.ellison@bscpab.example",
        "Margaret Ellison",
        "BSC PAB Chair",
        Role.PAB_CHAIR,
        "BSC PAB",
    ),
    StaffSpec(
        "david.okonkwo@bscpab.example",
        "David Okonkwo",
        "BSC PAB member (Supplier representative)",
        Role.PAB_MEMBER,
        "BSC PAB",
    ),
    StaffSpec(
        "lucy.barnes@elexon.example",
        "Lucy Barnes",
        "Helix Service Activation Lead",
        Role.SERVICE_ACTIVATION,
        "Elexon Helix Service Activation",
    ),
    StaffSpec(
        "alex.morgan@portal.example",
        "Alex Morgan",
        "Portal administrator",
        Role.ADMINISTRATOR,
        "Portal administration",
        superuser=True,
    ),
)


# --- organisations ------------------------------------------------------------------------------

AURORA = "Aurora Energy Supply Ltd"
BRIGHTWATER = "Brightwater Power Ltd"
EASTERN = "Eastern Counties Electricity Networks plc"
SOLWAY = "Solway Distribution Networks Ltd"
MERIDIAN = "Meridian Metering Services Ltd"
TAMAR = "Tamar Valley Metering Ltd"
HALCYON = "Halcyon Data Services Ltd"
LAMPLIGHT = "Lamplight Unmetered Services Ltd"
THISTLE = "Thistle Home Energy Ltd"
FENWICK = "Fenwick & Dale Energy Ltd"
WYVERN = "Wyvern Energy Ltd"

ORGANISATIONS: tuple[OrganisationSpec, ...] = (
    OrganisationSpec(
        AURORA,
        "11873402",
        ("AURA", "AURB"),
        (
            Person("sophie.marsh@aurora-energy.example", "Sophie Marsh", "MHHS Programme Lead"),
            Person("daniel.achebe@aurora-energy.example", "Daniel Achebe", "Test Manager"),
            Person("catherine.doyle@aurora-energy.example", "Catherine Doyle", "Chief Operating Officer", True),
        ),
        "mhhs@aurora-energy.example",
    ),
    OrganisationSpec(
        BRIGHTWATER,
        "09214576",
        ("BRTW", "BRTN"),
        (
            Person("tom.reilly@brightwater-power.example", "Tom Reilly", "Industry Codes Manager"),
            Person("anita.shah@brightwater-power.example", "Anita Shah", "Director of Regulation", True),
        ),
        "industry.codes@brightwater-power.example",
    ),
    OrganisationSpec(
        EASTERN,
        "02366845",
        ("ECEN",),
        (
            Person("gareth.llewellyn@ecen-networks.example", "Gareth Llewellyn", "Settlement Systems Manager"),
            Person("fiona.mcleod@ecen-networks.example", "Fiona McLeod", "Head of Market Operations"),
            Person("richard.osei@ecen-networks.example", "Richard Osei", "Director of Network Operations", True),
        ),
        "market.operations@ecen-networks.example",
    ),
    OrganisationSpec(
        SOLWAY,
        "14502718",
        ("SLWY",),
        (
            Person("megan.pritchard@solway-networks.example", "Megan Pritchard", "Market Entry Manager"),
            Person("alistair.graham@solway-networks.example", "Alistair Graham", "Managing Director", True),
        ),
        "market.entry@solway-networks.example",
        is_new_entrant=True,
    ),
    OrganisationSpec(
        MERIDIAN,
        "08765123",
        ("MRDN", "MRDC"),
        (
            Person("joanne.whitfield@meridian-metering.example", "Joanne Whitfield", "Compliance Manager"),
            Person("paul.nakamura@meridian-metering.example", "Paul Nakamura", "Operations Director", True),
        ),
        "compliance@meridian-metering.example",
        is_bsc_party=False,
    ),
    OrganisationSpec(
        TAMAR,
        "10457736",
        ("TMVM",),
        (
            Person("rhys.trevithick@tamar-metering.example", "Rhys Trevithick", "Operations Manager"),
            Person("helen.penrose@tamar-metering.example", "Helen Penrose", "Managing Director", True),
        ),
        "operations@tamar-metering.example",
        is_bsc_party=False,
    ),
    OrganisationSpec(
        HALCYON,
        "07632918",
        ("HLCN",),
        (
            Person("oliver.grant@halcyon-data.example", "Oliver Grant", "Data Services Lead"),
            Person("zara.hussain@halcyon-data.example", "Zara Hussain", "Quality Assurance Lead"),
            Person("martin.kowalski@halcyon-data.example", "Martin Kowalski", "Technical Director", True),
        ),
        "qualification@halcyon-data.example",
        is_bsc_party=False,
        is_rec_party=False,
    ),
    OrganisationSpec(
        LAMPLIGHT,
        "06123987",
        ("LAMP",),
        (
            Person("beth.carrow@lamplight-ums.example", "Beth Carrow", "UMS Data Manager"),
            Person("ian.fairbairn@lamplight-ums.example", "Ian Fairbairn", "Managing Director", True),
        ),
        "ums@lamplight-ums.example",
        is_bsc_party=False,
        is_rec_party=False,
    ),
    OrganisationSpec(
        THISTLE,
        "SC701245",
        ("THSL",),
        (
            Person("kirsty.munro@thistle-energy.example", "Kirsty Munro", "Head of Market Entry"),
            Person("callum.baird@thistle-energy.example", "Callum Baird", "Chief Executive", True),
        ),
        "market.entry@thistle-energy.example",
        is_new_entrant=True,
    ),
    OrganisationSpec(
        FENWICK,
        "12098834",
        ("FNDL",),
        (
            Person("laura.bennett@fenwickdale.example", "Laura Bennett", "Regulatory Analyst"),
            Person("simon.dale@fenwickdale.example", "Simon Dale", "Finance Director", True),
        ),
        "regulation@fenwickdale.example",
    ),
    OrganisationSpec(
        WYVERN,
        "13377120",
        ("WYVN",),
        (
            Person("chris.evans@wyvern-energy.example", "Chris Evans", "Head of Industry Change"),
            Person("nia.roberts@wyvern-energy.example", "Nia Roberts", "Test Lead"),
            Person("owain.price@wyvern-energy.example", "Owain Price", "Chief Technology Officer", True),
        ),
        "industry.change@wyvern-energy.example",
    ),
)

# The participant logins `demo_logins` shows: a member and a director of the same organisation,
# whose applications give each of them something to do.
PRIMARY_MEMBER = "sophie.marsh@aurora-energy.example"
PRIMARY_DIRECTOR = "catherine.doyle@aurora-energy.example"


# --- what reviewers and participants usually write ----------------------------------------------
# Keyed by (task code, action). Placeholders: org, mpid, role, role_code, testing (the title of the
# route's testing task), testing_outcome, dip_id, pab.

USUAL_COMMENTS: dict[tuple[str, Action], str] = {
    ("pqs", Action.SUBMIT): (
        "PQS for {mpid} as {role}. Preferred wave: the next available QT wave; PIT to complete within "
        "eight weeks; QT approach and timescales are in section 3. We propose to place reliance on our "
        "software vendor's flow-management testing of the DIP message interfaces. Our own back-office "
        "integrations are not covered by the proposal and will be tested in full."
    ),
    ("pqs", Action.ACCEPT): (
        "The Code Bodies have reviewed the PQS and the placing-reliance proposal. Reliance on the "
        "vendor's flow-management testing is agreed; the reduced QTC set will be issued with your wave "
        "allocation."
    ),
    ("pqs", Action.MARK_NOT_REQUIRED): (
        "Not required: {org} does not place reliance on testing done by a third party, so every QT test "
        "case will be run in full."
    ),
    ("pit", Action.START): "PIT under way in our own test environment; RTTM at PIT entry attached.",
    ("pit", Action.SUBMIT): (
        "PIT exit criteria checklist completed, with evidence against each criterion. RTTM at PIT entry "
        "and PIT exit attached; DBT1 is complete with no open severity 1 or 2 defects."
    ),
    ("pit", Action.ACCEPT): (
        "PIT assured against the PIT exit criteria. The remaining severity 3 defects are tracked into "
        "testing; no objection to entry."
    ),
    ("dip_onboarding", Action.SUBMIT): (
        "DIP onboarding steps complete in pre-production: users set up, GlobalSign certificates issued "
        "and the message channel configured. DIP ID {dip_id} requested for {mpid} as {role_code}."
    ),
    ("dip_onboarding", Action.ACCEPT): (
        "Onboarding confirmed. DIP ID {dip_id} is active in pre-production for {mpid} ({role_code}); "
        "certificate and webhook checks passed."
    ),
    ("initial_qad", Action.SUBMIT): (
        "Initial QAD submitted to the Appendix C timeline. The section 4.5 answers reference our PIT "
        "non-functional results."
    ),
    ("initial_qad", Action.ACCEPT): (
        "Initial QAD reviewed by the Code Bodies, including the DIP Manager's section 4.5. No "
        "clarifications outstanding; the remaining evidence is expected in the Final QAD."
    ),
    ("qt", Action.START): (
        "{testing} under way. Test execution plan and participant readiness report attached; RTTM at entry uploaded."
    ),
    ("qt", Action.SUBMIT): "{testing} complete. Test completion report and RTTM at exit attached. {testing_outcome}",
    ("qt", Action.ACCEPT): "Exit criteria met. Test completion report and step evidence reviewed; exit confirmed.",
    ("workoff", Action.SUBMIT): (
        "Work-off plan for the outstanding test cases: the fixes ship in our next release, are re-tested "
        "in the following regression window and every item is closed before Service Activation. Owners "
        "and dates are in the attached plan."
    ),
    ("workoff", Action.ACCEPT): (
        "Work-off plan reviewed with Testing Assurance and agreed by the Code Bodies. Progress will be "
        "reported in the summary for PAB."
    ),
    ("workoff", Action.MARK_NOT_REQUIRED): (
        "Not required: every test case was completed, so there is nothing to work off."
    ),
    ("final_qad", Action.SUBMIT): (
        "Final QAD submitted with the full evidence set for PIT, {testing}, and the procedural and governance sections."
    ),
    ("final_qad", Action.ACCEPT): (
        "The Code Bodies agree that the Final QAD content is complete. Over to the Company Director for sign-off."
    ),
    ("director_signoff", Action.SIGN): (
        "Signed for the board of {org}. I confirm that the Final QAD is complete and accurate."
    ),
    ("approval_dip_manager", Action.APPROVE): (
        "Approved. The section 4.5 responses and the DIP onboarding evidence meet the DIP Manager's requirements."
    ),
    ("approval_rec_code_manager", Action.APPROVE): (
        "Approved on a rolling basis from Director sign-off. The REC Party Register has been updated."
    ),
    ("service_activation", Action.START): (
        "Service Activation started: Helix onboarding is booked and production DIP users are being set "
        "up again for {mpid}."
    ),
    (
        "service_activation",
        Action.COMPLETE,
    ): "Service Activation complete. {org} may now operate as {role} under {mpid}.",
}

# Who usually takes an assurer's step when a task allows several roles.
USUAL_ROLE: dict[tuple[str, Action], Role] = {
    ("final_qad", Action.ACCEPT): Role.QSP,
}

WITH_WORK_OFF = "Four test cases could not be completed in the window; our work-off plan follows."
WITHOUT_WORK_OFF = "Every in-scope test case passed, with evidence for each step."


# --- the applications, oldest first -------------------------------------------------------------

APPLICATIONS: tuple[ApplicationSpec, ...] = (
    ApplicationSpec(
        "active: approved by the BSC PAB today, letter issued, through Service Activation",
        LAMPLIGHT,
        "LAMP",
        "UMSDS",
        "sit",
        ApplicationStatus.ACTIVE,
        (Walk(hold=("approval_bsc_pab",)),),
        dip_id="4100000279",
        board=BoardItem(
            Decision.APPROVED,
            "Approve. Lamplight completed SIT with every UMSDS test case passed and no work-off items; the Final "
            "QAD is complete and signed, and the DIP Manager has approved.",
            "The Board considered the summary presented by Elexon and the Qualification Service Provider and "
            "approved MHHS Qualification for LAMP as Unmetered Supplies Data Service.",
        ),
        after_board=(Walk(),),
    ),
    ApplicationSpec(
        "in Service Activation: approved by the BSC PAB today with conditions",
        EASTERN,
        "ECEN",
        "LDSO",
        "non_sit_ldso",
        ApplicationStatus.IN_SERVICE_ACTIVATION,
        (Walk(hold=("approval_bsc_pab",), work_off=True),),
        dip_id="1200000154",
        analyst=1,
        board=BoardItem(
            Decision.APPROVED_WITH_CONDITIONS,
            "Approve with conditions. Qualification Testing met its exit criteria; the agreed work-off item "
            "should be a condition of qualification, closed before Service Activation completes.",
            "Approved with conditions: the agreed work-off item must be closed, with evidence, before Service "
            "Activation completes. The Board asked Elexon to report its closure at the next meeting.",
        ),
        after_board=(Step("service_activation", Action.START, Role.SERVICE_ACTIVATION),),
    ),
    ApplicationSpec(
        "qualified, Service Activation not yet started",
        MERIDIAN,
        "MRDN",
        "MEM",
        "non_sit_supplier_agent",
        ApplicationStatus.QUALIFIED,
        (Walk(until_before="service_activation"),),
        dip_id="3100004420",
    ),
    ApplicationSpec(
        "active: a MEM approved by the REC Code Manager and the DIP Manager, through Service Activation",
        MERIDIAN,
        "MRDC",
        "MEM",
        "non_sit_supplier_agent",
        ApplicationStatus.ACTIVE,
        (Walk(),),
        dip_id="3100004439",
        analyst=1,
    ),
    ApplicationSpec(
        "rejected by the REC Code Manager",
        TAMAR,
        "TMVM",
        "MEM",
        "non_sit_supplier_agent",
        ApplicationStatus.REJECTED,
        (
            Walk(hold=("approval_rec_code_manager",), work_off=True),
            Step(
                "approval_rec_code_manager",
                Action.REJECT,
                Role.REC_CODE_MANAGER,
                "Rejected for the following reasons: Tamar Valley Metering's qualification as MOA under REC "
                "Schedule 9 lapsed on 30 September and has not been renewed, and the Final QAD does not "
                "evidence end-to-end testing of meter technical details flows to the new Data Services. "
                "The company may apply again once its MOA qualification is restored.",
            ),
        ),
        dip_id="3100004471",
        analyst=1,
    ),
    ApplicationSpec(
        "BSC PAB deferred, participant resubmitted for the next meeting",
        SOLWAY,
        "SLWY",
        "LDSO",
        "new_entrant_ldso",
        ApplicationStatus.IN_APPROVAL,
        (
            Step("pqs", Action.MARK_NOT_REQUIRED, Role.PARTICIPANT_MEMBER),
            Walk(hold=("approval_bsc_pab",), work_off=True),
        ),
        dip_id="1200000611",
        board=BoardItem(
            Decision.DEFERRED,
            "Defer. The open work-off item on settlement-period data has no closure evidence yet, and the failed "
            "registration scenario has not been re-run.",
            "The Board deferred its decision and asked for (1) evidence that the open work-off item on "
            "settlement-period data will be closed before Service Activation, and (2) the re-run results of the "
            "failed registration scenario. The application is re-listed at the next meeting once both are "
            "provided.",
        ),
        after_board=(
            Step(
                "approval_bsc_pab",
                Action.SUBMIT,
                Role.PARTICIPANT_MEMBER,
                "Both items provided for re-listing: the work-off item was closed in our latest release "
                "(evidence attached), and the registration scenario was re-run with every step passing; the "
                "evidence is in the QTF.",
            ),
        ),
    ),
    ApplicationSpec(
        "waiting for BSC PAB: DIP Manager and REC Code Manager have approved",
        BRIGHTWATER,
        "BRTW",
        "SUP",
        "sit",
        ApplicationStatus.IN_APPROVAL,
        (Walk(hold=("approval_bsc_pab",), work_off=True),),
        dip_id="2300000187",
        analyst=1,
    ),
    ApplicationSpec(
        "Final QAD agreed, waiting for the Director's signature",
        AURORA,
        "AURB",
        "SUP",
        "non_sit_supplier_agent",
        ApplicationStatus.FINAL_QAD,
        (Walk(until_before="director_signoff", work_off=True),),
        dip_id="1009204425",
    ),
    ApplicationSpec(
        "Final QAD submitted, waiting for the Code Bodies' review",
        BRIGHTWATER,
        "BRTN",
        "SUP",
        "sit",
        ApplicationStatus.FINAL_QAD,
        (
            Walk(until_before="final_qad"),
            Step(
                "final_qad",
                Action.SUBMIT,
                Role.PARTICIPANT_MEMBER,
                "Final QAD for BRTN, our second Supplier MPID, which runs on the same platform as BRTW. The "
                "evidence is the same SIT evidence set, with the BRTN-specific DIP onboarding and migration "
                "results in sections 3.2 and 4.5. Every SIT test case passed, so there is no work-off plan.",
            ),
        ),
        dip_id="2300000195",
    ),
    ApplicationSpec(
        "withdrawn by the participant",
        FENWICK,
        "FNDL",
        "SUP",
        "non_sit_supplier_agent",
        ApplicationStatus.WITHDRAWN,
        (
            Walk(until_before="initial_qad"),
            Withdraw(
                "Following the sale of our domestic customer book we will no longer operate as a Supplier "
                "under FNDL. We will apply again if we return to the market."
            ),
        ),
        dip_id="1009207703",
        analyst=1,
    ),
    ApplicationSpec(
        "in Qualification Testing: test completion report submitted to Testing Assurance",
        WYVERN,
        "WYVN",
        "SUP",
        "non_sit_supplier_agent",
        ApplicationStatus.IN_TESTING,
        (
            Walk(until_before="qt"),
            Step("qt", Action.START, Role.PARTICIPANT_MEMBER, by="nia.roberts@wyvern-energy.example"),
            Step(
                "qt",
                Action.SUBMIT,
                Role.PARTICIPANT_MEMBER,
                "Qualification Testing complete: 139 of 143 test cases passed with step evidence in the QTF. "
                "Four test cases on change of agent could not be completed in the window because of a "
                "defect in our read-rejection handling; the work-off plan follows. Test completion report "
                "and RTTM at QT exit attached.",
                by="nia.roberts@wyvern-energy.example",
            ),
        ),
        dip_id="1009211854",
    ),
    ApplicationSpec(
        "in Qualification Testing, after a round of clarifications on the Initial QAD",
        AURORA,
        "AURA",
        "SUP",
        "non_sit_supplier_agent",
        ApplicationStatus.IN_TESTING,
        (
            Walk(until_before="initial_qad"),
            Step("initial_qad", Action.SUBMIT, Role.PARTICIPANT_MEMBER),
            Step(
                "initial_qad",
                Action.REQUEST_CHANGES,
                Role.ELEXON_ANALYST,
                "Thank you. Two points before we can accept it: section 4.5.2 gives the design throughput, "
                "but we need the volumes actually achieved in PIT performance testing; and section 3.4 "
                "should reference the RTTM rows that cover the migration requirements. Please resubmit "
                "with both addressed.",
            ),
            Step(
                "initial_qad",
                Action.SUBMIT,
                Role.PARTICIPANT_MEMBER,
                "Resubmitted. Section 4.5.2 now gives the PIT results (a sustained peak of 38 messages a "
                "second for two hours, against a requirement of 25) and section 3.4 references RTTM rows "
                "112 to 131.",
                by="daniel.achebe@aurora-energy.example",
            ),
            Step("initial_qad", Action.ACCEPT, Role.ELEXON_ANALYST, "Both points addressed, thank you. Accepted."),
            Step(
                "qt",
                Action.START,
                Role.PARTICIPANT_MEMBER,
                "QT started in our wave window on Monday. Test execution plan and participant readiness "
                "report attached; RTTM at QT entry uploaded. Two testers are still waiting for ADO access, "
                "which is not blocking.",
                by="daniel.achebe@aurora-energy.example",
            ),
        ),
        dip_id="1009204417",
    ),
    ApplicationSpec(
        "changes requested on the Initial QAD",
        HALCYON,
        "HLCN",
        "ADS",
        "non_sit_supplier_agent",
        ApplicationStatus.IN_PREPARATION,
        (
            Walk(until_before="initial_qad"),
            Step("initial_qad", Action.SUBMIT, Role.PARTICIPANT_MEMBER),
            Step(
                "initial_qad",
                Action.REQUEST_CHANGES,
                Role.ELEXON_ANALYST,
                "Clarifications needed before we can accept the Initial QAD: (1) section 4.5 does not say "
                "how the ADS processing backlog is recovered after a DIP outage; (2) the evidence for the "
                "advanced-meter read validation requirements points at a PIT test that your RTTM marks "
                "as not run. Please update both and resubmit; happy to talk them through on a call this "
                "week.",
            ),
        ),
        dip_id="4100000392",
        analyst=1,
    ),
    ApplicationSpec(
        "submitted: PIT exit and DIP onboarding waiting for assurance",
        HALCYON,
        "HLCN",
        "SDS",
        "non_sit_supplier_agent",
        ApplicationStatus.IN_PREPARATION,
        (
            Step("pqs", Action.SUBMIT, Role.PARTICIPANT_MEMBER),
            Step("pqs", Action.ACCEPT, Role.ELEXON_ANALYST),
            Step("pit", Action.START, Role.PARTICIPANT_MEMBER, by="zara.hussain@halcyon-data.example"),
            Step("pit", Action.SUBMIT, Role.PARTICIPANT_MEMBER, by="zara.hussain@halcyon-data.example"),
            Step(
                "dip_onboarding",
                Action.SUBMIT,
                Role.PARTICIPANT_MEMBER,
                "Onboarding steps complete in pre-production. GlobalSign vetting and domain verification "
                "took longer than planned, but the certificates are now issued and the webhook is live. "
                "DIP ID 4100000406 recorded for HLCN as SDS.",
            ),
        ),
        dip_id="4100000406",
        analyst=1,
    ),
    ApplicationSpec(
        "just registered",
        THISTLE,
        "THSL",
        "SUP",
        "non_standard",
        ApplicationStatus.IN_PREPARATION,
    ),
)
