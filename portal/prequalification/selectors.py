"""Reads of the PQS and its placing-reliance proposal, scoped to what the user may see: another
organisation's PQS answers NotFound, the same as a missing one."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet

from portal.core.errors import NotFound
from portal.documents.models import EvidenceFile
from portal.prequalification.models import (
    ItemDecision,
    PqsSubmission,
    PqsVersion,
    RelianceProposalItem,
    RelianceScope,
    Wave,
)
from portal.prequalification.permissions import can_decide, can_edit
from portal.prequalification.rules import PQS_TASK, Missing, missing_fields, reliance_required
from portal.prequalification.snapshots import pqs_values
from portal.qualification.models import Application, Task
from portal.qualification.selectors import task_get
from portal.qualification.workflow import TaskState


@dataclass(frozen=True)
class PqsDetail:
    """Everything a page or an API answer shows about one application's PQS."""

    application: Application
    task: Task
    # None until the participant first saves something.
    pqs: PqsSubmission | None
    items: list[RelianceProposalItem]
    missing: list[Missing]
    reliance_required: bool
    can_edit: bool
    can_decide: bool

    @property
    def is_complete(self) -> bool:
        return not self.missing

    @property
    def undecided(self) -> list[RelianceProposalItem]:
        return [i for i in self.items if i.decision in (ItemDecision.PENDING, ItemDecision.CHANGES_REQUESTED)]


def _items_query() -> QuerySet[RelianceProposalItem]:
    return RelianceProposalItem.objects.select_related("decided_by").prefetch_related(
        Prefetch("evidence", queryset=EvidenceFile.objects.order_by("id"))
    )


def pqs_task_get(*, user: Any, application_id: int) -> Task:
    """The `pqs` task of an application the user may see, or NotFound."""
    try:
        return task_get(user=user, application_id=application_id, task_code=PQS_TASK)
    except NotFound as exc:
        raise NotFound(
            "No Pre-Qualification Submission was found: the application does not exist, or its route has none."
        ) from exc


def pqs_detail(*, user: Any, application_id: int) -> PqsDetail:
    task = pqs_task_get(user=user, application_id=application_id)
    application = task.application
    pqs = (
        PqsSubmission.objects.select_related("preferred_wave", "submitted_by", "updated_by")
        .filter(application=application)
        .first()
    )
    items = list(_items_query().filter(pqs=pqs).order_by("id")) if pqs is not None else []
    needed = reliance_required(application.route.code)
    missing = missing_fields(
        pqs_values(pqs) if pqs is not None else None,
        wave_active=bool(pqs and pqs.preferred_wave and pqs.preferred_wave.is_active),
        relied_on_items=sum(1 for i in items if i.relied_on),
        reliance_needed=needed,
    )
    return PqsDetail(
        application=application,
        task=task,
        pqs=pqs,
        items=items,
        missing=missing,
        reliance_required=needed,
        can_edit=can_edit(user, task),
        can_decide=can_decide(user, task),
    )


def reliance_item_get(*, user: Any, application_id: int, item_id: int) -> RelianceProposalItem:
    """One proposal item of an application the user may see, or NotFound."""
    task = pqs_task_get(user=user, application_id=application_id)
    item = _items_query().filter(pk=item_id, pqs__application_id=task.application.pk).first()
    if item is None:
        raise NotFound("That placing-reliance proposal has no such item.")
    return item


def reliance_item_evidence(*, user: Any, application_id: int, item_id: int, evidence_id: int) -> EvidenceFile:
    """An evidence file linked to a proposal item the user may see, or NotFound."""
    item = reliance_item_get(user=user, application_id=application_id, item_id=item_id)
    for evidence in item.evidence.all():
        if evidence.pk == evidence_id:
            return evidence
    raise NotFound("That proposal item has no such evidence file.")


def pqs_versions(*, user: Any, application_id: int) -> list[PqsVersion]:
    """The submitted versions of an application's PQS, oldest first."""
    task = pqs_task_get(user=user, application_id=application_id)
    return list(
        PqsVersion.objects.filter(pqs__application_id=task.application.pk)
        .select_related("submitted_by")
        .order_by("number")
    )


def wave_choices() -> list[Wave]:
    """The waves a participant may prefer."""
    return list(Wave.objects.filter(is_active=True).order_by("order", "name"))


def application_evidence_choices(*, user: Any, application_id: int) -> list[EvidenceFile]:
    """Evidence already uploaded to the application, which a proposal item may link to."""
    task = pqs_task_get(user=user, application_id=application_id)
    return list(EvidenceFile.objects.filter(application_id=task.application.pk).order_by("-uploaded_at", "-id"))


# --- for Qualification Testing --------------------------------------------------------------------


def accepted_reliance(*, application: Application) -> list[RelianceProposalItem]:
    """The items of testing relied on that the Code Bodies accepted, once the PQS itself is accepted
    (its task completed). Qualification Testing drops their scenarios and cases from the required set.

    Not scoped to a user: the caller already holds an application it may see."""
    accepted = Task.objects.filter(application=application, code=PQS_TASK, state=TaskState.COMPLETED).exists()
    if not accepted:
        return []
    return list(
        _items_query()
        .filter(pqs__application=application, relied_on=True, decision=ItemDecision.ACCEPTED)
        .order_by("id")
    )


@dataclass(frozen=True)
class AcceptedReliance:
    test_scenarios: frozenset[str]
    test_cases: frozenset[str]


def accepted_reliance_identifiers(*, application: Application) -> AcceptedReliance:
    """The identifiers of the test scenarios and test cases covered by accepted reliance."""
    scenarios: set[str] = set()
    cases: set[str] = set()
    for item in accepted_reliance(application=application):
        (scenarios if item.scope == RelianceScope.TEST_SCENARIOS else cases).update(item.identifiers)
    return AcceptedReliance(test_scenarios=frozenset(scenarios), test_cases=frozenset(cases))
