"""Queries per request do not grow with the number of rows on the main pages and API lists that `make bench`
times (docs/performance.md): the home page, the work queue, the applications list and one application's
page, the register, the work-off list and a PAB meeting's agenda, and the API's lists, each the same with
10 applications as with 50 (built at the same mix of stages by the `build` fixture). The dashboards, the
executions and defects lists and the PAB papers have tests of their own."""

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.accounts.roles import Role
from portal.approvals.models import PabMeeting

pytestmark = pytest.mark.django_db

PAGES = (
    "/",
    "/work-queue/",
    "/applications/",
    "/register/",
    "/work-off/",
)
API = (
    "/api/v1/work-queue",
    "/api/v1/applications",
    "/api/v1/register",
    "/api/v1/workoff/items",
    "/api/v1/notifications",
    "/api/v1/pab/meetings",
)


def count(call: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = call()
        assert response.status_code == 200, response.content[:300]
    return len(captured)


def measure(clients: dict[str, Any], one_application: int, meeting: int) -> dict[str, int]:
    # One request per client first: a session last seen a while ago (building 40 applications takes
    # time) has its last-seen time written on its next request, which is not what is counted here.
    for client in clients.values():
        client.get("/applications/")
    found = {path: count(lambda path=path: clients["analyst"].get(path)) for path in PAGES + API}  # type: ignore[misc]
    found["application page"] = count(lambda: clients["analyst"].get(f"/applications/{one_application}/"))
    found["PAB meeting page"] = count(lambda: clients["secretary"].get(f"/pab/meetings/{meeting}/"))
    found["work queue (participant)"] = count(lambda: clients["member"].get("/work-queue/"))
    found["applications (participant)"] = count(lambda: clients["member"].get("/applications/"))
    return found


def test_list_queries_do_not_grow_with_the_number_of_applications(build, analyst, member, staff, signed_in):
    clients = {
        "analyst": signed_in(analyst),
        "member": signed_in(member),
        "secretary": signed_in(staff(Role.PAB_SECRETARY)),
    }
    first = build(10)
    meeting = PabMeeting.objects.filter(targets__is_current=True).order_by("date").first()
    assert meeting is not None
    with_10 = measure(clients, first[3].pk, meeting.pk)
    build(40)
    with_50 = measure(clients, first[3].pk, meeting.pk)
    assert with_50 == with_10
    print("\n".join(f"{n:4d}  {what}" for what, n in with_50.items()))
