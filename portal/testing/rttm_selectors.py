"""Reads of an application's Requirements Traceability Matrix (RTTM), already scoped to the user, and
the rules of who may change it and when.

The matrix has one row per active requirement of the catalogue: the PIT tests and the QAD reference
the participant recorded for it (`RttmEntry`), and the QT cases of the application's required set
that trace to it (from the current case versions, through `required_set`). A requirement is
*uncovered* for the application when it has neither a PIT test nor a required QT case.

Snapshots freeze the whole matrix at PIT entry, PIT exit, QT entry and QT exit; two snapshots can be
compared row by row and field by field.
"""

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from portal.core.errors import ApplicationError, InvalidTransition, NotFound, PermissionDenied
from portal.core.workbooks import Sheet, workbook_bytes
from portal.qualification.models import Application, Task
from portal.qualification.permissions import user_holds_party
from portal.qualification.selectors import application_get
from portal.qualification.workflow import Party, TaskState
from portal.testing.models import (
    PIT_CHECKPOINTS,
    Requirement,
    RequirementArea,
    RttmCheckpoint,
    RttmEntry,
    RttmSnapshot,
    TestCaseVersion,
)
from portal.testing.permissions import EDITABLE_STATES, PIT_TASK, QT_TASK, RTTM_TASKS, can_work_on_rttm
from portal.testing.required_set import required_set

# The tasks during which the participant works on its RTTM, in the order they come.
SNAPSHOT_FIELDS = ("area", "text", "pit_tests", "qt_cases", "qad_reference", "note", "covered")
FIELD_LABELS = {
    "area": "Area",
    "text": "Requirement",
    "pit_tests": "PIT tests",
    "qt_cases": "QT cases",
    "qad_reference": "QAD reference",
    "note": "Note",
    "covered": "Covered",
}


# --- who may change the RTTM, and when ------------------------------------------------------------


def checkpoint_task_code(checkpoint: RttmCheckpoint | str) -> str:
    """PIT entry and exit are captured during PIT; QT entry and exit during Qualification Testing."""
    return PIT_TASK if RttmCheckpoint(checkpoint) in PIT_CHECKPOINTS else QT_TASK


def _with_participant(user: Any, task: Task) -> bool:
    return (
        not task.application.is_closed and task.state in EDITABLE_STATES and user_holds_party(user, task, Party.ACTOR)
    )


def rttm_edit_task(user: Any, tasks: Sequence[Task]) -> Task | None:
    """The testing task the user's RTTM work belongs to now: PIT while it is with them, else QT."""
    by_code = {t.code: t for t in tasks}
    for code in RTTM_TASKS:
        task = by_code.get(code)
        if task is not None and _with_participant(user, task):
            return task
    return None


def rttm_edit_refusal(user: Any, application: Application, tasks: Sequence[Task]) -> ApplicationError | None:
    """Why the user may not change the application's RTTM now (the error a service raises), or None."""
    if not can_work_on_rttm(user, tasks):
        return PermissionDenied("Only the applying organisation can change its RTTM.")
    if application.is_closed:
        return InvalidTransition(
            f"{application.reference} is {application.get_status_display().lower()}: nothing more can be done on it."
        )
    if rttm_edit_task(user, tasks) is None:
        states = ", ".join(f"{t.definition.title} is {TaskState(t.state).label.lower()}" for t in tasks)
        return InvalidTransition(
            "The RTTM can be changed only while Pre-Integration Testing or Qualification Testing is with you "
            f"(not started, in progress or changes requested): {states}.",
            details={"states": {t.code: t.state for t in tasks}},
        )
    return None


def capture_refusal(user: Any, task: Task, checkpoint: RttmCheckpoint) -> ApplicationError | None:
    """Why the user may not capture the RTTM at this checkpoint now, or None. The PIT checkpoints are
    captured while PIT is with the participant, the QT ones while QT is."""
    if not user_holds_party(user, task, Party.ACTOR):
        return PermissionDenied("Only the applying organisation can capture its RTTM.")
    application = task.application
    if application.is_closed:
        return InvalidTransition(
            f"{application.reference} is {application.get_status_display().lower()}: nothing more can be done on it."
        )
    if task.state not in EDITABLE_STATES:
        return InvalidTransition(
            f"The RTTM at {checkpoint.label} is captured while “{task.definition.title}” is with you, and it is "
            f"{TaskState(task.state).label.lower()}.",
            details={"state": task.state, "field": "checkpoint"},
        )
    return None


# --- the matrix ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QtCaseRef:
    identifier: str
    version: int
    title: str
    mandatory: bool

    @property
    def label(self) -> str:
        return f"{self.identifier} v{self.version}"


@dataclass(frozen=True)
class RttmRow:
    requirement: Requirement
    entry: RttmEntry | None
    qt_cases: list[QtCaseRef]
    # The role groups any current case tracing the requirement applies to: tells a reviewer why a
    # requirement is not covered (traced only for other roles, or only by optional cases).
    traced_for: tuple[str, ...] = ()

    @property
    def pit_tests(self) -> list[str]:
        return split_pit_tests(self.entry.pit_tests) if self.entry else []

    @property
    def qad_reference(self) -> str:
        return self.entry.qad_reference if self.entry else ""

    @property
    def note(self) -> str:
        return self.entry.note if self.entry else ""

    @property
    def covered(self) -> bool:
        return bool(self.pit_tests or self.qt_cases)

    def as_json(self) -> dict[str, Any]:
        """The row as a snapshot stores it."""
        return {
            "requirement": self.requirement.identifier,
            "area": self.requirement.area,
            "text": self.requirement.text,
            "pit_tests": self.pit_tests,
            "qt_cases": [case.label for case in self.qt_cases],
            "qad_reference": self.qad_reference,
            "note": self.note,
            "covered": self.covered,
        }


def split_pit_tests(value: str) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def rttm_rows(application: Application) -> list[RttmRow]:
    """Every active requirement with the application's entry and its required QT cases, by identifier."""
    requirements = list(Requirement.objects.filter(is_active=True).order_by("identifier"))
    entries = {e.requirement_id: e for e in RttmEntry.objects.filter(application=application)}
    required = [row.version for row in required_set(application) if row.required]
    links = TestCaseVersion.requirements.through.objects.filter(
        testcaseversion_id__in=[v.pk for v in required]
    ).values_list("testcaseversion_id", "requirement_id")
    by_version = {v.pk: v for v in required}
    cases: dict[int, list[QtCaseRef]] = defaultdict(list)
    for version_id, requirement_id in links:
        v = by_version[version_id]
        cases[requirement_id].append(QtCaseRef(v.case.identifier, v.version, v.title, v.mandatory))
    for refs in cases.values():
        refs.sort(key=lambda ref: ref.identifier)
    traced: dict[int, set[str]] = defaultdict(set)
    current = TestCaseVersion.objects.filter(is_current=True, case__is_active=True).prefetch_related(
        "role_groups", "requirements"
    )
    for version in current:
        names = {group.name for group in version.role_groups.all()}
        for requirement in version.requirements.all():
            traced[requirement.pk] |= names
    return [
        RttmRow(r, entries.get(r.pk), cases.get(r.pk, []), tuple(sorted(traced.get(r.pk, ())))) for r in requirements
    ]


@dataclass(frozen=True)
class CaptureOption:
    checkpoint: RttmCheckpoint
    latest: RttmSnapshot | None
    allowed: bool

    @property
    def label(self) -> str:
        return str(self.checkpoint.label)


@dataclass(frozen=True)
class RttmMatrix:
    application: Application
    tasks: list[Task]
    rows: list[RttmRow]  # the rows shown: uncovered first unless asked otherwise
    total: int
    uncovered_count: int
    can_edit: bool
    edit_task: Task | None
    captures: list[CaptureOption]
    snapshots: list[RttmSnapshot]  # newest first
    show: str = "all"
    area: str = ""

    @property
    def covered_count(self) -> int:
        return self.total - self.uncovered_count

    @property
    def can_capture(self) -> bool:
        return any(option.allowed for option in self.captures)


SHOW_CHOICES = ("all", "uncovered", "covered")


def _tasks(application: Application) -> list[Task]:
    tasks = [t for t in application.tasks.all() if t.code in RTTM_TASKS]
    for task in tasks:
        task.application = application
    return sorted(tasks, key=lambda t: RTTM_TASKS.index(t.code))


def rttm_matrix(*, user: Any, application_id: int, show: str = "all", area: str = "") -> RttmMatrix:
    """The application's RTTM as the page shows it. NotFound when the user may not see it."""
    application = application_get(user=user, application_id=application_id)
    tasks = _tasks(application)
    all_rows = rttm_rows(application)
    rows = [
        row
        for row in all_rows
        if (show != "uncovered" or not row.covered)
        and (show != "covered" or row.covered)
        and (not area or row.requirement.area == area)
    ]
    rows.sort(key=lambda row: (row.covered, row.requirement.identifier))
    snapshots = list(rttm_snapshot_scope(application))
    latest: dict[str, RttmSnapshot] = {}
    for snapshot in snapshots:
        latest.setdefault(snapshot.checkpoint, snapshot)
    by_code = {t.code: t for t in tasks}
    captures = []
    for checkpoint in RttmCheckpoint:
        task = by_code.get(checkpoint_task_code(checkpoint))
        allowed = task is not None and capture_refusal(user, task, checkpoint) is None
        captures.append(CaptureOption(checkpoint, latest.get(checkpoint.value), allowed))
    edit_task = rttm_edit_task(user, tasks)
    return RttmMatrix(
        application=application,
        tasks=tasks,
        rows=rows,
        total=len(all_rows),
        uncovered_count=sum(1 for row in all_rows if not row.covered),
        can_edit=edit_task is not None,
        edit_task=edit_task,
        captures=captures,
        snapshots=snapshots,
        show=show if show in SHOW_CHOICES else "all",
        area=area if area in RequirementArea.values else "",
    )


def rttm_row(*, user: Any, application_id: int, requirement: str) -> RttmRow:
    application = application_get(user=user, application_id=application_id)
    key = str(requirement or "").strip().upper()
    for row in rttm_rows(application):
        if row.requirement.identifier == key:
            return row
    raise NotFound("The RTTM has no row for that requirement.")


# --- snapshots -----------------------------------------------------------------------------------


def canonical_rows(rows: Iterable[RttmRow]) -> tuple[list[dict[str, Any]], str]:
    """The rows as stored in a snapshot (sorted by requirement) and the SHA-256 of their canonical JSON."""
    data = sorted((row.as_json() for row in rows), key=lambda r: r["requirement"])
    return data, rows_sha256(data)


def rows_sha256(rows: list[dict[str, Any]]) -> str:
    canonical = json.dumps(rows, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def rttm_snapshot_scope(application: Application) -> QuerySet[RttmSnapshot]:
    return RttmSnapshot.objects.filter(application=application).select_related("taken_by").order_by("-taken_at", "-id")


def rttm_snapshot_list(*, user: Any, application_id: int) -> list[RttmSnapshot]:
    application = application_get(user=user, application_id=application_id)
    return list(rttm_snapshot_scope(application))


def rttm_snapshot_get(*, user: Any, application_id: int, snapshot_id: int) -> RttmSnapshot:
    application = application_get(user=user, application_id=application_id)
    snapshot = rttm_snapshot_scope(application).filter(pk=snapshot_id).first()
    if snapshot is None:
        raise NotFound("No RTTM snapshot was found with that reference.")
    snapshot.application = application
    return snapshot


@dataclass(frozen=True)
class FieldDiff:
    field: str
    label: str
    before: Any
    after: Any

    @property
    def before_text(self) -> str:
        return display_value(self.before)

    @property
    def after_text(self) -> str:
        return display_value(self.after)


def display_value(value: Any) -> str:
    """A snapshot field as people read it."""
    if isinstance(value, bool):
        return "Covered" if value else "Not covered"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "(none)"
    return str(value) if value not in (None, "") else "(blank)"


@dataclass(frozen=True)
class RowDiff:
    requirement: str
    changes: list[FieldDiff]


@dataclass(frozen=True)
class SnapshotComparison:
    before: RttmSnapshot
    after: RttmSnapshot
    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    changed: list[RowDiff] = field(default_factory=list)
    unchanged: int = 0

    @property
    def has_changes(self) -> bool:
        return bool(self.added or self.removed or self.changed)


def rttm_snapshot_compare(*, user: Any, application_id: int, from_id: int, to_id: int) -> SnapshotComparison:
    """What changed from one snapshot to another: requirements added and removed, and for the rows in
    both, each field that differs with its value before and after."""
    before = rttm_snapshot_get(user=user, application_id=application_id, snapshot_id=from_id)
    after = rttm_snapshot_get(user=user, application_id=application_id, snapshot_id=to_id)
    return compare_snapshots(before, after)


def compare_snapshots(before: RttmSnapshot, after: RttmSnapshot) -> SnapshotComparison:
    old = {row["requirement"]: row for row in before.rows}
    new = {row["requirement"]: row for row in after.rows}
    added = [new[key] for key in sorted(new.keys() - old.keys())]
    removed = [old[key] for key in sorted(old.keys() - new.keys())]
    changed = []
    unchanged = 0
    for key in sorted(old.keys() & new.keys()):
        diffs = [
            FieldDiff(name, FIELD_LABELS[name], old[key].get(name), new[key].get(name))
            for name in SNAPSHOT_FIELDS
            if old[key].get(name) != new[key].get(name)
        ]
        if diffs:
            changed.append(RowDiff(key, diffs))
        else:
            unchanged += 1
    return SnapshotComparison(before, after, added, removed, changed, unchanged)


# --- the workbook --------------------------------------------------------------------------------

RTTM_SHEET = "RTTM"
RTTM_COLUMNS = (
    "Requirement",
    "Area",
    "Requirement text",
    "PIT tests",
    "QT cases",
    "QAD reference",
    "Note",
    "Covered",
)


def _sheet_rows(rows: Iterable[dict[str, Any]]) -> Iterable[Sequence[Any]]:
    areas = dict(RequirementArea.choices)
    for row in rows:
        yield (
            row["requirement"],
            areas.get(row["area"], row["area"]),
            row["text"],
            ", ".join(row["pit_tests"]),
            ", ".join(row["qt_cases"]),
            row["qad_reference"],
            row.get("note", ""),
            "Yes" if row["covered"] else "No",
        )


def rttm_workbook(*, user: Any, application_id: int, snapshot_id: int | None = None) -> tuple[str, bytes]:
    """The current matrix, or a snapshot, as an XLSX workbook in the shape the RTTM import reads (its
    extra columns are ignored on import). Answers a file name and the content."""
    application = application_get(user=user, application_id=application_id)
    base = f"RTTM {application.reference} {application.mpid.code} {application.market_role.code}"
    widths = (16, 16, 60, 30, 36, 16, 40, 9)
    if snapshot_id is None:
        rows, _digest = canonical_rows(rttm_rows(application))
        content = workbook_bytes([Sheet(RTTM_SHEET, RTTM_COLUMNS, _sheet_rows(rows), widths=widths)])
        return f"{base} current.xlsx", content
    snapshot = rttm_snapshot_get(user=user, application_id=application_id, snapshot_id=snapshot_id)
    about = Sheet(
        "Snapshot",
        ("Field", "Value"),
        [
            ("Application", application.reference),
            ("Checkpoint", snapshot.get_checkpoint_display()),
            ("Version", snapshot.version),
            ("Captured by", snapshot.taken_by.display_name),
            ("Captured at", snapshot.taken_at.strftime("%Y-%m-%d %H:%M UTC")),
            ("Rows", snapshot.row_count),
            ("SHA-256 of the rows", snapshot.sha256),
        ],
        widths=(22, 70),
    )
    content = workbook_bytes([Sheet(RTTM_SHEET, RTTM_COLUMNS, _sheet_rows(snapshot.rows), widths=widths), about])
    return f"{base} {snapshot.checkpoint} v{snapshot.version}.xlsx", content
