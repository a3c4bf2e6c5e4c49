"""What every v1 operation shares: who is calling, and how objects are named in paths."""

from typing import Any

from django.http import HttpRequest
from ninja import P, PathEx

# Ids are 64-bit database keys: a larger number is refused as bad input before it reaches the database.
MAX_ID = 2**63 - 1

ObjectId = PathEx[int, P(ge=1, le=MAX_ID, description="The object's id.")]
TaskCode = PathEx[str, P(max_length=40, description="The task's code, e.g. pqs or final_qad.")]


def caller(request: HttpRequest) -> Any:
    """The user the request authenticated as (by bearer token or session)."""
    return getattr(request, "auth", None)
