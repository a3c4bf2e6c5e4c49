"""The Qualification Testing catalogue and each application's RTTM. Mounted at `/v1`.

`/qt/catalogue/…`: scenarios, test cases with their versions and the difference between two
versions, requirements, DIP flows, the catalogue's coverage of the requirements, and the catalogue
as an XLSX workbook. Everyone may read it; the staff who keep the catalogue (Testing Assurance, the
Code Bodies, the MHHS Programme) add and change it. A change to a test case is published as a new
version; publishing what the current version already says is refused.

`/applications/{application_id}/rttm…`: the application's RTTM (every requirement with its PIT tests,
its required QT cases and its QAD reference), its rows set by the participant while PIT or QT is
with them, its snapshots at PIT entry, PIT exit, QT entry and QT exit, the comparison of two
snapshots, and the matrix or a snapshot as a workbook. Workbook imports of the catalogue and of an
RTTM go through `POST /v1/imports` (kind `catalogue` or `rttm`)."""

from datetime import datetime
from typing import Annotated, Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Field, P, PathEx, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from portal.api.errors import responses
from portal.api.gates import by_role, may_call, on_application
from portal.api.pagination import LimitOffset
from portal.api.schemas import ApplicationRef
from portal.api.v1._request import MAX_ID, ObjectId, caller
from portal.core.workbooks import XLSX_CONTENT_TYPE
from portal.testing import catalogue_selectors as catalogue
from portal.testing import catalogue_services as keep
from portal.testing import rttm_selectors, rttm_services
from portal.testing.catalogue_services import (
    MAX_FLOW_TITLE,
    MAX_REASON,
    MAX_STEP_TEXT,
    MAX_STEPS,
    MAX_TEXT,
    MAX_TITLE,
    CaseFields,
    StepInput,
)
from portal.testing.models import RequirementArea, RttmCheckpoint, RttmSnapshot, TestBatch, TestCaseVersion
from portal.testing.permissions import can_keep_catalogue, can_work_on_rttm
from portal.testing.rttm_selectors import RttmRow, SnapshotComparison
from portal.testing.rttm_services import MAX_ENTRIES, MAX_PIT_TEST, MAX_QAD_REFERENCE, EntryInput
from portal.testing.services import MAX_NOTE_LENGTH

router = Router(tags=["qt catalogue and RTTM"])

Identifier = PathEx[str, P(max_length=40, description="The identifier, e.g. QTC-FUN-01-01, QTS-FUN-01 or REQ-FUN-001.")]
FlowCode = PathEx[str, P(max_length=20, description="The interface ID, e.g. IF-033 or PUB-035.")]
Version = PathEx[int, P(ge=1, le=1_000_000, description="The version number.")]
WRITE_ERRORS = responses(400, 403, 404, 409)
MAY_KEEP_CATALOGUE = may_call(
    by_role(can_keep_catalogue),
    refusal="Only Testing Assurance, the Code Bodies and the MHHS Programme can change the test catalogue.",
)
# The checkpoint of a capture is in the body: before reading it, refuse whoever acts on neither PIT nor QT.
MAY_WORK_ON_RTTM = may_call(
    on_application(lambda user, application: can_work_on_rttm(user, application.tasks.all())),
    refusal="Only the applying organisation can change or capture its RTTM.",
)
XLSX_RESPONSE = {
    "responses": {
        200: {
            "description": "The workbook, as an attachment.",
            "content": {XLSX_CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}

IdentifierText = Annotated[str, Field(min_length=1, max_length=40)]
Code = Annotated[str, Field(min_length=1, max_length=40)]


# --- schemas: the catalogue ------------------------------------------------------------------------


class RequirementOut(Schema):
    identifier: str
    area: RequirementArea
    area_label: str
    text: str
    is_active: bool


class RequirementIn(Schema):
    identifier: IdentifierText
    area: RequirementArea
    text: str = Field(min_length=1, max_length=MAX_TEXT)


class RequirementUpdateIn(Schema):
    area: RequirementArea
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    is_active: bool = True


class DipFlowOut(Schema):
    code: str
    title: str
    opt_out_allowed: bool = Field(description="Whether a participant may opt out of it in its QT plan.")
    current_cases: int = Field(description="How many active test cases exercise it.")


class DipFlowIn(Schema):
    code: str = Field(min_length=1, max_length=20, description="The interface ID, e.g. IF-042.")
    title: str = Field(min_length=1, max_length=MAX_FLOW_TITLE)
    opt_out_allowed: bool = True


class DipFlowUpdateIn(Schema):
    title: str = Field(min_length=1, max_length=MAX_FLOW_TITLE)
    opt_out_allowed: bool


class ScenarioOut(Schema):
    identifier: str
    title: str
    batch: TestBatch
    description: str
    is_active: bool
    active_cases: int


class ScenarioIn(Schema):
    identifier: IdentifierText
    title: str = Field(min_length=1, max_length=MAX_TITLE)
    batch: TestBatch
    description: str = Field("", max_length=MAX_TEXT)


class ScenarioUpdateIn(Schema):
    title: str = Field(min_length=1, max_length=MAX_TITLE)
    batch: TestBatch
    description: str = Field("", max_length=MAX_TEXT)
    is_active: bool = True


class CaseStepOut(Schema):
    step: int
    action: str
    expected: str


class StepIn(Schema):
    action: str = Field(min_length=1, max_length=MAX_STEP_TEXT, description="What the tester does.")
    expected: str = Field(min_length=1, max_length=MAX_STEP_TEXT, description="What must happen.")


class CaseVersionOut(Schema):
    version: int
    is_current: bool
    title: str
    batch: TestBatch
    mandatory: bool
    role_groups: list[str] = Field(description="Role group codes: supplier, ldso, mem, data_service.")
    dip_flows: list[str]
    requirements: list[str]
    steps: list[CaseStepOut]
    created_by: str | None = Field(description="Who published it; null for the shipped catalogue.")
    created_at: datetime


class CaseOut(Schema):
    """A case in a list: read from its current version."""

    identifier: str
    scenario: str
    is_active: bool = Field(description="False once the case is retired: it is then required of nobody.")
    current: CaseVersionOut

    @staticmethod
    def resolve_identifier(obj: TestCaseVersion) -> str:
        return obj.case.identifier

    @staticmethod
    def resolve_scenario(obj: TestCaseVersion) -> str:
        return obj.case.scenario.identifier

    @staticmethod
    def resolve_is_active(obj: TestCaseVersion) -> bool:
        return obj.case.is_active

    @staticmethod
    def resolve_current(obj: TestCaseVersion) -> dict[str, Any]:
        return _version(obj)


class CaseDetailOut(Schema):
    identifier: str
    scenario: str
    is_active: bool = Field(description="False once the case is retired: it is then required of nobody.")
    current: CaseVersionOut | None
    versions: list[CaseVersionOut] = Field(description="Every version, newest first.")


class CaseContentIn(Schema):
    title: str = Field(min_length=1, max_length=MAX_TITLE)
    batch: TestBatch
    mandatory: bool
    role_groups: list[Code] = Field(min_length=1, max_length=10, description="Role group codes.")
    dip_flows: list[Code] = Field(default_factory=list, max_length=50)
    requirements: list[Code] = Field(default_factory=list, max_length=200)
    steps: list[StepIn] = Field(min_length=1, max_length=MAX_STEPS)

    def fields(self) -> CaseFields:
        return CaseFields(
            title=self.title,
            batch=self.batch,
            mandatory=self.mandatory,
            role_groups=self.role_groups,
            dip_flows=self.dip_flows,
            requirements=self.requirements,
            steps=[StepInput(s.action, s.expected) for s in self.steps],
        )


class CaseIn(CaseContentIn):
    identifier: IdentifierText
    scenario: IdentifierText


class RetireIn(Schema):
    reason: str = Field(min_length=1, max_length=MAX_REASON, description="Why the case is retired.")


class CaseFilters(Schema):
    batch: TestBatch | None = None
    role_group: str | None = Field(None, max_length=30, description="Role group code.")
    dip_flow: str | None = Field(None, max_length=20, description="Interface ID.")
    mandatory: bool | None = None
    scenario: str | None = Field(None, max_length=40, description="Scenario identifier.")
    search: str | None = Field(None, max_length=100, description="Identifier or title (contains).")
    include_retired: bool = False


class FieldChangeOut(Schema):
    field: Literal["title", "batch", "mandatory"]
    before: str | bool
    after: str | bool


class SetChangeOut(Schema):
    field: Literal["role_groups", "dip_flows", "requirements"]
    added: list[str]
    removed: list[str]


class StepTextOut(Schema):
    action: str
    expected: str


class StepChangeOut(Schema):
    step: int
    change: Literal["added", "removed", "changed"]
    before: StepTextOut | None
    after: StepTextOut | None


class CaseDiffOut(Schema):
    identifier: str
    from_version: int
    to_version: int
    fields: list[FieldChangeOut]
    sets: list[SetChangeOut]
    steps: list[StepChangeOut]


class CaseDiffQuery(Schema):
    from_version: int = Field(ge=1, le=1_000_000)
    to_version: int = Field(ge=1, le=1_000_000)


class CoverageRowOut(Schema):
    requirement: RequirementOut
    covered: bool
    cases: list[str] = Field(description="The active cases whose current version traces to it.")


class CoverageQuery(Schema):
    area: RequirementArea | None = None
    uncovered: bool = Field(False, description="Only requirements no current QT case traces to.")


# --- schemas: the RTTM -----------------------------------------------------------------------------


class QtCaseRefOut(Schema):
    identifier: str
    version: int
    title: str
    mandatory: bool


class RttmRowOut(Schema):
    requirement: str
    area: RequirementArea
    text: str
    pit_tests: list[str]
    qt_cases: list[QtCaseRefOut] = Field(description="The cases of the required set that trace to it.")
    qad_reference: str
    note: str
    covered: bool = Field(description="It has a PIT test or a required QT case.")


class SnapshotSummaryOut(Schema):
    id: int
    checkpoint: RttmCheckpoint
    checkpoint_label: str
    version: int
    row_count: int
    sha256: str = Field(description="SHA-256 of the rows' canonical JSON (sorted keys, no spaces, UTF-8).")
    taken_by: str
    taken_at: datetime


class SnapshotRowOut(Schema):
    requirement: str
    area: str
    text: str
    pit_tests: list[str]
    qt_cases: list[str] = Field(description="Each as identifier and version, e.g. QTC-FUN-01-01 v2.")
    qad_reference: str
    note: str = ""
    covered: bool


class SnapshotOut(SnapshotSummaryOut):
    rows: list[SnapshotRowOut]


class RttmOut(Schema):
    application: ApplicationRef
    can_edit: bool = Field(description="Whether you may set rows and import the matrix now.")
    can_capture: list[RttmCheckpoint] = Field(description="The checkpoints you may capture now.")
    total: int
    uncovered: int
    rows: list[RttmRowOut] = Field(description="Every active requirement, by identifier.")
    snapshots: list[SnapshotSummaryOut] = Field(description="Newest first.")


class RttmEntryIn(Schema):
    requirement: IdentifierText
    pit_tests: list[Annotated[str, Field(max_length=MAX_PIT_TEST)]] = Field(default_factory=list, max_length=100)
    qad_reference: str = Field("", max_length=MAX_QAD_REFERENCE)
    note: str = Field("", max_length=MAX_NOTE_LENGTH)


class RttmUpdateIn(Schema):
    entries: list[RttmEntryIn] = Field(
        min_length=1,
        max_length=MAX_ENTRIES,
        description="The rows to set; a row with nothing in it is cleared.",
    )


class RttmUpdateOut(Schema):
    changed: list[str] = Field(description="The requirements whose rows changed.")
    unchanged: int


class CaptureIn(Schema):
    checkpoint: RttmCheckpoint


class CompareQuery(Schema):
    from_snapshot: int = Field(ge=1, le=MAX_ID, description="The earlier snapshot's id.")
    to_snapshot: int = Field(ge=1, le=MAX_ID, description="The later snapshot's id.")


class RowFieldChangeOut(Schema):
    field: str
    before: str | bool | list[str]
    after: str | bool | list[str]


class RowChangeOut(Schema):
    requirement: str
    changes: list[RowFieldChangeOut]


class CompareOut(Schema):
    before: SnapshotSummaryOut
    after: SnapshotSummaryOut
    added: list[SnapshotRowOut]
    removed: list[SnapshotRowOut]
    changed: list[RowChangeOut]
    unchanged: int


class ExportQuery(Schema):
    snapshot_id: int | None = Field(None, ge=1, le=MAX_ID, description="A snapshot; the current matrix if left out.")


# --- shaping answers -------------------------------------------------------------------------------


def _version(v: TestCaseVersion) -> dict[str, Any]:
    return {
        "version": v.version,
        "is_current": v.is_current,
        "title": v.title,
        "batch": v.batch,
        "mandatory": v.mandatory,
        "role_groups": [g.code for g in v.role_groups.all()],
        "dip_flows": [f.code for f in v.dip_flows.all()],
        "requirements": [r.identifier for r in v.requirements.all()],
        "steps": [
            {"step": n, "action": str(s.get("action", "")), "expected": str(s.get("expected", ""))}
            for n, s in enumerate(v.steps or [], start=1)
        ],
        "created_by": v.created_by.display_name if v.created_by else None,
        "created_at": v.created_at,
    }


def _case_detail(request: HttpRequest, identifier: str) -> dict[str, Any]:
    detail = catalogue.catalogue_case(user=caller(request), identifier=identifier)
    return {
        "identifier": detail.case.identifier,
        "scenario": detail.case.scenario.identifier,
        "is_active": detail.case.is_active,
        "current": _version(detail.current) if detail.current else None,
        "versions": [_version(v) for v in detail.versions],
    }


def _requirement(r: Any) -> dict[str, Any]:
    return {
        "identifier": r.identifier,
        "area": r.area,
        "area_label": r.get_area_display(),
        "text": r.text,
        "is_active": r.is_active,
    }


def _flow(f: Any) -> dict[str, Any]:
    return {
        "code": f.code,
        "title": f.title,
        "opt_out_allowed": f.opt_out_allowed,
        "current_cases": getattr(f, "current_cases", 0),
    }


def _scenario(s: Any) -> dict[str, Any]:
    return {
        "identifier": s.identifier,
        "title": s.title,
        "batch": s.batch,
        "description": s.description,
        "is_active": s.is_active,
        "active_cases": getattr(s, "active_cases", 0),
    }


def _snapshot_summary(s: RttmSnapshot) -> dict[str, Any]:
    return {
        "id": s.pk,
        "checkpoint": s.checkpoint,
        "checkpoint_label": s.get_checkpoint_display(),
        "version": s.version,
        "row_count": s.row_count,
        "sha256": s.sha256,
        "taken_by": s.taken_by.display_name,
        "taken_at": s.taken_at,
    }


def _rttm_row(row: RttmRow) -> dict[str, Any]:
    return {
        "requirement": row.requirement.identifier,
        "area": row.requirement.area,
        "text": row.requirement.text,
        "pit_tests": row.pit_tests,
        "qt_cases": [
            {"identifier": c.identifier, "version": c.version, "title": c.title, "mandatory": c.mandatory}
            for c in row.qt_cases
        ],
        "qad_reference": row.qad_reference,
        "note": row.note,
        "covered": row.covered,
    }


def _comparison(c: SnapshotComparison) -> dict[str, Any]:
    return {
        "before": _snapshot_summary(c.before),
        "after": _snapshot_summary(c.after),
        "added": c.added,
        "removed": c.removed,
        "changed": [
            {
                "requirement": row.requirement,
                "changes": [{"field": d.field, "before": d.before, "after": d.after} for d in row.changes],
            }
            for row in c.changed
        ],
        "unchanged": c.unchanged,
    }


def _xlsx(name: str, content: bytes) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    safe = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>|:*?;/\\')[:150] or "workbook.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{safe}"'
    return response


# --- the catalogue: test cases ---------------------------------------------------------------------


@router.get("/qt/catalogue/cases", response={200: list[CaseOut], **responses()})
@paginate(LimitOffset)
def qt_catalogue_case_list(request: HttpRequest, filters: Query[CaseFilters]) -> QuerySet[TestCaseVersion]:
    """The current version of every test case (active ones unless `include_retired`), by identifier."""
    versions = catalogue.catalogue_cases(
        user=caller(request),
        filters=catalogue.CaseFilters(
            batch=filters.batch or "",
            role_group=filters.role_group or "",
            dip_flow=filters.dip_flow or "",
            mandatory=filters.mandatory,
            scenario=filters.scenario or "",
            q=filters.search or "",
            include_retired=filters.include_retired,
        ),
    )
    return versions


@router.post("/qt/catalogue/cases", response={201: CaseDetailOut, **WRITE_ERRORS}, auth=MAY_KEEP_CATALOGUE)
def qt_catalogue_case_create(request: HttpRequest, payload: CaseIn) -> Status[dict[str, Any]]:
    """Add a test case to a scenario; its content is version 1."""
    version = keep.case_create(
        actor=caller(request), identifier=payload.identifier, scenario=payload.scenario, fields=payload.fields()
    )
    return Status(201, _case_detail(request, version.case.identifier))


@router.get("/qt/catalogue/cases/{identifier}", response={200: CaseDetailOut, **responses(404)})
def qt_catalogue_case_get(request: HttpRequest, identifier: Identifier) -> dict[str, Any]:
    """A test case with its current version and every version, newest first."""
    return _case_detail(request, identifier)


@router.post(
    "/qt/catalogue/cases/{identifier}/versions", response={201: CaseDetailOut, **WRITE_ERRORS}, auth=MAY_KEEP_CATALOGUE
)
def qt_catalogue_case_publish(
    request: HttpRequest, identifier: Identifier, payload: CaseContentIn
) -> Status[dict[str, Any]]:
    """Publish a new version of a case; the previous one is kept, no longer current. Refused (422, rule
    `unchanged`) when the content is what the current version already says, and (409) for a retired case."""
    version = keep.case_publish(actor=caller(request), identifier=identifier, fields=payload.fields())
    return Status(201, _case_detail(request, version.case.identifier))


@router.get("/qt/catalogue/cases/{identifier}/versions/{version}", response={200: CaseVersionOut, **responses(404)})
def qt_catalogue_case_version_get(request: HttpRequest, identifier: Identifier, version: Version) -> dict[str, Any]:
    """One version of a case, as it was published."""
    return _version(catalogue.case_version(user=caller(request), identifier=identifier, version=version))


@router.get("/qt/catalogue/cases/{identifier}/diff", response={200: CaseDiffOut, **responses(404)})
def qt_catalogue_case_diff(request: HttpRequest, identifier: Identifier, query: Query[CaseDiffQuery]) -> dict[str, Any]:
    """What changed from one version of a case to another: title, batch, mandatory, role groups, DIP
    flows, requirements (added and removed) and steps (step by step)."""
    diff = catalogue.case_version_diff(
        user=caller(request), identifier=identifier, from_version=query.from_version, to_version=query.to_version
    )
    return {
        "identifier": diff.identifier,
        "from_version": diff.before.version,
        "to_version": diff.after.version,
        "fields": [{"field": c.field, "before": c.before, "after": c.after} for c in diff.fields],
        "sets": [{"field": c.field, "added": c.added, "removed": c.removed} for c in diff.sets],
        "steps": [
            {
                "step": s.step,
                "change": s.change,
                "before": {"action": s.before[0], "expected": s.before[1]} if s.before else None,
                "after": {"action": s.after[0], "expected": s.after[1]} if s.after else None,
            }
            for s in diff.steps
        ],
    }


@router.post(
    "/qt/catalogue/cases/{identifier}/retire", response={200: CaseDetailOut, **WRITE_ERRORS}, auth=MAY_KEEP_CATALOGUE
)
def qt_catalogue_case_retire(request: HttpRequest, identifier: Identifier, payload: RetireIn) -> dict[str, Any]:
    """Retire a case: it is no longer required of anyone. Its versions and executions are kept."""
    case = keep.case_retire(actor=caller(request), identifier=identifier, reason=payload.reason)
    return _case_detail(request, case.identifier)


@router.post(
    "/qt/catalogue/cases/{identifier}/reinstate",
    response={200: CaseDetailOut, **WRITE_ERRORS},
    auth=MAY_KEEP_CATALOGUE,
)
def qt_catalogue_case_reinstate(request: HttpRequest, identifier: Identifier) -> dict[str, Any]:
    """Reinstate a retired case."""
    case = keep.case_reinstate(actor=caller(request), identifier=identifier)
    return _case_detail(request, case.identifier)


# --- the catalogue: scenarios, requirements, DIP flows ---------------------------------------------


@router.get("/qt/catalogue/scenarios", response={200: list[ScenarioOut], **responses()})
@paginate(LimitOffset)
def qt_catalogue_scenario_list(request: HttpRequest) -> list[dict[str, Any]]:
    """Every scenario, by identifier, with its number of active cases."""
    return [_scenario(s) for s in catalogue.scenario_list(user=caller(request))]


@router.post("/qt/catalogue/scenarios", response={201: ScenarioOut, **WRITE_ERRORS}, auth=MAY_KEEP_CATALOGUE)
def qt_catalogue_scenario_create(request: HttpRequest, payload: ScenarioIn) -> Status[dict[str, Any]]:
    """Add a scenario."""
    scenario = keep.scenario_create(actor=caller(request), **payload.model_dump())
    return Status(201, _scenario(catalogue.scenario_get(user=caller(request), identifier=scenario.identifier)))


@router.get("/qt/catalogue/scenarios/{identifier}", response={200: ScenarioOut, **responses(404)})
def qt_catalogue_scenario_get(request: HttpRequest, identifier: Identifier) -> dict[str, Any]:
    """One scenario."""
    return _scenario(catalogue.scenario_get(user=caller(request), identifier=identifier))


@router.put(
    "/qt/catalogue/scenarios/{identifier}", response={200: ScenarioOut, **WRITE_ERRORS}, auth=MAY_KEEP_CATALOGUE
)
def qt_catalogue_scenario_update(
    request: HttpRequest, identifier: Identifier, payload: ScenarioUpdateIn
) -> dict[str, Any]:
    """Change a scenario. It can be retired (`is_active` false) only once its cases are retired."""
    scenario = keep.scenario_update(actor=caller(request), identifier=identifier, **payload.model_dump())
    return _scenario(catalogue.scenario_get(user=caller(request), identifier=scenario.identifier))


@router.get("/qt/catalogue/requirements", response={200: list[RequirementOut], **responses()})
@paginate(LimitOffset)
def qt_catalogue_requirement_list(
    request: HttpRequest, area: RequirementArea | None = None, include_retired: bool = False
) -> list[dict[str, Any]]:
    """The requirements, by identifier (active ones unless `include_retired`)."""
    found = catalogue.requirement_list(user=caller(request), area=area or "", include_retired=include_retired)
    return [_requirement(r) for r in found]


@router.post("/qt/catalogue/requirements", response={201: RequirementOut, **WRITE_ERRORS}, auth=MAY_KEEP_CATALOGUE)
def qt_catalogue_requirement_create(request: HttpRequest, payload: RequirementIn) -> Status[dict[str, Any]]:
    """Add a requirement. Participants with an application in testing are told."""
    requirement = keep.requirement_create(actor=caller(request), **payload.model_dump())
    return Status(201, _requirement(requirement))


@router.get("/qt/catalogue/requirements/{identifier}", response={200: RequirementOut, **responses(404)})
def qt_catalogue_requirement_get(request: HttpRequest, identifier: Identifier) -> dict[str, Any]:
    """One requirement."""
    return _requirement(catalogue.requirement_get(user=caller(request), identifier=identifier))


@router.put(
    "/qt/catalogue/requirements/{identifier}", response={200: RequirementOut, **WRITE_ERRORS}, auth=MAY_KEEP_CATALOGUE
)
def qt_catalogue_requirement_update(
    request: HttpRequest, identifier: Identifier, payload: RequirementUpdateIn
) -> dict[str, Any]:
    """Change a requirement; `is_active` false retires it from every RTTM."""
    return _requirement(keep.requirement_update(actor=caller(request), identifier=identifier, **payload.model_dump()))


@router.get("/qt/catalogue/dip-flows", response={200: list[DipFlowOut], **responses()})
@paginate(LimitOffset)
def qt_catalogue_dip_flow_list(request: HttpRequest) -> list[dict[str, Any]]:
    """The DIP flows, by interface ID, with how many active cases exercise each."""
    return [_flow(f) for f in catalogue.dip_flow_list(user=caller(request))]


@router.post("/qt/catalogue/dip-flows", response={201: DipFlowOut, **WRITE_ERRORS}, auth=MAY_KEEP_CATALOGUE)
def qt_catalogue_dip_flow_create(request: HttpRequest, payload: DipFlowIn) -> Status[dict[str, Any]]:
    """Add a DIP flow."""
    flow = keep.dip_flow_create(actor=caller(request), **payload.model_dump())
    return Status(201, _flow(catalogue.dip_flow_get(user=caller(request), code=flow.code)))


@router.get("/qt/catalogue/dip-flows/{code}", response={200: DipFlowOut, **responses(404)})
def qt_catalogue_dip_flow_get(request: HttpRequest, code: FlowCode) -> dict[str, Any]:
    """One DIP flow."""
    return _flow(catalogue.dip_flow_get(user=caller(request), code=code))


@router.put("/qt/catalogue/dip-flows/{code}", response={200: DipFlowOut, **WRITE_ERRORS}, auth=MAY_KEEP_CATALOGUE)
def qt_catalogue_dip_flow_update(request: HttpRequest, code: FlowCode, payload: DipFlowUpdateIn) -> dict[str, Any]:
    """Change a DIP flow's title or whether participants may opt out of it."""
    flow = keep.dip_flow_update(actor=caller(request), code=code, **payload.model_dump())
    return _flow(catalogue.dip_flow_get(user=caller(request), code=flow.code))


@router.get("/qt/catalogue/coverage", response={200: list[CoverageRowOut], **responses()})
@paginate(LimitOffset)
def qt_catalogue_coverage(request: HttpRequest, query: Query[CoverageQuery]) -> list[dict[str, Any]]:
    """Each active requirement with the current QT cases that trace to it, those with none first.
    `count` with `uncovered=true` (and an `area`) gives how many have none."""
    coverage = catalogue.catalogue_coverage(user=caller(request), area=query.area or "", uncovered_only=query.uncovered)
    return [
        {
            "requirement": _requirement(row.requirement),
            "covered": row.covered,
            "cases": [v.case.identifier for v in row.cases],
        }
        for row in coverage.rows
    ]


@router.get("/qt/catalogue/export", response=responses(), openapi_extra=XLSX_RESPONSE)
def qt_catalogue_export(request: HttpRequest) -> HttpResponse:
    """The catalogue as an XLSX workbook (sheets Scenarios, Cases, Steps, Requirements, DIP flows), in
    the shape `POST /v1/imports` (kind `catalogue`) reads back."""
    return _xlsx("QT test catalogue.xlsx", catalogue.catalogue_workbook(user=caller(request)))


# --- an application's RTTM -------------------------------------------------------------------------


@router.get("/applications/{int:application_id}/rttm", response={200: RttmOut, **responses(404)})
def rttm_get(request: HttpRequest, application_id: ObjectId) -> dict[str, Any]:
    """The application's RTTM: every active requirement with its PIT tests, the required QT cases that
    trace to it and its QAD reference; and its snapshots."""
    matrix = rttm_selectors.rttm_matrix(user=caller(request), application_id=application_id)
    rows = sorted(matrix.rows, key=lambda row: row.requirement.identifier)
    return {
        "application": matrix.application,
        "can_edit": matrix.can_edit,
        "can_capture": [option.checkpoint for option in matrix.captures if option.allowed],
        "total": matrix.total,
        "uncovered": matrix.uncovered_count,
        "rows": [_rttm_row(row) for row in rows],
        "snapshots": [_snapshot_summary(s) for s in matrix.snapshots],
    }


@router.put(
    "/applications/{int:application_id}/rttm", response={200: RttmUpdateOut, **WRITE_ERRORS}, auth=MAY_WORK_ON_RTTM
)
def rttm_update(request: HttpRequest, application_id: ObjectId, payload: RttmUpdateIn) -> dict[str, Any]:
    """Set rows of the RTTM, all or nothing (each problem is named by its position, such as
    `entries.2.requirement`). Rows not sent are left as they are. While PIT or QT is with you."""
    result = rttm_services.rttm_entries_update(
        actor=caller(request),
        application_id=application_id,
        entries=[
            EntryInput(e.requirement, pit_tests=e.pit_tests, qad_reference=e.qad_reference, note=e.note)
            for e in payload.entries
        ],
    )
    return {"changed": result.changed, "unchanged": result.unchanged}


@router.get(
    "/applications/{int:application_id}/rttm/snapshots", response={200: list[SnapshotSummaryOut], **responses(404)}
)
def rttm_snapshot_list(request: HttpRequest, application_id: ObjectId) -> list[dict[str, Any]]:
    """The snapshots of the RTTM, newest first."""
    return [
        _snapshot_summary(s)
        for s in rttm_selectors.rttm_snapshot_list(user=caller(request), application_id=application_id)
    ]


@router.post(
    "/applications/{int:application_id}/rttm/snapshots",
    response={201: SnapshotOut, **WRITE_ERRORS},
    auth=MAY_WORK_ON_RTTM,
)
def rttm_snapshot_capture(request: HttpRequest, application_id: ObjectId, payload: CaptureIn) -> Status[dict[str, Any]]:
    """Freeze the whole matrix at a checkpoint as a new version. PIT entry and exit while PIT is with
    you, QT entry and exit while QT is; the task's assurers are told."""
    snapshot = rttm_services.rttm_snapshot_capture(
        actor=caller(request), application_id=application_id, checkpoint=payload.checkpoint
    )
    return Status(201, {**_snapshot_summary(snapshot), "rows": snapshot.rows})


@router.get(
    "/applications/{int:application_id}/rttm/snapshots/{int:snapshot_id}",
    response={200: SnapshotOut, **responses(404)},
)
def rttm_snapshot_get(request: HttpRequest, application_id: ObjectId, snapshot_id: ObjectId) -> dict[str, Any]:
    """One snapshot with its rows, as captured."""
    snapshot = rttm_selectors.rttm_snapshot_get(
        user=caller(request), application_id=application_id, snapshot_id=snapshot_id
    )
    return {**_snapshot_summary(snapshot), "rows": snapshot.rows}


@router.get("/applications/{int:application_id}/rttm/compare", response={200: CompareOut, **responses(404)})
def rttm_snapshot_compare(request: HttpRequest, application_id: ObjectId, query: Query[CompareQuery]) -> dict[str, Any]:
    """What changed from one snapshot to another: requirements added and removed, and each field that
    differs in the rows of both."""
    return _comparison(
        rttm_selectors.rttm_snapshot_compare(
            user=caller(request), application_id=application_id, from_id=query.from_snapshot, to_id=query.to_snapshot
        )
    )


@router.get("/applications/{int:application_id}/rttm/export", response=responses(404), openapi_extra=XLSX_RESPONSE)
def rttm_export(request: HttpRequest, application_id: ObjectId, query: Query[ExportQuery]) -> HttpResponse:
    """The current matrix, or a snapshot, as an XLSX workbook that the RTTM import reads back."""
    name, content = rttm_selectors.rttm_workbook(
        user=caller(request), application_id=application_id, snapshot_id=query.snapshot_id
    )
    return _xlsx(name, content)
