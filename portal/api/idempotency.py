"""`Idempotency-Key` for API writes (IETF draft-ietf-httpapi-idempotency-key-header; Zulip's design).

A client that may have to retry a write (a timeout, a dropped connection) sends the same
`Idempotency-Key: <opaque string>` with each attempt. The key belongs to the calling user. The first
request claims it and runs; its answer (status, body, content type) is kept with a fingerprint of the
request (method, path with query, SHA-256 of the body). Then:

- the same key with the same request answers the kept answer again and changes nothing (no second
  write, audit event or notification); it carries `Idempotent-Replayed: true`;
- the same key with a different request answers 422 `idempotency_key_reused`;
- the same key while the first request is still running answers 409 `idempotency_key_in_use`;
- a server error (5xx) is not kept: the client may retry with the same key;
- keys expire after `PORTAL_IDEMPOTENCY_KEY_TTL` seconds (24 hours); `manage.py purge_idempotency_keys`
  deletes the expired ones, and a user's expired keys go whenever that user claims a new one.

The claim is written and committed in its own short transaction before the request runs, so that a
concurrent duplicate sees it (on PostgreSQL, a second insert of the same key waits on the unique index
for the first to commit, then fails): exactly one of them runs. A request without the header runs as
before.
"""

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from ninja.utils import check_csrf

from portal.accounts.models import User
from portal.api.auth import bearer_auth
from portal.api.models import IdempotencyKey
from portal.core.errors import ApplicationError, Conflict, InvalidInput

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_KEY_LENGTH = 255
# Printable ASCII (RFC 9110 visible characters and inner spaces), as an sf-string may hold.
KEY_PATTERN = r"^[!-~](?:[ -~]{0,253}[!-~])?$"
KEY_RE = re.compile(KEY_PATTERN)
# Headers of the first answer that are part of what it says, repeated on a replay.
_KEPT_HEADERS = ("Location", "Content-Disposition", "Retry-After")
# A claim whose request has not answered after this long was abandoned (the process died): take it over.
IN_FLIGHT_TIMEOUT = timedelta(minutes=5)


class IdempotencyKeyReused(InvalidInput):
    code = "idempotency_key_reused"


class IdempotencyKeyInUse(Conflict):
    code = "idempotency_key_in_use"


def key_ttl() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "PORTAL_IDEMPOTENCY_KEY_TTL", 24 * 60 * 60)))


def key_validate(value: str) -> str:
    if not KEY_RE.fullmatch(value):
        raise InvalidInput(
            f"The {HEADER} header must be 1 to {MAX_KEY_LENGTH} printable ASCII characters "
            "(a UUID, for example), without leading or trailing spaces.",
            details={"field": HEADER},
        )
    return value


def request_fingerprint(*, method: str, path: str, body_digest: str) -> str:
    return hashlib.sha256(f"{method}\n{path}\n{body_digest}".encode()).hexdigest()


@dataclass(frozen=True)
class Claim:
    record: IdempotencyKey
    # True: this request holds the key and runs. False: the key already has an answer to repeat.
    new: bool


def idempotency_key_claim(*, user: User, key: str, fingerprint: str, method: str, path: str) -> Claim:
    """Claim `key` for this request, or find the answer it already has. Refuses a key in use by a
    request still running (409) or first used for a different request (422)."""
    now = timezone.now()
    fields: dict[str, Any] = {
        "fingerprint": fingerprint,
        "method": method,
        "path": path[:2000],
        "status_code": None,
        "content_type": "",
        "body": b"",
        "headers": {},
        "created_at": now,
        "expires_at": now + key_ttl(),
    }
    with transaction.atomic():
        record = IdempotencyKey.objects.select_for_update().filter(user=user, key=key).first()
        if record is None:
            IdempotencyKey.objects.filter(user=user, expires_at__lte=now).delete()
            try:
                with transaction.atomic():
                    record = IdempotencyKey.objects.create(user=user, key=key, **fields)
            except IntegrityError:
                # Another request with this key inserted it a moment ago and is running.
                raise IdempotencyKeyInUse(_IN_USE_MESSAGE, details={"field": HEADER}) from None
            return Claim(record=record, new=True)
        abandoned = record.in_flight and record.created_at <= now - IN_FLIGHT_TIMEOUT
        if record.expires_at <= now or abandoned:
            for name, value in fields.items():
                setattr(record, name, value)
            record.save()
            return Claim(record=record, new=True)
        if record.fingerprint != fingerprint:
            raise IdempotencyKeyReused(
                f"This {HEADER} was already used for a different request ({record.method} {record.path}). "
                "Use a new key for each distinct request.",
                details={"field": HEADER, "first_used_for": f"{record.method} {record.path}"},
            )
        if record.in_flight:
            raise IdempotencyKeyInUse(_IN_USE_MESSAGE, details={"field": HEADER})
        return Claim(record=record, new=False)


_IN_USE_MESSAGE = (
    f"A request with this {HEADER} is still being processed. Wait for its answer, then retry with the same key."
)


def idempotency_key_complete(*, record: IdempotencyKey, response: HttpResponse) -> None:
    """Keep the answer of the request that held the key; a server error or a streamed answer is not
    kept, and the key is free again."""
    if response.status_code >= 500 or response.streaming:
        idempotency_key_release(record=record)
        return
    IdempotencyKey.objects.filter(pk=record.pk).update(
        status_code=response.status_code,
        content_type=response.get("Content-Type", ""),
        body=response.content,
        headers={name: response[name] for name in _KEPT_HEADERS if response.has_header(name)},
    )


def idempotency_key_release(*, record: IdempotencyKey) -> None:
    IdempotencyKey.objects.filter(pk=record.pk, status_code__isnull=True).delete()


def idempotency_keys_purge() -> int:
    deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


def replay(record: IdempotencyKey) -> HttpResponse:
    assert record.status_code is not None
    response = HttpResponse(bytes(record.body), status=record.status_code, content_type=record.content_type or None)
    for name, value in record.headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


# The HTTP side --------------------------------------------------------------------------------------


def _caller(request: HttpRequest) -> User | None:
    """Who the API will take the caller to be: the bearer token's user, or the session's user once the
    CSRF token checks out. None otherwise: the operation itself then refuses the request."""
    authorization = request.headers.get("Authorization", "")
    if authorization:
        scheme, _, secret = authorization.partition(" ")
        if scheme.lower() != "bearer":
            return None
        try:
            # The same rules as the operation's own authentication (e.g. the second factor).
            return bearer_auth.authenticate(request, secret.strip())
        except ApplicationError:
            return None
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if check_csrf(request) is not None:
        return None
    return user


def _body_digest(request: HttpRequest) -> str:
    """SHA-256 of what was sent. Uploads are read as Django parses them (the files in chunks), so a
    multipart body is never held in memory whole."""
    digest = hashlib.sha256()
    content_type = request.META.get("CONTENT_TYPE", "")
    if content_type.startswith("multipart/form-data"):
        for name in sorted(request.POST):
            for value in request.POST.getlist(name):
                digest.update(f"field\0{name}\0{value}\0".encode())
        for name in sorted(request.FILES):
            for upload in request.FILES.getlist(name):
                digest.update(f"file\0{name}\0{upload.name}\0{upload.size}\0".encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    else:
        digest.update(content_type.encode() + b"\0")
        digest.update(request.body)
    return digest.hexdigest()


def idempotent(
    view: Callable[..., HttpResponse], error_response: Callable[[HttpRequest, ApplicationError], HttpResponse]
) -> Callable[..., HttpResponse]:
    """Wrap an API view so that its writes honour `Idempotency-Key`."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        key = request.headers.get(HEADER)
        if key is None or request.method not in UNSAFE_METHODS:
            return view(request, *args, **kwargs)
        user = _caller(request)
        if user is None:
            return view(request, *args, **kwargs)
        try:
            key_validate(key)
            fingerprint = request_fingerprint(
                method=request.method, path=request.get_full_path(), body_digest=_body_digest(request)
            )
        except ApplicationError as exc:
            return error_response(request, exc)
        except (RequestDataTooBig, MultiPartParserError, SuspiciousOperation):
            # The operation answers an unreadable or oversized body itself.
            return view(request, *args, **kwargs)
        try:
            claim = idempotency_key_claim(
                user=user, key=key, fingerprint=fingerprint, method=request.method, path=request.get_full_path()
            )
        except ApplicationError as exc:
            return error_response(request, exc)
        if not claim.new:
            request.user = user
            return replay(claim.record)
        try:
            response = view(request, *args, **kwargs)
        except BaseException:
            idempotency_key_release(record=claim.record)
            raise
        idempotency_key_complete(record=claim.record, response=response)
        return response

    return wrapper
