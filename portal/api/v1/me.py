"""The caller: who they are, and their API tokens."""

from typing import Any

from django.http import HttpRequest
from ninja import Router
from ninja.pagination import paginate
from ninja.responses import Status

from portal.accounts.selectors import api_token_list, membership_list, user_roles
from portal.accounts.services import api_token_create, api_token_revoke
from portal.api.errors import responses
from portal.api.pagination import LimitOffset
from portal.api.schemas import MeOut, TokenCreatedOut, TokenIn, TokenOut
from portal.api.v1._request import ObjectId, caller

router = Router(tags=["me"])


@router.get("", response={200: MeOut, **responses()})
def me(request: HttpRequest) -> dict[str, Any]:
    """Who you are: your roles and the organisations you act for."""
    user = caller(request)
    return {
        "id": user.pk,
        "email": user.email,
        "full_name": user.full_name,
        "roles": [{"code": role, "name": role.label} for role in sorted(user_roles(user))],
        "organisations": list(membership_list(user=user)),
    }


@router.get("/tokens", response={200: list[TokenOut], **responses()})
@paginate(LimitOffset)
def token_list(request: HttpRequest) -> object:
    """Your API tokens (the secrets are never shown again)."""
    return api_token_list(user=caller(request))


@router.post("/tokens", response={201: TokenCreatedOut, **responses(400, 403, 409)})
def token_create(request: HttpRequest, payload: TokenIn) -> Status[dict[str, Any]]:
    """Create an API token for yourself. The answer holds the secret: it is shown only once."""
    token, secret = api_token_create(actor=caller(request), user=caller(request), name=payload.name)
    return Status(201, {**TokenOut.from_orm(token).model_dump(), "secret": secret})


@router.delete("/tokens/{int:token_id}", response={204: None, **responses(403, 404, 409)})
def token_revoke(request: HttpRequest, token_id: ObjectId) -> Status[None]:
    """Revoke one of your API tokens at once; later requests with it answer 401. (An administrator may
    revoke anyone's token this way.)"""
    api_token_revoke(actor=caller(request), token_id=token_id)
    return Status(204, None)
