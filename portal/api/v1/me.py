"""The caller: who they are, their API tokens and their signed-in sessions."""

from typing import Any

from django.http import HttpRequest
from ninja import Header, Router
from ninja.pagination import paginate
from ninja.responses import Status

from portal.accounts import selectors as accounts_selectors
from portal.accounts import services as accounts_services
from portal.accounts.selectors import api_token_list, membership_list, user_roles
from portal.accounts.services import api_token_create, api_token_revoke
from portal.accounts.stepup import step_up_check
from portal.api.errors import responses
from portal.api.pagination import LimitOffset, PresentedPages
from portal.api.schemas import MeOut, SessionOut, SessionsEndedOut, TokenCreatedOut, TokenIn, TokenOut
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
def token_create(
    request: HttpRequest,
    payload: TokenIn,
    x_otp: str = Header(
        "",
        alias="X-OTP",
        max_length=12,
        description="Staff users and Company Directors: the current code of your authenticator app.",
    ),
) -> Status[dict[str, Any]]:
    """Create an API token for yourself. The answer holds the secret: it is shown only once, and you are
    told by e-mail that a token was created.

    Staff users and Company Directors also send the current code of their authenticator app in the X-OTP
    header (a browser session that entered a code in the last 10 minutes needs none); without it the
    answer is 403 with code step_up_required."""
    user = caller(request)
    token, secret = api_token_create(
        actor=user,
        user=user,
        name=payload.name,
        notify_owner=True,
        step_up=lambda: step_up_check(request=request, user=user, code=x_otp),
    )
    return Status(201, {**TokenOut.from_orm(token).model_dump(), "secret": secret})


@router.delete("/tokens/{int:token_id}", response={204: None, **responses(403, 404, 409)})
def token_revoke(request: HttpRequest, token_id: ObjectId) -> Status[None]:
    """Revoke one of your API tokens at once; later requests with it answer 401. (An administrator may
    revoke anyone's token this way.)"""
    api_token_revoke(actor=caller(request), token_id=token_id)
    return Status(204, None)


def _current_key(request: HttpRequest) -> str | None:
    session = getattr(request, "session", None)
    return getattr(session, "session_key", None) or None


@router.get("/sessions", response={200: list[SessionOut], **responses()})
@paginate(LimitOffset)
def session_list(request: HttpRequest) -> object:
    """Your signed-in sessions in the portal that may still be alive, most recently active first.
    `current` marks the session making this request (none, when you call with a bearer token)."""
    current = _current_key(request)
    return PresentedPages(
        accounts_selectors.session_list(user=caller(request)),
        lambda rows: [vars(summary) for summary in accounts_selectors.session_summaries(rows, current_key=current)],
    )


@router.delete("/sessions/{int:session_id}", response={204: None, **responses(404, 409)})
def session_end(request: HttpRequest, session_id: ObjectId) -> Status[None]:
    """End one of your other sessions at once: its browser is signed out at its next request, and you
    are told by e-mail. Another user's session answers 404; the session making this request answers
    409 (sign out to end it)."""
    accounts_services.session_end(request=request, user=caller(request), session_id=session_id)
    return Status(204, None)


@router.post("/sessions/end-others", response={200: SessionsEndedOut, **responses()})
def session_end_others(request: HttpRequest) -> dict[str, int]:
    """End every session of yours but the one making this request (with a bearer token: every
    session). Answers how many were ended, 0 when there was none."""
    return {"ended": accounts_services.sessions_end_others(request=request, user=caller(request))}
