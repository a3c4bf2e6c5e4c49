"""Pagination of the API's lists: limit/offset (`?limit=&offset=` in, `{count, limit, offset, items}` out) for
lists of bounded size, keyset (`?limit=&cursor=` in, `{count, limit, next_cursor, items}` out) for those
that grow without bound."""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import PaginationBase

from portal.core.keyset import MAX_CURSOR_LENGTH, keyset_page

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_OFFSET = 1_000_000_000


class PresentedPages:
    """What a list operation paginated with `LimitOffset` returns when its items are shaped from rows:
    the paginator counts `rows` and slices them, and only the slice it takes is presented. `present` gets
    the page's rows together, so that whatever they need besides is read once for the page."""

    def __init__(self, rows: Any, present: Callable[[list[Any]], list[Any]]) -> None:
        self.rows = rows
        self.present = present

    def count(self) -> int:
        return int(self.rows.count())

    def all(self) -> "PresentedPages":
        return self

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item: slice) -> list[Any]:
        return self.present(list(self.rows[item]))


def each(shape: Callable[[Any], Any]) -> Callable[[list[Any]], list[Any]]:
    """`present` for `PresentedPages` when each row is shaped on its own."""
    return lambda rows: [shape(row) for row in rows]


class LimitOffset(PaginationBase):
    class Input(Schema):
        limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="How many items to return.")
        offset: int = Field(0, ge=0, le=MAX_OFFSET, description="How many items to skip.")

    class Output(Schema):
        count: int = Field(description="How many items there are in all, across every page.")
        limit: int
        offset: int
        items: list[Any]

    def paginate_queryset(self, queryset: Any, pagination: Any, request: HttpRequest, **params: Any) -> Any:
        offset, limit = pagination.offset, pagination.limit
        return {
            "count": self._items_count(queryset),
            "limit": limit,
            "offset": offset,
            "items": queryset[offset : offset + limit],
        }


class Keyset(PaginationBase):
    """Keyset pagination for lists that can grow past a few thousand rows (`portal.core.keyset`): `?limit=`
    and `?cursor=` in, `{count, limit, next_cursor, items}` out. The first page has no cursor; each page's
    `next_cursor` fetches the next, and is null on the last. Every page costs the same, however deep."""

    class Input(Schema):
        limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="How many items to return.")
        cursor: str | None = Field(
            None,
            max_length=MAX_CURSOR_LENGTH,
            description="Where the page starts: the `next_cursor` of the page before. Leave out for the first page.",
        )

    class Output(Schema):
        count: int = Field(description="How many items there are in all, across every page.")
        limit: int
        next_cursor: str | None = Field(description="The cursor of the next page; null on the last page.")
        items: list[Any]

    def __init__(self, *, fields: tuple[str, ...], descending: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fields = fields
        self.descending = descending

    def paginate_queryset(self, queryset: Any, pagination: Any, request: HttpRequest, **params: Any) -> Any:
        # Presented pages are paged on their rows, then the page is presented.
        presented = queryset if isinstance(queryset, PresentedPages) else None
        rows = presented.rows if presented is not None else queryset
        page = keyset_page(
            rows, fields=self.fields, descending=self.descending, limit=pagination.limit, after=pagination.cursor
        )
        return {
            "count": self._items_count(rows),
            "limit": pagination.limit,
            "next_cursor": page.next_cursor,
            "items": presented.present(list(page.items)) if presented is not None else page.items,
        }
