"""The rules of the QAD, as data and pure functions (no database access).

- A QAD *submission* is one version of an Initial or Final QAD: a draft the participant edits, then
  submitted (frozen), then superseded when a later version is submitted.
- A *clarification* is a reviewer's question on one question of a submitted version: open (the
  participant holds it), answered (the reviewer holds it), closed (by a reviewer). A reviewer may
  reply to an answer, which puts it back with the participant.
- The *review clock* of a submitted version runs in the Code Bodies' hands, except while the
  participant holds at least one of its clarifications; it stops when the review ends.
- A Director's *signature* is valid until a later change voids it.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import models

from portal.accounts.roles import Role
from portal.qualification.workflow import TaskState


class QadKind(models.TextChoices):
    INITIAL = "initial", "Initial QAD"
    FINAL = "final", "Final QAD"


# The task of an application that each kind of QAD belongs to, and back.
TASK_FOR_KIND: Mapping[str, str] = {QadKind.INITIAL: "initial_qad", QadKind.FINAL: "final_qad"}
KIND_FOR_TASK: Mapping[str, str] = {task: kind for kind, task in TASK_FOR_KIND.items()}
SIGNOFF_TASK = "director_signoff"


# The states of a QAD task in which the participant may write its draft. A Final QAD is developed
# during testing, before its task can start.
EDITABLE_TASK_STATES = frozenset(
    {TaskState.CANNOT_START, TaskState.NOT_STARTED, TaskState.IN_PROGRESS, TaskState.CHANGES_REQUESTED}
)


class TemplateStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


class QadTheme(models.TextChoices):
    PIT = "pit", "PIT"
    SIT_QT = "sit_qt", "SIT / QT"
    PLACING_RELIANCE = "placing_reliance", "Placing reliance"
    PROCEDURAL_GOVERNANCE = "procedural_governance", "Procedural and governance"


class RequirementArea(models.TextChoices):
    FUNCTIONAL = "functional", "Functional"
    MIGRATION = "migration", "Migration"
    NON_FUNCTIONAL = "non_functional", "Non-functional"
    OPERATIONAL = "operational", "Operational"


class AssessingBody(models.TextChoices):
    """The bodies that assess a QAD question."""

    BSC_CODE_BODY = "bsc_code_body", "BSC Code Body (Elexon and the QSP)"
    REC_CODE_MANAGER = "rec_code_manager", "REC Code Manager"
    DIP_MANAGER = "dip_manager", "DIP Manager"


# The staff roles that speak for each assessing body.
BODY_ROLES: Mapping[str, frozenset[Role]] = {
    AssessingBody.BSC_CODE_BODY: frozenset({Role.ELEXON_ANALYST, Role.QSP}),
    AssessingBody.REC_CODE_MANAGER: frozenset({Role.REC_CODE_MANAGER}),
    AssessingBody.DIP_MANAGER: frozenset({Role.DIP_MANAGER}),
}


class SubmissionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    SUPERSEDED = "superseded", "Superseded"


class ClarificationStatus(models.TextChoices):
    OPEN = "open", "Waiting for the participant"
    ANSWERED = "answered", "Waiting for the reviewer"
    CLOSED = "closed", "Closed"


class ClarificationAction(models.TextChoices):
    RAISE = "raise", "Raise"
    ANSWER = "answer", "Answer"
    REPLY = "reply", "Reply"
    CLOSE = "close", "Close"


class ClarificationParty(models.TextChoices):
    PARTICIPANT = "participant", "Participant"
    REVIEWER = "reviewer", "Reviewer"


@dataclass(frozen=True)
class ClarificationTransition:
    action: ClarificationAction
    sources: frozenset[ClarificationStatus]
    target: ClarificationStatus
    party: ClarificationParty


_C = ClarificationStatus
CLARIFICATION_TRANSITIONS: Mapping[ClarificationAction, ClarificationTransition] = {
    ClarificationAction.ANSWER: ClarificationTransition(
        ClarificationAction.ANSWER, frozenset({_C.OPEN}), _C.ANSWERED, ClarificationParty.PARTICIPANT
    ),
    ClarificationAction.REPLY: ClarificationTransition(
        ClarificationAction.REPLY, frozenset({_C.ANSWERED}), _C.OPEN, ClarificationParty.REVIEWER
    ),
    ClarificationAction.CLOSE: ClarificationTransition(
        ClarificationAction.CLOSE, frozenset({_C.OPEN, _C.ANSWERED}), _C.CLOSED, ClarificationParty.REVIEWER
    ),
}
# Clarification states in which the participant holds it, and which keep "agreed complete" back.
PARTICIPANT_HOLDS = frozenset({_C.OPEN})
UNRESOLVED = frozenset({_C.OPEN, _C.ANSWERED})


def clarification_transition(action: str) -> ClarificationTransition | None:
    try:
        return CLARIFICATION_TRANSITIONS.get(ClarificationAction(action))
    except ValueError:
        return None


class ReviewHolder(models.TextChoices):
    CODE_BODIES = "code_bodies", "The Code Bodies"
    PARTICIPANT = "participant", "The participant"
    NOBODY = "nobody", "Nobody: the review is not running"


def review_holder(*, under_review: bool, clarification_states: Iterable[str]) -> ReviewHolder:
    """Who holds a submitted version's review now: nobody unless it is under review; the participant
    while they hold at least one clarification on it; otherwise the Code Bodies."""
    if not under_review:
        return ReviewHolder.NOBODY
    if any(ClarificationStatus(s) in PARTICIPANT_HOLDS for s in clarification_states):
        return ReviewHolder.PARTICIPANT
    return ReviewHolder.CODE_BODIES


class SignatureStatus(models.TextChoices):
    VALID = "valid", "Valid"
    VOIDED = "voided", "Voided"


class SignedAs(models.TextChoices):
    DIRECTOR = "director", "Company Director"
    DELEGATE = "delegate", "Signing delegate"


# How long after signing the sign-off task must be completed by the same request. The guard on
# the generic "sign" action accepts only a signature this fresh, so the password check cannot be
# sidestepped by taking the action on its own.
SIGNATURE_FRESH_SECONDS = 300
