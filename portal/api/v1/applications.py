"""Applications: list, register, read, withdraw, record non-completion."""

from django.http import HttpRequest
from ninja import Query, Router
from ninja.pagination import paginate
from ninja.responses import Status

from portal.api.errors import responses
from portal.api.gates import by_role, may_call, on_application, on_application_by_role
from portal.api.pagination import LimitOffset
from portal.api.schemas import ApplicationDetail, ApplicationFilters, ApplicationIn, ApplicationSummary, ReasonIn
from portal.api.v1._request import ObjectId, caller
from portal.qualification import selectors, services
from portal.qualification.models import Application
from portal.qualification.permissions import can_mark_non_completion, can_withdraw, is_participant

router = Router(tags=["applications"])


@router.get("", response={200: list[ApplicationSummary], **responses()})
@paginate(LimitOffset)
def application_list(request: HttpRequest, filters: Query[ApplicationFilters]) -> object:
    """The applications you may see, most recently changed first."""
    return selectors.application_list(user=caller(request), **filters.model_dump())


@router.post(
    "",
    response={201: ApplicationDetail, **responses(400, 403, 404, 409)},
    auth=may_call(
        by_role(is_participant), refusal="Only members of a participant organisation can register applications."
    ),
)
def application_create(request: HttpRequest, payload: ApplicationIn) -> Status[Application]:
    """Register an application for one of your organisation's MPIDs in a market role, on a route."""
    application = services.application_create(
        actor=caller(request),
        organisation_id=payload.organisation_id,
        mpid_code=payload.mpid,
        market_role_code=payload.market_role,
        route_code=payload.route,
    )
    return Status(201, selectors.application_get(user=caller(request), application_id=application.pk))


@router.get("/{int:application_id}", response={200: ApplicationDetail, **responses(404)})
def application_get(request: HttpRequest, application_id: ObjectId) -> Application:
    """One application with its tasks and what you may do on each."""
    return selectors.application_get(user=caller(request), application_id=application_id)


@router.post(
    "/{int:application_id}/withdraw",
    response={200: ApplicationDetail, **responses(400, 403, 404, 409)},
    auth=may_call(
        on_application(can_withdraw),
        refusal="Only a member of the applying organisation can withdraw its application.",
    ),
)
def application_withdraw(request: HttpRequest, application_id: ObjectId, payload: ReasonIn) -> Application:
    """Withdraw your organisation's application (before it is qualified)."""
    services.application_withdraw(actor=caller(request), application_id=application_id, reason=payload.reason)
    return selectors.application_get(user=caller(request), application_id=application_id)


@router.post(
    "/{int:application_id}/non-completion",
    response={200: ApplicationDetail, **responses(400, 403, 404, 409)},
    auth=may_call(
        on_application_by_role(can_mark_non_completion),
        refusal="Only a Code Body can record that an application did not complete.",
    ),
)
def application_mark_non_completion(request: HttpRequest, application_id: ObjectId, payload: ReasonIn) -> Application:
    """Record that an application did not complete (Code Bodies, before qualification)."""
    services.application_mark_non_completion(
        actor=caller(request), application_id=application_id, reason=payload.reason
    )
    return selectors.application_get(user=caller(request), application_id=application_id)
