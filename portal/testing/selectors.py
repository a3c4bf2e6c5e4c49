"""Reads of the PIT checklist, already scoped to what the user may see."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from portal.core.errors import NotFound
from portal.documents.models import EvidenceFile
from portal.qualification.models import Application, Task
from portal.qualification.selectors import task_get
from portal.testing.models import PIT_CHECKPOINTS, PitCriterion, PitCriterionResult, RttmCheckpoint, RttmUpload
from portal.testing.permissions import PIT_TASK, can_edit_pit


def pit_criteria_for(application: Application) -> list[PitCriterion]:
    """The active criteria that apply to the application's route and role group, in order.

    A criterion naming no route applies on every route, and one naming no role group to every role
    group. Criteria are a few dozen rows of reference data, so the matching is done here rather than
    in a query with outer joins."""
    criteria = PitCriterion.objects.filter(is_active=True).prefetch_related("routes", "role_groups")
    role_group_id = application.market_role.role_group_id
    return [
        c
        for c in criteria.order_by("order", "code")
        if _applies({r.pk for r in c.routes.all()}, application.route_id)
        and _applies({g.pk for g in c.role_groups.all()}, role_group_id)
    ]


def _applies(named: set[int], value: int) -> bool:
    return not named or value in named


@dataclass(frozen=True)
class CriterionRow:
    criterion: PitCriterion
    result: PitCriterionResult | None
    evidence: list[EvidenceFile]

    @property
    def status(self) -> str:
        if self.result is None:
            return "not_recorded"
        return "met" if self.result.met else "not_met"

    @property
    def missing(self) -> list[str]:
        """What this criterion still lacks before PIT can be submitted (nothing for an optional one)."""
        title = f"“{self.criterion.title}”"
        if not self.criterion.is_required:
            return []
        if self.result is None:
            return [f"{title} has no result yet"]
        problems = []
        if not self.result.met:
            problems.append(f"{title} is not met")
        if self.criterion.evidence_required and not self.evidence:
            problems.append(f"{title} needs evidence")
        return problems


@dataclass(frozen=True)
class RttmCheckpointRow:
    checkpoint: RttmCheckpoint
    versions: list[RttmUpload] = field(default_factory=list)  # newest first

    @property
    def label(self) -> str:
        return str(self.checkpoint.label)

    @property
    def current(self) -> RttmUpload | None:
        return self.versions[0] if self.versions else None


@dataclass(frozen=True)
class PitChecklist:
    application: Application
    task: Task
    rows: list[CriterionRow]
    rttm: list[RttmCheckpointRow]
    can_edit: bool

    @property
    def missing(self) -> list[str]:
        return pit_missing_from(self.rows, self.rttm)


def pit_missing_from(rows: Iterable[CriterionRow], rttm: Iterable[RttmCheckpointRow]) -> list[str]:
    missing = [problem for row in rows for problem in row.missing]
    missing += [f"the RTTM at {row.label} has not been uploaded" for row in rttm if row.current is None]
    return missing


def _rows(application: Application) -> list[CriterionRow]:
    criteria = pit_criteria_for(application)
    results = {
        r.criterion_id: r
        for r in PitCriterionResult.objects.filter(application=application)
        .select_related("recorded_by")
        .prefetch_related("evidence__uploaded_by")
    }
    rows = []
    for criterion in criteria:
        result = results.get(criterion.pk)
        evidence = sorted(result.evidence.all(), key=lambda e: (e.uploaded_at, e.pk)) if result else []
        rows.append(CriterionRow(criterion, result, evidence))
    return rows


def _rttm_rows(
    application: Application, checkpoints: Sequence[RttmCheckpoint] = PIT_CHECKPOINTS
) -> list[RttmCheckpointRow]:
    uploads = (
        RttmUpload.objects.filter(application=application, checkpoint__in=[c.value for c in checkpoints])
        .select_related("evidence__uploaded_by")
        .order_by("-version")
    )
    by_checkpoint: dict[str, list[RttmUpload]] = {c.value: [] for c in checkpoints}
    for upload in uploads:
        by_checkpoint[upload.checkpoint].append(upload)
    return [RttmCheckpointRow(c, by_checkpoint[c.value]) for c in checkpoints]


def pit_missing(application: Application) -> list[str]:
    """Everything that stops the application's PIT from being submitted, in checklist order."""
    return pit_missing_from(_rows(application), _rttm_rows(application))


def pit_checklist(*, user: Any, application_id: int) -> PitChecklist:
    """The application's PIT checklist: each criterion with its result and evidence, and the RTTM
    versions at PIT entry and PIT exit. NotFound when the user may not see the application."""
    task = task_get(user=user, application_id=application_id, task_code=PIT_TASK)
    application = task.application
    return PitChecklist(
        application=application,
        task=task,
        rows=_rows(application),
        rttm=_rttm_rows(application),
        can_edit=can_edit_pit(user, task),
    )


def pit_rttm_versions(*, user: Any, application_id: int) -> list[RttmCheckpointRow]:
    task = task_get(user=user, application_id=application_id, task_code=PIT_TASK)
    return _rttm_rows(task.application)


def pit_criterion_row(*, user: Any, application_id: int, criterion_code: str) -> CriterionRow:
    checklist = pit_checklist(user=user, application_id=application_id)
    for row in checklist.rows:
        if row.criterion.code == criterion_code:
            return row
    raise NotFound("The PIT checklist of this application has no such criterion.")
