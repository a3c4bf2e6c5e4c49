"""Reference data: routes and their process, market roles, the approval-routing matrix."""

from django.http import HttpRequest
from ninja import Router
from ninja.pagination import paginate

from portal.api.errors import responses
from portal.api.pagination import LimitOffset
from portal.api.schemas import ApprovalMatrixRow, MarketRoleOut, RouteOut
from portal.participants import selectors as participant_selectors
from portal.qualification import selectors

router = Router(tags=["reference data"])


@router.get("/routes", response={200: list[RouteOut], **responses()})
@paginate(LimitOffset)
def route_list(request: HttpRequest) -> object:
    """Active qualification routes, each with its task definitions in order."""
    return selectors.route_list()


@router.get("/market-roles", response={200: list[MarketRoleOut], **responses()})
@paginate(LimitOffset)
def market_role_list(request: HttpRequest) -> object:
    """Active market roles and the role group each belongs to."""
    return participant_selectors.market_role_list()


@router.get("/approval-matrix", response={200: list[ApprovalMatrixRow], **responses()})
@paginate(LimitOffset)
def approval_matrix(request: HttpRequest) -> object:
    """For each role group, the bodies whose approval it needs to become MHHS Qualified."""
    return participant_selectors.approval_matrix()
