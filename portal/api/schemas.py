"""The shapes the API reads and writes. Every field is named here: nothing is exposed by default.

Values that are computed for the caller (the actions they may take on a task, the thread of a task)
come from the same selectors the web pages use, through ninja resolvers.
"""

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from portal.accounts.roles import Role
from portal.participants.models import ApprovalBody
from portal.qualification.selectors import task_available_transitions, task_entries
from portal.qualification.services import MAX_COMMENT_LENGTH
from portal.qualification.workflow import (
    Action,
    ApplicationStatus,
    Decision,
    Party,
    Stage,
    TaskKind,
    TaskState,
)


def _caller(context: Any) -> Any:
    """The authenticated user of the request being answered."""
    return getattr(context["request"], "auth", None)


# --- input -----------------------------------------------------------------------------------------


class ApplicationFilters(Schema):
    status: ApplicationStatus | None = Field(None, description="Only applications in this status.")
    route: str | None = Field(None, max_length=40, description="Only applications on this route (its code).")
    organisation_id: int | None = Field(None, ge=1, le=2**63 - 1, description="Only this organisation's applications.")
    search: str | None = Field(
        None, max_length=100, description="Organisation name (contains), MPID or market role code (exact)."
    )


class ApplicationIn(Schema):
    organisation_id: int = Field(
        ge=1, le=2**63 - 1, description="The applying organisation; you must be a member of it."
    )
    mpid: str = Field(min_length=1, max_length=4, description="One of the organisation's MPIDs, e.g. NLEN.")
    market_role: str = Field(min_length=1, max_length=10, description="Market role code, e.g. SUP.")
    route: str = Field(min_length=1, max_length=40, description="Route code, e.g. non_sit_supplier_agent.")


class TransitionIn(Schema):
    action: Action
    comment: str = Field("", max_length=MAX_COMMENT_LENGTH, description="Required for some actions.")


class ReasonIn(Schema):
    reason: str = Field(max_length=MAX_COMMENT_LENGTH, description="Why; shown to everyone involved.")


class TokenIn(Schema):
    name: str = Field(min_length=1, max_length=100, description="What the token is for, e.g. a system's name.")


# --- reference data ------------------------------------------------------------------------------


class RoleGroupRef(Schema):
    code: str
    name: str


class MarketRoleOut(Schema):
    code: str
    name: str
    role_group: RoleGroupRef


class ApprovalBodyOut(Schema):
    code: ApprovalBody
    name: str


class ApprovalMatrixRow(Schema):
    role_group: RoleGroupRef
    market_roles: list[str]
    bodies: list[ApprovalBodyOut]

    @staticmethod
    def resolve_role_group(obj: Any) -> dict[str, str]:
        return {"code": obj.code, "name": obj.name}

    @staticmethod
    def resolve_market_roles(obj: Any) -> list[str]:
        return [role.code for role in obj.market_roles.all()]

    @staticmethod
    def resolve_bodies(obj: Any) -> list[dict[str, str]]:
        return [{"code": r.body, "name": ApprovalBody(r.body).label} for r in obj.approval_requirements.all()]


class TaskDefinitionOut(Schema):
    code: str
    title: str
    description: str
    kind: TaskKind
    stage: Stage
    order: int
    depends_on: list[str]
    actor_roles: list[Role]
    assurer_roles: list[Role]
    is_optional: bool
    approval_body: ApprovalBody | None = Field(description="For approval tasks: the body that decides.")

    @staticmethod
    def resolve_approval_body(obj: Any) -> str | None:
        return obj.approval_body or None


class RouteOut(Schema):
    code: str
    name: str
    description: str
    new_entrants_only: bool
    role_groups: list[str]
    tasks: list[TaskDefinitionOut]

    @staticmethod
    def resolve_role_groups(obj: Any) -> list[str]:
        return [group.code for group in obj.role_groups.all()]

    @staticmethod
    def resolve_tasks(obj: Any) -> list[Any]:
        return sorted(obj.task_definitions.all(), key=lambda d: d.order)


# --- applications and tasks ----------------------------------------------------------------------


class OrganisationRef(Schema):
    id: int
    name: str


class NamedCode(Schema):
    code: str
    name: str


class ApplicationRef(Schema):
    id: int
    reference: str
    status: ApplicationStatus
    organisation: OrganisationRef
    mpid: str
    market_role: str

    @staticmethod
    def resolve_mpid(obj: Any) -> str:
        return str(obj.mpid.code)

    @staticmethod
    def resolve_market_role(obj: Any) -> str:
        return str(obj.market_role.code)


class AvailableAction(Schema):
    action: Action
    label: str
    comment_required: bool


class TaskSummary(Schema):
    code: str
    title: str
    kind: TaskKind
    stage: Stage
    order: int
    is_optional: bool
    state: TaskState
    state_label: str
    decision: Decision | None
    waiting_on: Party | None = Field(description="Which party must act next; null when nobody need act.")
    waiting_on_roles: list[Role] = Field(description="The roles of the party the task is waiting on.")
    available_actions: list[AvailableAction] = Field(description="What you may do on this task now.")
    updated_at: datetime
    completed_at: datetime | None

    @staticmethod
    def resolve_title(obj: Any) -> str:
        return str(obj.definition.title)

    @staticmethod
    def resolve_kind(obj: Any) -> str:
        return str(obj.definition.kind)

    @staticmethod
    def resolve_stage(obj: Any) -> str:
        return str(obj.definition.stage)

    @staticmethod
    def resolve_is_optional(obj: Any) -> bool:
        return bool(obj.definition.is_optional)

    @staticmethod
    def resolve_state_label(obj: Any) -> str:
        return str(TaskState(obj.state).label)

    @staticmethod
    def resolve_decision(obj: Any) -> str | None:
        return obj.decision or None

    @staticmethod
    def resolve_waiting_on(obj: Any) -> str | None:
        return obj.waiting_on or None

    @staticmethod
    def resolve_waiting_on_roles(obj: Any) -> list[str]:
        return obj.definition.roles_for(obj.waiting_on) if obj.waiting_on else []

    @staticmethod
    def resolve_available_actions(obj: Any, context: Any) -> list[dict[str, Any]]:
        return [
            {"action": t.action, "label": Action(t.action).label, "comment_required": t.comment_required}
            for t in task_available_transitions(user=_caller(context), task=obj)
        ]


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj.original_name)


class EntryOut(Schema):
    id: int
    action: Action
    action_label: str
    actor: str = Field(description="Who took the action.")
    from_state: TaskState
    to_state: TaskState
    decision: Decision | None
    comment: str
    created_at: datetime
    attachments: list[AttachmentOut]

    @staticmethod
    def resolve_action_label(obj: Any) -> str:
        return str(Action(obj.action).label)

    @staticmethod
    def resolve_actor(obj: Any) -> str:
        return str(obj.actor.display_name)

    @staticmethod
    def resolve_decision(obj: Any) -> str | None:
        return obj.decision or None


class TaskDetail(TaskSummary):
    description: str
    depends_on: list[str]
    application: ApplicationRef
    entries: list[EntryOut] = Field(description="The task's thread, oldest first.")

    @staticmethod
    def resolve_description(obj: Any) -> str:
        return str(obj.definition.description)

    @staticmethod
    def resolve_depends_on(obj: Any) -> list[str]:
        return list(obj.definition.depends_on)

    @staticmethod
    def resolve_entries(obj: Any) -> list[Any]:
        return list(task_entries(task=obj))


class WorkItem(TaskSummary):
    application: ApplicationRef


class ApplicationSummary(Schema):
    id: int
    reference: str
    status: ApplicationStatus
    status_label: str
    organisation: OrganisationRef
    mpid: str
    market_role: NamedCode
    route: NamedCode
    created_at: datetime
    updated_at: datetime
    qualified_at: datetime | None
    activated_at: datetime | None
    closed_at: datetime | None
    closed_reason: str

    @staticmethod
    def resolve_status_label(obj: Any) -> str:
        return str(ApplicationStatus(obj.status).label)

    @staticmethod
    def resolve_mpid(obj: Any) -> str:
        return str(obj.mpid.code)


class ApplicationDetail(ApplicationSummary):
    created_by: str
    tasks: list[TaskSummary]

    @staticmethod
    def resolve_created_by(obj: Any) -> str:
        return str(obj.created_by.display_name)


# --- notifications and the caller ----------------------------------------------------------------


class NotificationOut(Schema):
    id: int
    subject: str
    body: str
    link: str = Field(description="Path of the page in the portal it is about.")
    application_id: int | None
    created_at: datetime
    read_at: datetime | None


class RoleOut(Schema):
    code: Role
    name: str


class MembershipOut(Schema):
    id: int
    name: str
    is_director: bool
    mpids: list[str]

    @staticmethod
    def resolve_id(obj: Any) -> int:
        return int(obj.organisation_id)

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj.organisation.name)

    @staticmethod
    def resolve_mpids(obj: Any) -> list[str]:
        return [mpid.code for mpid in obj.organisation.mpids.all()]


class MeOut(Schema):
    id: int
    email: str
    full_name: str
    roles: list[RoleOut]
    organisations: list[MembershipOut]


class TokenOut(Schema):
    id: int
    name: str
    key_prefix: str = Field(description="The first characters of the secret, to tell tokens apart.")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreatedOut(TokenOut):
    secret: str = Field(description="Shown only in this answer: store it now. Send it as Authorization: Bearer.")


class SessionOut(Schema):
    """One of your signed-in sessions, named by its id (its session key is never shown)."""

    id: int
    started_at: datetime = Field(description="When you signed in.")
    last_seen_at: datetime = Field(description="When the session last made a request (to within 5 minutes).")
    browser: str = Field(description="The browser, read from its User-Agent at sign-in, e.g. “Firefox on Windows”.")
    ip_address: str | None = Field(description="The client address at sign-in.")
    current: bool = Field(description="Whether this is the session making this request.")


class SessionsEndedOut(Schema):
    ended: int = Field(description="How many sessions were ended.")
