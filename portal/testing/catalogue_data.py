"""The shipped Qualification Testing catalogue, as data: requirements, DIP flows, test scenarios and
test cases (each loaded as version 1).

Loaded by a data migration (`0004_default_catalogue`) and by `catalogue_load()` for a database that
was emptied; after that Testing Assurance and the Code Bodies keep the catalogue in the portal (its
pages, its workbook import and the API), where every change is a new, audited case version.

Sources: the QT stages of the qualification process (functional batches, migration and DIP scenarios,
non-functional and operational testing), the requirement areas of the RTTM and the QAD (functional,
migration, non-functional, operational), and the DIP interfaces seen in the DIP Simulator and public
code: IF-001 to IF-009, IF-013 to IF-015, IF-033, IF-035, IF-041 and the publications PUB-007 and
PUB-035.

What is *not* known, and so is an assumption here, to be replaced by the programme's own catalogue
through the workbook import:
- The identifier formats. The real QT Test Case ID format is not published, so this catalogue uses
  `REQ-<area>-nnn` for requirements, `QTS-<batch>-nn` for scenarios and `QTS`'s number followed by a
  case number for cases (`QTC-FUN-01-01` is the first case of scenario `QTS-FUN-01`).
- The wording of every requirement, scenario, case and step: written from the process descriptions,
  not copied from the programme's scenario lists.
- The titles of IF-005 and IF-006 (published only as "Metering Service MTD updates") and of the two
  publications, and which flows a participant may opt out of (the core registration, appointment and
  reading flows may not be opted out of here).
"""

from dataclasses import dataclass
from typing import Any

from django.apps import apps as global_apps

ALL_GROUPS = ("supplier", "ldso", "mem", "data_service")


@dataclass(frozen=True)
class RequirementSpec:
    identifier: str
    area: str
    text: str


@dataclass(frozen=True)
class FlowSpec:
    code: str
    title: str
    opt_out_allowed: bool = True


@dataclass(frozen=True)
class ScenarioSpec:
    identifier: str
    title: str
    batch: str
    description: str


@dataclass(frozen=True)
class CaseSpec:
    identifier: str
    title: str
    role_groups: tuple[str, ...]
    flows: tuple[str, ...]
    requirements: tuple[str, ...]
    steps: tuple[tuple[str, str], ...]
    mandatory: bool = True

    @property
    def scenario(self) -> str:
        """QTC-FUN-01-02 belongs to QTS-FUN-01."""
        return "QTS-" + self.identifier.removeprefix("QTC-").rsplit("-", 1)[0]


REQUIREMENTS: tuple[RequirementSpec, ...] = (
    # Functional
    RequirementSpec(
        "REQ-FUN-001",
        "functional",
        "The Supplier registers an MPAN on a change of supplier and processes the Registration Service's "
        "notification of the change (IF-001), as gaining and as losing supplier.",
    ),
    RequirementSpec(
        "REQ-FUN-002",
        "functional",
        "The Registration Service notifies the gaining and losing Supplier and the appointed services of a "
        "change of supplier, with the secured supply start date (IF-001).",
    ),
    RequirementSpec(
        "REQ-FUN-003",
        "functional",
        "The Supplier requests the appointment of a metering service and a data service (IF-033) and acts "
        "on the acceptance or rejection it receives (IF-035).",
    ),
    RequirementSpec(
        "REQ-FUN-004",
        "functional",
        "The Metering Service (MEM) accepts or rejects a proposed appointment within the service level, "
        "with a response code and reason (IF-035).",
    ),
    RequirementSpec(
        "REQ-FUN-005",
        "functional",
        "The Data Service accepts or rejects a proposed appointment within the service level, with a "
        "response code and reason (IF-035).",
    ),
    RequirementSpec(
        "REQ-FUN-006",
        "functional",
        "The Metering Service sends metering technical details (MTD) to the Registration Service when a "
        "meter is installed, exchanged or reconfigured (IF-002).",
    ),
    RequirementSpec(
        "REQ-FUN-007",
        "functional",
        "The Registration Service records MTD updates and the Supplier, Data Service and LDSO receive and "
        "apply them (IF-005, IF-006).",
    ),
    RequirementSpec(
        "REQ-FUN-008",
        "functional",
        "A change of energisation status is reported by the Metering Service (IF-007) and notified by the "
        "Registration Service to the Supplier and the Data Service (IF-008).",
    ),
    RequirementSpec(
        "REQ-FUN-009",
        "functional",
        "The Data Service provides the change of supplier meter reading to the gaining and losing Supplier (IF-041).",
    ),
    RequirementSpec(
        "REQ-FUN-010",
        "functional",
        "The Supplier receives, validates and bills from the change of supplier meter reading, and "
        "disputes a reading it cannot accept (IF-041).",
    ),
    RequirementSpec(
        "REQ-FUN-011",
        "functional",
        "The LDSO disconnects an MPAN and de-registers it in the Central Switching Service, and the "
        "Supplier and services act on the notification (IF-009).",
    ),
    RequirementSpec(
        "REQ-FUN-012",
        "functional",
        "The Data Service corrects and resends UTC settlement period consumption data that was rejected "
        "(IF-014), and acts on notifications of defaulted data (IF-013).",
    ),
    RequirementSpec(
        "REQ-FUN-013",
        "functional",
        "The Supplier receives notifications of defaulted UTC settlement period consumption data for its "
        "MPANs and follows them up with its Data Service (IF-013).",
    ),
    RequirementSpec(
        "REQ-FUN-014",
        "functional",
        "For Advanced sites, historic consumption can be requested and replayed to a new Supplier or Data "
        "Service (IF-015).",
    ),
    RequirementSpec(
        "REQ-FUN-015",
        "functional",
        "For smart meters, the Metering Service provides the comms hub information to the Registration "
        "Service and the Supplier (IF-004).",
    ),
    RequirementSpec(
        "REQ-FUN-016",
        "functional",
        "Every inbound DIP message is validated against its interface schema, and an invalid message is "
        "rejected with the error reported to the sender.",
    ),
    # Migration
    RequirementSpec(
        "REQ-MIG-001",
        "migration",
        "The Supplier migrates a legacy MPAN to the MHHS arrangements, appointing MHHS metering and data "
        "services, without a change of supplier.",
    ),
    RequirementSpec(
        "REQ-MIG-002",
        "migration",
        "The Registration Service records the migration of an MPAN and notifies every party appointed to it.",
    ),
    RequirementSpec(
        "REQ-MIG-003",
        "migration",
        "The Data Service accepts the appointment to a migrated MPAN and starts providing settlement data "
        "from the migration date.",
    ),
    RequirementSpec(
        "REQ-MIG-004",
        "migration",
        "The Metering Service accepts the appointment to a migrated MPAN and sends its metering technical details.",
    ),
    RequirementSpec(
        "REQ-MIG-005",
        "migration",
        "An MPAN can be reverse-migrated to the legacy arrangements, with the MHHS services de-appointed (IF-003).",
    ),
    RequirementSpec(
        "REQ-MIG-006",
        "migration",
        "The Supplier schedules migrations within the daily and weekly capacity set by the Migration Control Centre.",
    ),
    RequirementSpec(
        "REQ-MIG-007",
        "migration",
        "The legacy test MPANs issued for QT are loaded as legacy MPANs and migrate without manual correction.",
    ),
    # Non-functional
    RequirementSpec(
        "REQ-NFR-001",
        "non_functional",
        "The participant connects to the DIP with mutual TLS, using the certificates issued for its DIP ID.",
    ),
    RequirementSpec(
        "REQ-NFR-002",
        "non_functional",
        "Every outbound message is signed (X-DIP-Signature) and every inbound message's signature and "
        "content hash are checked before it is processed.",
    ),
    RequirementSpec(
        "REQ-NFR-003",
        "non_functional",
        "The participant's systems process the expected peak daily message volume for its market share "
        "within the service levels.",
    ),
    RequirementSpec(
        "REQ-NFR-004",
        "non_functional",
        "Webhook endpoints acknowledge within the DIP's timeout, and a replayed message is processed once only.",
    ),
    RequirementSpec(
        "REQ-NFR-005",
        "non_functional",
        "After an outage the participant recovers and processes the backlog of messages in order, losing none.",
    ),
    RequirementSpec(
        "REQ-NFR-006",
        "non_functional",
        "The Data Service produces settlement data for every MPAN it serves within the settlement timetable "
        "at full volume.",
    ),
    RequirementSpec(
        "REQ-NFR-007",
        "non_functional",
        "DIP certificates are renewed and rotated without losing or rejecting messages.",
    ),
    RequirementSpec(
        "REQ-NFR-008",
        "non_functional",
        "Access to the DIP administration roles is controlled and every change by an administrator is logged.",
    ),
    # Operational
    RequirementSpec(
        "REQ-OPS-001",
        "operational",
        "The message channels are monitored, and the DIP's asynchronous error reports (levels 1 to 3) are "
        "acted on within the service levels.",
    ),
    RequirementSpec(
        "REQ-OPS-002",
        "operational",
        "Failed and rejected messages are queued, investigated, corrected and resent, with an audit trail.",
    ),
    RequirementSpec(
        "REQ-OPS-003",
        "operational",
        "Incidents are raised with and resolved through the DIP Manager's and the programme's service desks.",
    ),
    RequirementSpec(
        "REQ-OPS-004",
        "operational",
        "Business continuity: the service fails over to its secondary arrangements and back, tested at least yearly.",
    ),
    RequirementSpec(
        "REQ-OPS-005",
        "operational",
        "Each monthly Industry Standing Data release is loaded and applied before its effective date.",
    ),
    RequirementSpec(
        "REQ-OPS-006",
        "operational",
        "DIP users are added, changed and removed as staff join and leave, with the certificate and message "
        "administrator roles always held.",
    ),
    RequirementSpec(
        "REQ-OPS-007",
        "operational",
        "Registration data held by the participant is reconciled with the Registration Service and "
        "differences are resolved.",
    ),
)

FLOWS: tuple[FlowSpec, ...] = (
    FlowSpec("IF-001", "Notification of Change of Supplier", opt_out_allowed=False),
    FlowSpec("IF-002", "Notification of Metering Service MTD update to Registration", opt_out_allowed=False),
    FlowSpec("IF-003", "Reverse Migration and De-Appointment"),
    FlowSpec("IF-004", "Comms Hub Information"),
    FlowSpec("IF-005", "Metering Service MTD update to the Supplier and the Data Service"),
    FlowSpec("IF-006", "Metering Service MTD update to the LDSO"),
    FlowSpec("IF-007", "Change of Energisation Status", opt_out_allowed=False),
    FlowSpec("IF-008", "Registration Service Change of Energisation Status Notification", opt_out_allowed=False),
    FlowSpec("IF-009", "LDSO Disconnection and CSS De-Registration"),
    FlowSpec("IF-013", "Defaulted UTC Settlement Period Consumption Data", opt_out_allowed=False),
    FlowSpec("IF-014", "Rejected UTC Settlement Period Consumption Data", opt_out_allowed=False),
    FlowSpec("IF-015", "Request Historic Consumption Replay (Advanced sites only)"),
    FlowSpec("IF-033", "Service Provider Appointment Request", opt_out_allowed=False),
    FlowSpec("IF-035", "Service Provider Appointment Response", opt_out_allowed=False),
    FlowSpec("IF-041", "Meter Readings on Change of Supplier", opt_out_allowed=False),
    FlowSpec("PUB-007", "Publication of registration changes to appointed services"),
    FlowSpec("PUB-035", "Publication of service appointment outcomes"),
)

SCENARIOS: tuple[ScenarioSpec, ...] = (
    ScenarioSpec(
        "QTS-FUN-01",
        "Change of supplier",
        "functional",
        "Registration of an MPAN by a gaining supplier, the notifications to every party, and the change of "
        "supplier reading.",
    ),
    ScenarioSpec(
        "QTS-FUN-02",
        "Service appointments",
        "functional",
        "Appointment of metering and data services: request, acceptance, rejection and re-proposal.",
    ),
    ScenarioSpec(
        "QTS-FUN-03",
        "Metering technical details",
        "functional",
        "MTD sent by the Metering Service, recorded by Registration and applied by everyone appointed.",
    ),
    ScenarioSpec(
        "QTS-FUN-04",
        "Change of energisation status",
        "functional",
        "Energisation and de-energisation reported by the Metering Service and notified by Registration.",
    ),
    ScenarioSpec(
        "QTS-FUN-05",
        "Settlement consumption data",
        "functional",
        "Rejected and defaulted UTC settlement period consumption data, and historic consumption replay.",
    ),
    ScenarioSpec(
        "QTS-FUN-06",
        "Disconnection and de-registration",
        "functional",
        "Disconnection of a supply and its de-registration, and the parties acting on it.",
    ),
    ScenarioSpec(
        "QTS-MIG-01",
        "Forward migration",
        "migration",
        "Migration of the legacy test MPANs to the MHHS arrangements, with MHHS service appointments.",
    ),
    ScenarioSpec(
        "QTS-MIG-02",
        "Reverse migration",
        "migration",
        "Reverse migration of an MPAN to the legacy arrangements and de-appointment of the MHHS services.",
    ),
    ScenarioSpec(
        "QTS-DIP-01",
        "DIP connectivity and message security",
        "dip",
        "Sending and receiving over mutual TLS, message signatures and certificate rotation.",
    ),
    ScenarioSpec(
        "QTS-DIP-02",
        "Message validation and error handling",
        "dip",
        "Rejections of invalid messages in both directions, and replayed messages.",
    ),
    ScenarioSpec(
        "QTS-NFR-01",
        "Volume and performance",
        "non_functional",
        "Peak message volumes and settlement data volumes within the service levels.",
    ),
    ScenarioSpec(
        "QTS-NFR-02",
        "Resilience and recovery",
        "non_functional",
        "Recovery after an outage and processing of the backlog.",
    ),
    ScenarioSpec(
        "QTS-OPS-01",
        "Exception management",
        "operational",
        "Monitoring the message channels, and investigating, correcting and resending failed messages.",
    ),
    ScenarioSpec(
        "QTS-OPS-02",
        "Reference data and user management",
        "operational",
        "Loading Industry Standing Data releases and keeping DIP users up to date.",
    ),
)

CASES: tuple[CaseSpec, ...] = (
    # --- QTS-FUN-01 Change of supplier ------------------------------------------------------------
    CaseSpec(
        "QTC-FUN-01-01",
        "Gaining supplier registers an MPAN on change of supplier",
        ("supplier",),
        ("IF-001",),
        ("REQ-FUN-001",),
        (
            (
                "Request the registration of a test MPAN with a supply start date 7 days ahead.",
                "The registration is accepted and the request ID is recorded against the MPAN.",
            ),
            (
                "Receive the IF-001 notification from the Registration Service.",
                "IF-001 is acknowledged and the secured supply start date is stored for the MPAN.",
            ),
            (
                "Check the service appointments the registration triggers.",
                "IF-033 requests are sent to the proposed metering and data services within one working day.",
            ),
        ),
    ),
    CaseSpec(
        "QTC-FUN-01-02",
        "Losing supplier processes the loss of an MPAN",
        ("supplier",),
        ("IF-001",),
        ("REQ-FUN-001",),
        (
            (
                "Trigger a change of supplier away from one of your test MPANs.",
                "IF-001 is received naming you as the losing supplier, with the supply end date.",
            ),
            (
                "Process the loss in your billing system.",
                "The account is marked for final billing from the supply end date; no new appointments are made.",
            ),
        ),
    ),
    CaseSpec(
        "QTC-FUN-01-03",
        "Registration Service notifies a change of supplier",
        ("ldso",),
        ("IF-001", "PUB-007"),
        ("REQ-FUN-002",),
        (
            (
                "Process a switch request for an MPAN in your area from the QTF stub.",
                "The new registration is recorded with the secured supply start date.",
            ),
            (
                "Send the change of supplier notifications.",
                "IF-001 is sent to the gaining and losing suppliers and the registration change is published "
                "to the appointed services.",
            ),
            (
                "Check the message reports in the DIP portal.",
                "Every notification is delivered; none is reported with a level 1 or level 2 error.",
            ),
        ),
    ),
    CaseSpec(
        "QTC-FUN-01-04",
        "Data Service provides the change of supplier reading",
        ("data_service",),
        ("IF-041",),
        ("REQ-FUN-009",),
        (
            (
                "Receive the IF-001 notification of a change of supplier for an MPAN you serve.",
                "The change of supplier is recorded with its supply start date.",
            ),
            (
                "Derive the change of supplier reading for the supply start date.",
                "A reading is derived from retrieved data, or estimated where none was retrieved.",
            ),
            (
                "Send the reading to the gaining and losing suppliers.",
                "IF-041 is sent to both suppliers with the reading type set correctly.",
            ),
        ),
    ),
    CaseSpec(
        "QTC-FUN-01-05",
        "Gaining supplier validates the change of supplier reading",
        ("supplier",),
        ("IF-041",),
        ("REQ-FUN-010",),
        (
            (
                "Receive IF-041 for an MPAN you have gained.",
                "The reading is stored against the MPAN and the supply start date.",
            ),
            (
                "Validate the reading against the previous reading and the meter's register configuration.",
                "A valid reading is accepted for the opening bill; an implausible one is flagged.",
            ),
        ),
    ),
    CaseSpec(
        "QTC-FUN-01-06",
        "Supplier disputes a change of supplier reading",
        ("supplier",),
        ("IF-041",),
        ("REQ-FUN-010",),
        (
            ("Receive an IF-041 reading that fails your validation.", "The reading is flagged as disputed."),
            (
                "Raise the dispute with the Data Service and the other supplier.",
                "The dispute is raised within the agreed time and the agreed replacement reading is applied.",
            ),
        ),
        mandatory=False,
    ),
    # --- QTS-FUN-02 Service appointments ---------------------------------------------------------
    CaseSpec(
        "QTC-FUN-02-01",
        "Supplier appoints a metering service",
        ("supplier",),
        ("IF-033", "IF-035"),
        ("REQ-FUN-003",),
        (
            (
                "Send IF-033 proposing a Metering Service for a test MPAN, with the contract reference.",
                "IF-033 is accepted by the DIP and delivered to the proposed Metering Service.",
            ),
            (
                "Receive the IF-035 acceptance.",
                "The appointment is recorded with its effective date and the Metering Service's DIP ID.",
            ),
        ),
    ),
    CaseSpec(
        "QTC-FUN-02-02",
        "Supplier appoints a data service",
        ("supplier",),
        ("IF-033", "IF-035"),
        ("REQ-FUN-003",),
        (
            (
                "Send IF-033 proposing a Data Service for a test MPAN.",
                "IF-033 is accepted by the DIP and delivered to the proposed Data Service.",
            ),
            (
                "Receive the IF-035 acceptance.",
                "The appointment is recorded with its effective date and the Data Service's DIP ID.",
            ),
        ),
    ),
    CaseSpec(
        "QTC-FUN-02-03",
        "Supplier acts on a rejected appointment",
        ("supplier",),
        ("IF-033", "IF-035"),
        ("REQ-FUN-003",),
        (
            (
                "Propose an appointment that the QTF stub is set to reject.",
                "IF-035 is received with a rejection code and reason.",
            ),
            (
                "Correct the proposal or choose another service, and propose again.",
                "A new IF-033 is sent and accepted; the rejected proposal is closed.",
            ),
        ),
    ),
    CaseSpec(
        "QTC-FUN-02-04",
        "Metering Service accepts a proposed appointment",
        ("mem",),
        ("IF-033", "IF-035"),
        ("REQ-FUN-004",),
        (
            ("Receive IF-033 proposing you as Metering Service.", "The proposal is logged against the MPAN."),
            (
                "Check the proposal against your contract with the Supplier.",
                "The contract reference and the appointment scenario are recognised.",
            ),
            (
                "Send IF-035 accepting the appointment.",
                "IF-035 with response code A is sent within the service level.",
            ),
        ),
    ),
    CaseSpec(
        "QTC-FUN-02-05",
        "Metering Service rejects a proposed appointment",
        ("mem",),
        ("IF-035",),
        ("REQ-FUN-004",),
        (
            (
                "Receive IF-033 with a contract reference you do not hold.",
                "The proposal fails the contract check.",
            ),
            (
                "Send IF-035 rejecting the appointment.",
                "IF-035 carries the rejection code and a reason the Supplier can act on.",
            ),
        ),
    ),
    CaseSpec(
        "QTC-FUN-02-06",
        "Data Service accepts a proposed appointment",
        ("data_service",),
        ("IF-033", "IF-035"),
        ("REQ-FUN-005",),
        (
            ("Receive IF-033 proposing you as Data Service.", "The proposal is logged against the MPAN."),
            (
                "Send IF-035 accepting the appointment.",
                "IF-035 with response code A is sent within the service level.",
            ),
            (
                "Set up data retrieval for the MPAN.",
                "Retrieval is scheduled from the appointment's effective date.",
            ),
        ),
    ),
    CaseSpec(
        "QTC-FUN-02-07",
        "Data Service rejects a proposed appointment",
        ("data_service",),
        ("IF-035",),
        ("REQ-FUN-005",),
        (
            (
                "Receive IF-033 for a metering configuration you do not serve.",
                "The proposal fails your service check.",
            ),
            ("Send IF-035 rejecting the appointment.", "IF-035 carries the rejection code and the reason."),
        ),
    ),
    CaseSpec(
        "QTC-FUN-02-08",
        "Registration Service records service appointments",
        ("ldso",),
        ("IF-035", "PUB-035"),
        ("REQ-FUN-002", "REQ-FUN-003"),
        (
            (
                "Receive the appointment outcome for an MPAN in your area.",
                "The appointed Metering Service and Data Service are recorded with their effective dates.",
            ),
            (
                "Publish the appointment outcome.",
                "The outcome is published to the Supplier and the services named on the MPAN.",
            ),
        ),
    ),
    # --- QTS-FUN-03 Metering technical details ---------------------------------------------------
    CaseSpec(
        "QTC-FUN-03-01",
        "Metering Service sends MTD after a meter exchange",
        ("mem",),
        ("IF-002",),
        ("REQ-FUN-006",),
        (
            (
                "Record a meter exchange on a test MPAN in your systems.",
                "The new meter's technical details are complete, including register configuration.",
            ),
            (
                "Send the MTD update to the Registration Service.",
                "IF-002 is accepted by the DIP and by the Registration Service.",
            ),
        ),
    ),
    CaseSpec(
        "QTC-FUN-03-02",
        "Registration Service records and distributes an MTD update",
        ("ldso",),
        ("IF-002", "IF-005", "IF-006"),
        ("REQ-FUN-007",),
        (
            ("Receive IF-002 from the Metering Service.", "The MTD update is validated and recorded."),
            (
                "Notify the Supplier, the Data Service and the LDSO of the update.",
                "IF-005 and IF-006 are sent to the parties appointed to the MPAN.",
            ),
        ),
    ),
    CaseSpec(
        "QTC-FUN-03-03",
        "Supplier applies an MTD update",
        ("supplier",),
        ("IF-005",),
        ("REQ-FUN-007",),
        (
            ("Receive IF-005 for one of your MPANs.", "The update is matched to the MPAN."),
            (
                "Apply the new register configuration to billing.",
                "Bills from the effective date use the new registers.",
            ),
        ),
    ),
    CaseSpec(
        "QTC-FUN-03-04",
        "Data Service applies an MTD update",
        ("data_service",),
        ("IF-005",),
        ("REQ-FUN-007",),
        (
            ("Receive IF-005 for an MPAN you serve.", "The update is matched to the MPAN."),
            (
                "Apply the new meter details to retrieval and processing.",
                "Data is retrieved from the new meter from the effective date.",
            ),
        ),
    ),
    CaseSpec(
        "QTC-FUN-03-05",
        "LDSO applies an MTD update",
        ("ldso",),
        ("IF-006",),
        ("REQ-FUN-007",),
        (
            ("Receive IF-006 for an MPAN in your area.", "The update is matched to the MPAN."),
            ("Apply the update to your network records.", "The asset record shows the new meter."),
        ),
        mandatory=False,
    ),
    CaseSpec(
        "QTC-FUN-03-06",
        "Metering Service sends comms hub information",
        ("mem",),
        ("IF-004",),
        ("REQ-FUN-015",),
        (
            (
                "Install a smart meter with a comms hub on a test MPAN.",
                "The comms hub details are recorded against the MPAN.",
            ),
            ("Send the comms hub information.", "IF-004 is accepted by the DIP and the Registration Service."),
        ),
        mandatory=False,
    ),
    # --- QTS-FUN-04 Change of energisation status ------------------------------------------------
    CaseSpec(
        "QTC-FUN-04-01",
        "Metering Service reports a de-energisation",
        ("mem",),
        ("IF-007",),
        ("REQ-FUN-008",),
        (
            ("Record the de-energisation of a test MPAN.", "The status and its effective date are recorded."),
            ("Send the change of energisation status.", "IF-007 is accepted by the DIP and the Registration Service."),
        ),
    ),
    CaseSpec(
        "QTC-FUN-04-02",
        "Registration Service records a change of energisation status",
        ("ldso",),
        ("IF-007", "IF-008"),
        ("REQ-FUN-008",),
        (
            ("Receive IF-007 from the Metering Service.", "The new energisation status is recorded."),
            (
                "Notify the Supplier and the Data Service.",
                "IF-008 is sent to both within the service level.",
            ),
        ),
    ),
    CaseSpec(
        "QTC-FUN-04-03",
        "Supplier processes a change of energisation status",
        ("supplier",),
        ("IF-008",),
        ("REQ-FUN-008",),
        (
            ("Receive IF-008 for one of your MPANs.", "The energisation status is updated from its effective date."),
            ("Check billing for the period.", "No consumption is billed while the supply is de-energised."),
        ),
    ),
    CaseSpec(
        "QTC-FUN-04-04",
        "Data Service processes a change of energisation status",
        ("data_service",),
        ("IF-008",),
        ("REQ-FUN-008",),
        (
            ("Receive IF-008 for an MPAN you serve.", "The energisation status is updated from its effective date."),
            (
                "Produce settlement data for the period.",
                "Zero consumption is reported for settlement periods while de-energised.",
            ),
        ),
    ),
    # --- QTS-FUN-05 Settlement consumption data --------------------------------------------------
    CaseSpec(
        "QTC-FUN-05-01",
        "Data Service corrects rejected consumption data",
        ("data_service",),
        ("IF-014",),
        ("REQ-FUN-012",),
        (
            (
                "Send settlement period consumption data that the QTF is set to reject.",
                "IF-014 is received naming the rejected periods and the reason.",
            ),
            ("Correct the data.", "The corrected data passes your own validation."),
            ("Resend the corrected data.", "The data is accepted and no further IF-014 is received."),
        ),
    ),
    CaseSpec(
        "QTC-FUN-05-02",
        "Data Service acts on defaulted consumption data",
        ("data_service",),
        ("IF-013",),
        ("REQ-FUN-012",),
        (
            (
                "Withhold data for one MPAN past the submission deadline.",
                "IF-013 is received for the defaulted settlement periods.",
            ),
            ("Provide the missing data.", "Actual data replaces the defaulted values."),
        ),
    ),
    CaseSpec(
        "QTC-FUN-05-03",
        "Supplier follows up defaulted consumption data",
        ("supplier",),
        ("IF-013",),
        ("REQ-FUN-013",),
        (
            ("Receive IF-013 for one of your MPANs.", "The defaulted periods are recorded against the MPAN."),
            (
                "Raise the default with the appointed Data Service.",
                "The follow-up is logged and tracked until actual data is received.",
            ),
        ),
    ),
    CaseSpec(
        "QTC-FUN-05-04",
        "Data Service replays historic consumption for an Advanced site",
        ("data_service",),
        ("IF-015",),
        ("REQ-FUN-014",),
        (
            ("Receive IF-015 requesting a replay for an Advanced MPAN.", "The request and its period are validated."),
            ("Replay the historic consumption.", "The requested periods are sent in order, complete."),
        ),
        mandatory=False,
    ),
    CaseSpec(
        "QTC-FUN-05-05",
        "Supplier requests historic consumption for an Advanced site",
        ("supplier",),
        ("IF-015",),
        ("REQ-FUN-014",),
        (
            ("Send IF-015 for an Advanced MPAN you have gained.", "The request is accepted by the DIP."),
            ("Receive the replayed consumption.", "The periods are loaded and reconcile with the request."),
        ),
        mandatory=False,
    ),
    # --- QTS-FUN-06 Disconnection and de-registration --------------------------------------------
    CaseSpec(
        "QTC-FUN-06-01",
        "LDSO disconnects and de-registers an MPAN",
        ("ldso",),
        ("IF-009",),
        ("REQ-FUN-011",),
        (
            ("Disconnect a test supply in your network records.", "The disconnection date is recorded."),
            (
                "De-register the MPAN and send the notification.",
                "IF-009 is sent to the Supplier and the appointed services.",
            ),
            ("Check the registration record.", "The MPAN shows as disconnected from the effective date."),
        ),
    ),
    CaseSpec(
        "QTC-FUN-06-02",
        "Supplier processes a disconnection",
        ("supplier",),
        ("IF-009",),
        ("REQ-FUN-011",),
        (
            ("Receive IF-009 for one of your MPANs.", "The disconnection is recorded."),
            ("Close the account.", "A final bill is produced to the disconnection date."),
        ),
        mandatory=False,
    ),
    CaseSpec(
        "QTC-FUN-06-03",
        "Services act on a disconnection",
        ("mem", "data_service"),
        ("IF-009",),
        ("REQ-FUN-011",),
        (
            ("Receive IF-009 for an MPAN you serve.", "The disconnection is recorded."),
            (
                "Stop the service from the disconnection date.",
                "No further readings or settlement data are produced for the MPAN.",
            ),
        ),
        mandatory=False,
    ),
    # --- QTS-MIG-01 Forward migration ------------------------------------------------------------
    CaseSpec(
        "QTC-MIG-01-01",
        "Supplier migrates a legacy test MPAN",
        ("supplier",),
        ("IF-033", "IF-035"),
        ("REQ-MIG-001", "REQ-MIG-007"),
        (
            (
                "Load the legacy test MPAN file issued for your MPID.",
                "Every test MPAN is loaded as a legacy MPAN without manual correction.",
            ),
            (
                "Request the migration of one test MPAN, proposing MHHS metering and data services.",
                "IF-033 requests are sent and accepted with IF-035.",
            ),
            (
                "Check the MPAN after the migration date.",
                "The MPAN is settled under the MHHS arrangements with the new services.",
            ),
        ),
    ),
    CaseSpec(
        "QTC-MIG-01-02",
        "Registration Service records a migration",
        ("ldso",),
        ("PUB-007",),
        ("REQ-MIG-002",),
        (
            ("Process the migration of an MPAN in your area.", "The migration and its date are recorded."),
            (
                "Notify the parties appointed to the MPAN.",
                "The registration change is published to the Supplier and the services.",
            ),
        ),
    ),
    CaseSpec(
        "QTC-MIG-01-03",
        "Metering Service takes on a migrated MPAN",
        ("mem",),
        ("IF-035", "IF-002"),
        ("REQ-MIG-004",),
        (
            ("Receive the appointment to a migrating MPAN.", "IF-035 accepting it is sent."),
            ("Send the metering technical details.", "IF-002 is accepted by the Registration Service."),
        ),
    ),
    CaseSpec(
        "QTC-MIG-01-04",
        "Data Service takes on a migrated MPAN",
        ("data_service",),
        ("IF-035",),
        ("REQ-MIG-003",),
        (
            ("Receive the appointment to a migrating MPAN.", "IF-035 accepting it is sent."),
            (
                "Produce settlement data from the migration date.",
                "Data for the first settlement day after migration is submitted on time.",
            ),
        ),
    ),
    CaseSpec(
        "QTC-MIG-01-05",
        "Supplier schedules migrations within capacity",
        ("supplier",),
        (),
        ("REQ-MIG-006",),
        (
            (
                "Prepare a migration schedule for the test MPANs.",
                "No day exceeds the daily capacity and no week the weekly capacity.",
            ),
            ("Submit the schedule.", "The schedule is accepted without capacity warnings."),
        ),
        mandatory=False,
    ),
    # --- QTS-MIG-02 Reverse migration ------------------------------------------------------------
    CaseSpec(
        "QTC-MIG-02-01",
        "Supplier reverse-migrates an MPAN",
        ("supplier",),
        ("IF-003",),
        ("REQ-MIG-005",),
        (
            ("Request the reverse migration of a migrated test MPAN.", "IF-003 is sent and accepted."),
            (
                "Check the MPAN after the reverse migration date.",
                "The MPAN is back in the legacy arrangements with legacy agents appointed.",
            ),
        ),
    ),
    CaseSpec(
        "QTC-MIG-02-02",
        "Registration Service processes a reverse migration",
        ("ldso",),
        ("IF-003",),
        ("REQ-MIG-005",),
        (
            ("Receive the reverse migration of an MPAN in your area.", "The reverse migration is recorded."),
            ("Notify the MHHS services.", "IF-003 de-appointments are sent to the Metering and Data Services."),
        ),
    ),
    CaseSpec(
        "QTC-MIG-02-03",
        "Metering Service is de-appointed on reverse migration",
        ("mem",),
        ("IF-003",),
        ("REQ-MIG-005",),
        (
            ("Receive the IF-003 de-appointment.", "The de-appointment date is recorded."),
            ("Stop the MHHS service for the MPAN.", "No further MTD updates are sent for the MPAN."),
        ),
        mandatory=False,
    ),
    CaseSpec(
        "QTC-MIG-02-04",
        "Data Service is de-appointed on reverse migration",
        ("data_service",),
        ("IF-003",),
        ("REQ-MIG-005",),
        (
            ("Receive the IF-003 de-appointment.", "The de-appointment date is recorded."),
            ("Stop producing settlement data.", "No settlement data is produced after the de-appointment date."),
        ),
        mandatory=False,
    ),
    # --- QTS-DIP-01 Connectivity and message security --------------------------------------------
    CaseSpec(
        "QTC-DIP-01-01",
        "Send a signed message over mutual TLS",
        ALL_GROUPS,
        (),
        ("REQ-NFR-001", "REQ-NFR-002"),
        (
            (
                "Send a message on one of your outbound channels with your client certificate.",
                "The TLS handshake succeeds with the certificate issued for your DIP ID.",
            ),
            (
                "Check the signature headers of the message sent.",
                "X-DIP-Signature, X-DIP-Signature-Date and X-DIP-Content-Hash are present and valid.",
            ),
            ("Check the DIP's response.", "The message is accepted with a level 1 success."),
        ),
    ),
    CaseSpec(
        "QTC-DIP-01-02",
        "Receive a message on the webhook and check its signature",
        ALL_GROUPS,
        (),
        ("REQ-NFR-002", "REQ-NFR-004"),
        (
            (
                "Have the QTF send a message to your webhook.",
                "The webhook acknowledges within the DIP's timeout.",
            ),
            (
                "Check the signature and content hash before processing.",
                "The message is processed only after both checks pass.",
            ),
        ),
    ),
    CaseSpec(
        "QTC-DIP-01-03",
        "Refuse a message with a bad signature",
        ALL_GROUPS,
        (),
        ("REQ-NFR-002",),
        (
            (
                "Have the QTF send a message whose signature does not match its body.",
                "The message is refused and not processed.",
            ),
            ("Check your logs.", "The refusal is logged with the sender and the reason."),
        ),
    ),
    CaseSpec(
        "QTC-DIP-01-04",
        "Rotate the signing certificate without losing messages",
        ALL_GROUPS,
        (),
        ("REQ-NFR-007",),
        (
            ("Install a new signing certificate alongside the current one.", "Both certificates are valid."),
            ("Switch to the new certificate while messages flow.", "No message is rejected or lost."),
            ("Revoke the old certificate.", "Messages continue to be accepted."),
        ),
        mandatory=False,
    ),
    # --- QTS-DIP-02 Message validation and error handling ----------------------------------------
    CaseSpec(
        "QTC-DIP-02-01",
        "Correct a message the DIP rejects",
        ALL_GROUPS,
        (),
        ("REQ-FUN-016", "REQ-OPS-001"),
        (
            (
                "Send a message with a mandatory field missing.",
                "A level 2 rejection is received, naming the field.",
            ),
            ("Correct and resend the message.", "The corrected message is accepted."),
        ),
    ),
    CaseSpec(
        "QTC-DIP-02-02",
        "Reject an invalid inbound message",
        ALL_GROUPS,
        (),
        ("REQ-FUN-016",),
        (
            (
                "Have the QTF send a message that breaks its interface schema.",
                "The message is refused with the schema error reported to the sender.",
            ),
            ("Check your systems.", "Nothing from the invalid message was applied."),
        ),
    ),
    CaseSpec(
        "QTC-DIP-02-03",
        "Process a replayed message once only",
        ALL_GROUPS,
        (),
        ("REQ-NFR-004",),
        (
            (
                "Have the QTF replay a message you already processed (replay indicator set).",
                "The message is acknowledged.",
            ),
            ("Check your systems.", "The message's effect was applied once only."),
        ),
    ),
    # --- QTS-NFR-01 Volume and performance -------------------------------------------------------
    CaseSpec(
        "QTC-NFR-01-01",
        "Process the peak daily message volume",
        ("supplier", "ldso", "mem"),
        (),
        ("REQ-NFR-003",),
        (
            (
                "Agree the peak daily volume for your market share with Testing Assurance.",
                "The volume and the message mix are recorded in the test data.",
            ),
            (
                "Have the QTF send the peak volume over one day.",
                "Every message is acknowledged within the DIP's timeout.",
            ),
            ("Check the processing times.", "Every message is processed within its service level."),
        ),
    ),
    CaseSpec(
        "QTC-NFR-01-02",
        "Produce settlement data at full volume",
        ("data_service",),
        (),
        ("REQ-NFR-006",),
        (
            ("Load the full-volume test portfolio.", "Every MPAN of the portfolio is set up for retrieval."),
            (
                "Run one settlement day's processing.",
                "Settlement data for every MPAN is submitted within the settlement timetable.",
            ),
        ),
    ),
    # --- QTS-NFR-02 Resilience and recovery ------------------------------------------------------
    CaseSpec(
        "QTC-NFR-02-01",
        "Recover after a webhook outage",
        ALL_GROUPS,
        (),
        ("REQ-NFR-005", "REQ-OPS-002"),
        (
            ("Take your webhook offline for 30 minutes while the QTF sends messages.", "The DIP queues the messages."),
            ("Bring the webhook back.", "The queued messages are received."),
            ("Check the processing order.", "Every message is processed, in order, none lost or duplicated."),
        ),
    ),
    CaseSpec(
        "QTC-NFR-02-02",
        "Recover after a failure of your own systems",
        ALL_GROUPS,
        (),
        ("REQ-NFR-005",),
        (
            (
                "Stop your message-processing service part way through a batch.",
                "Messages received are held and not lost.",
            ),
            ("Restart the service.", "Processing resumes from where it stopped."),
        ),
        mandatory=False,
    ),
    # --- QTS-OPS-01 Exception management ---------------------------------------------------------
    CaseSpec(
        "QTC-OPS-01-01",
        "Act on an asynchronous error report",
        ALL_GROUPS,
        (),
        ("REQ-OPS-001",),
        (
            (
                "Have the QTF send an asynchronous level 3 error report for a message you sent.",
                "The report is received and matched to the message.",
            ),
            ("Investigate and resolve the error.", "The error is resolved within the service level."),
        ),
    ),
    CaseSpec(
        "QTC-OPS-01-02",
        "Resend a failed message from the exception queue",
        ALL_GROUPS,
        (),
        ("REQ-OPS-002",),
        (
            ("Cause an outbound message to fail.", "It appears in your exception queue with the reason."),
            ("Correct and resend it.", "The message is accepted and the exception is closed, with an audit trail."),
        ),
    ),
    # --- QTS-OPS-02 Reference data and user management -------------------------------------------
    CaseSpec(
        "QTC-OPS-02-01",
        "Load an Industry Standing Data release",
        ALL_GROUPS,
        (),
        ("REQ-OPS-005",),
        (
            ("Load the QTF's Industry Standing Data release.", "Every entity of the release loads without error."),
            (
                "Send a message that depends on the new data.",
                "The message is built with the new values from their effective date.",
            ),
        ),
    ),
    CaseSpec(
        "QTC-OPS-02-02",
        "Add and remove a DIP user",
        ALL_GROUPS,
        (),
        ("REQ-OPS-006",),
        (
            ("Add a new message administrator in the DIP portal.", "The user can sign in with MFA."),
            ("Remove a leaver.", "The leaver can no longer sign in; the administrator roles are still held."),
        ),
        mandatory=False,
    ),
)


def case_batch(spec: CaseSpec) -> str:
    """A case is in its scenario's batch."""
    return next(s.batch for s in SCENARIOS if s.identifier == spec.scenario)


def catalogue_load(apps: Any = global_apps, *, reset: bool = False) -> dict[str, int]:
    """Add the shipped requirements, DIP flows, scenarios and cases that are missing (by identifier)
    and answer how many of each were added.

    Existing rows are left as Testing Assurance left them. A case that is missing is added with its
    shipped wording as version 1; an existing case is never given a new version here (with `reset=True`
    the requirements, flows and scenarios are put back to their shipped values, but cases are still
    left alone: their history is evidence). Role groups that do not exist are skipped. Takes an app
    registry so that a data migration can run it against historical models."""
    Requirement = apps.get_model("testing", "Requirement")
    DipFlow = apps.get_model("testing", "DipFlow")
    TestScenario = apps.get_model("testing", "TestScenario")
    TestCase = apps.get_model("testing", "TestCase")
    TestCaseVersion = apps.get_model("testing", "TestCaseVersion")
    RoleGroup = apps.get_model("participants", "RoleGroup")
    added = {"requirements": 0, "dip_flows": 0, "scenarios": 0, "cases": 0}

    requirements = {}
    for spec in REQUIREMENTS:
        values = {"area": spec.area, "text": spec.text, "is_active": True}
        if reset:
            row, made = Requirement.objects.update_or_create(identifier=spec.identifier, defaults=values)
        else:
            row, made = Requirement.objects.get_or_create(identifier=spec.identifier, defaults=values)
        requirements[spec.identifier] = row
        added["requirements"] += int(made)

    flows = {}
    for flow_spec in FLOWS:
        values = {"title": flow_spec.title, "opt_out_allowed": flow_spec.opt_out_allowed}
        if reset:
            flow, made = DipFlow.objects.update_or_create(code=flow_spec.code, defaults=values)
        else:
            flow, made = DipFlow.objects.get_or_create(code=flow_spec.code, defaults=values)
        flows[flow_spec.code] = flow
        added["dip_flows"] += int(made)

    scenarios = {}
    for scenario_spec in SCENARIOS:
        values = {
            "title": scenario_spec.title,
            "batch": scenario_spec.batch,
            "description": scenario_spec.description,
            "is_active": True,
        }
        if reset:
            scenario, made = TestScenario.objects.update_or_create(identifier=scenario_spec.identifier, defaults=values)
        else:
            scenario, made = TestScenario.objects.get_or_create(identifier=scenario_spec.identifier, defaults=values)
        scenarios[scenario_spec.identifier] = scenario
        added["scenarios"] += int(made)

    groups = {g.code: g for g in RoleGroup.objects.all()}
    for case_spec in CASES:
        case, made = TestCase.objects.get_or_create(
            identifier=case_spec.identifier, defaults={"scenario": scenarios[case_spec.scenario], "is_active": True}
        )
        if not made:
            continue
        version = TestCaseVersion.objects.create(
            case=case,
            version=1,
            is_current=True,
            title=case_spec.title,
            batch=case_batch(case_spec),
            mandatory=case_spec.mandatory,
            steps=[
                {"step": number, "action": action, "expected": expected}
                for number, (action, expected) in enumerate(case_spec.steps, start=1)
            ],
        )
        version.role_groups.set([groups[code] for code in case_spec.role_groups if code in groups])
        version.dip_flows.set([flows[code] for code in case_spec.flows])
        version.requirements.set([requirements[identifier] for identifier in case_spec.requirements])
        added["cases"] += 1
    return added
