"""Limit/offset pagination for every list: `?limit=&offset=` in, `{count, limit, offset, items}` out."""

from typing import Any

from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import PaginationBase

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_OFFSET = 1_000_000_000


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
