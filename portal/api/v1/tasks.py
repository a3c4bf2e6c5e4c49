"""Tasks of an application: read one with its thread, take an action, and the caller's work queue."""

from django.http import HttpRequest
from ninja import File, Form, Router, UploadedFile
from ninja.pagination import paginate

from portal.api.errors import responses
from portal.api.gates import may_call, on_task
from portal.api.pagination import LimitOffset
from portal.api.schemas import TaskDetail, TransitionIn, WorkItem
from portal.api.v1._request import ObjectId, TaskCode, caller
from portal.qualification import selectors, services
from portal.qualification.models import Task
from portal.qualification.permissions import can_act_on_task
from portal.qualification.workflow import Action

router = Router(tags=["tasks"])

TRANSITION_ERRORS = responses(400, 403, 404, 409)
# The action is in the body: before reading it, refuse whoever may take no action on the task at all.
MAY_ACT_ON_TASK = may_call(
    on_task(None, can_act_on_task), refusal="You do not hold a role that may take any action on this task."
)


@router.get("/applications/{int:application_id}/tasks/{task_code}", response={200: TaskDetail, **responses(404)})
def task_get(request: HttpRequest, application_id: ObjectId, task_code: TaskCode) -> Task:
    """One task with its thread of entries, attachment details and what you may do on it now."""
    return selectors.task_get(user=caller(request), application_id=application_id, task_code=task_code)


@router.post(
    "/applications/{int:application_id}/tasks/{task_code}/transitions",
    response={200: TaskDetail, **TRANSITION_ERRORS},
    auth=MAY_ACT_ON_TASK,
)
def task_transition(request: HttpRequest, application_id: ObjectId, task_code: TaskCode, payload: TransitionIn) -> Task:
    """Take an action on a task (the actions you may take are listed on the task)."""
    services.task_transition(
        actor=caller(request),
        application_id=application_id,
        task_code=task_code,
        action=payload.action,
        comment=payload.comment,
    )
    return selectors.task_get(user=caller(request), application_id=application_id, task_code=task_code)


@router.post(
    "/applications/{int:application_id}/tasks/{task_code}/transitions/upload",
    response={200: TaskDetail, **TRANSITION_ERRORS},
    auth=MAY_ACT_ON_TASK,
)
def task_transition_upload(
    request: HttpRequest,
    application_id: ObjectId,
    task_code: TaskCode,
    action: Form[Action],
    comment: Form[str] = "",
    files: File[list[UploadedFile]] = None,  # type: ignore[assignment]
) -> Task:
    """The same as `transitions`, sent as multipart/form-data with evidence files (field `files`)."""
    services.task_transition(
        actor=caller(request),
        application_id=application_id,
        task_code=task_code,
        action=action,
        comment=comment,
        files=files or [],
    )
    return selectors.task_get(user=caller(request), application_id=application_id, task_code=task_code)


@router.get("/work-queue", response={200: list[WorkItem], **responses()})
@paginate(LimitOffset)
def work_queue(request: HttpRequest) -> object:
    """Tasks waiting for you to act, oldest first."""
    return selectors.work_queue(user=caller(request))
