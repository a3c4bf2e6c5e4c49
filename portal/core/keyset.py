"""Keyset ("seek") pagination for lists that grow without bound (a test team's runs, say).

A page is found from the last row of the page before it, `WHERE (a, b) < (a₀, b₀) ORDER BY a DESC, b DESC
LIMIT n`, which an index on the ordering reads directly: every page costs the same, the last as the first,
where an OFFSET makes the database walk past every row before the page. The position is handed to the
client as an opaque cursor (the ordering values of a row, in JSON, base64url-encoded); a cursor that
cannot be read is refused with a clear message rather than ignored.

The ordering must be unique (end with the primary key) and its columns not null.
"""

import base64
import binascii
import datetime
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import F, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan

from portal.core.errors import InvalidInput

MAX_CURSOR_LENGTH = 200


@dataclass(frozen=True)
class KeysetPage:
    items: list[Any]
    next_cursor: str | None  # the position after the last item, when there is more after it
    previous_cursor: str | None  # the position before the first item, when there is more before it

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_previous(self) -> bool:
        return self.previous_cursor is not None


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime.datetime) else value


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps([_plain(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _refuse() -> InvalidInput:
    return InvalidInput(
        "The page position (cursor) could not be read; start again from the first page.", details={"field": "cursor"}
    )


def decode_cursor(cursor: str, model: Any, fields: Sequence[str]) -> list[Any]:
    """The ordering values a cursor holds, each converted to its field's type; InvalidInput otherwise."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise _refuse()
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise _refuse() from None
    if not isinstance(values, list) or len(values) != len(fields):
        raise _refuse()
    converted = []
    for name, value in zip(fields, values, strict=True):
        field = model._meta.get_field(name)
        try:
            if field.get_internal_type() == "DateTimeField":
                if not isinstance(value, str):
                    raise ValueError(value)
                parsed = datetime.datetime.fromisoformat(value)
                if parsed.tzinfo is None:
                    raise ValueError(value)
                converted.append(parsed)
            elif isinstance(value, bool) or not isinstance(value, int | str):
                raise ValueError(value)
            else:
                converted.append(field.to_python(value))
        except (ValueError, TypeError, Exception):
            raise _refuse() from None
    return converted


def _beyond(fields: Sequence[str], values: Sequence[Any], *, greater: bool) -> Any:
    """Rows after (a₀, b₀, …) in the ordering, as one row-value comparison, `(a, b) > (a₀, b₀)` (or <),
    which PostgreSQL answers from an index on (a, b) by seeking straight to the position."""
    lookup = TupleGreaterThan if greater else TupleLessThan
    return lookup(Tuple(*(F(name) for name in fields)), tuple(values))


def keyset_page(
    queryset: QuerySet[Any],
    *,
    fields: Sequence[str],
    descending: bool = True,
    limit: int,
    after: str | None = None,
    before: str | None = None,
) -> KeysetPage:
    """The page of `limit` rows after the cursor `after` (or, with `before`, the page before that
    cursor; with neither, the first page), ordered by `fields` (all descending, or all ascending)."""
    model = queryset.model
    forward = [f"-{f}" if descending else f for f in fields]
    backward = [f if descending else f"-{f}" for f in fields]
    if before:
        values = decode_cursor(before, model, fields)
        rows = list(queryset.filter(_beyond(fields, values, greater=descending)).order_by(*backward)[: limit + 1])
        more_before = len(rows) > limit
        items = list(reversed(rows[:limit]))
        return KeysetPage(
            items=items,
            next_cursor=encode_cursor([getattr(items[-1], f) for f in fields]) if items else None,
            previous_cursor=encode_cursor([getattr(items[0], f) for f in fields]) if items and more_before else None,
        )
    if after:
        values = decode_cursor(after, model, fields)
        queryset = queryset.filter(_beyond(fields, values, greater=not descending))
    rows = list(queryset.order_by(*forward)[: limit + 1])
    items = rows[:limit]
    return KeysetPage(
        items=items,
        next_cursor=encode_cursor([getattr(items[-1], f) for f in fields]) if len(rows) > limit else None,
        previous_cursor=encode_cursor([getattr(items[0], f) for f in fields]) if after and items else None,
    )
