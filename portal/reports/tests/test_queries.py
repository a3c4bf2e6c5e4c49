"""Queries per request do not grow with the number of applications: every page, download and API call
of the dashboards costs the same with 10 applications as with 50 (each built at the same mix of stages,
with PQS dates and a wave, a target PAB meeting, an overdue work-off item and an evidence file)."""

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.accounts.roles import Role
from portal.reports.models import PortfolioReport
from portal.reports.services import portfolio_html

pytestmark = pytest.mark.django_db

PAGES = (
    "/dashboard/",
    "/dashboard/applications/",
    "/dashboard/timeline/",
    "/search/?q=pit-results",
    "/downloads/pipeline.xlsx",
    "/downloads/pipeline.csv",
    "/downloads/deadlines.xlsx",
    "/downloads/applications.csv",
    "/downloads/work-off-items.xlsx",
    "/downloads/rec-queue.xlsx",
    "/downloads/search.csv?q=pit-results",
)
API = (
    "/api/v1/reports/pipeline",
    "/api/v1/reports/pipeline/applications?limit=50",
    "/api/v1/search?q=pit-results&limit=50",
)


def count(call: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = call()
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        assert response.status_code == 200
    return len(captured)


def measure(clients: dict[str, Any], analyst: Any, one_application: int) -> dict[str, int]:
    def get(client: str, path: str) -> Callable[[], Any]:
        return lambda: clients[client].get(path)

    found = {path: count(get("analyst", path)) for path in PAGES}
    found["/downloads/work-queue.xlsx (DIP Manager)"] = count(lambda: clients["dip"].get("/downloads/work-queue.xlsx"))
    found["/ (participant home)"] = count(lambda: clients["member"].get("/"))
    found["/dashboard/ (participant)"] = count(lambda: clients["member"].get("/dashboard/"))
    found["timeline of one application"] = count(
        lambda: clients["analyst"].get(f"/applications/{one_application}/timeline/")
    )
    # The API through the session (a bearer token's use is recorded at most once a minute, which would
    # add a write to whichever call came first).
    for path in API:
        found[path] = count(get("analyst", path))
    report = PortfolioReport(requested_by=analyst, filters={})
    with CaptureQueriesContext(connection) as captured:
        portfolio_html(report)
    found["portfolio report HTML"] = len(captured)
    return found


def test_queries_do_not_grow_with_the_number_of_applications(build, analyst, member, staff, signed_in):
    clients = {"analyst": signed_in(analyst), "member": signed_in(member), "dip": signed_in(staff(Role.DIP_MANAGER))}
    first = build(10)
    with_10 = measure(clients, analyst, first[3].pk)
    build(40)
    with_50 = measure(clients, analyst, first[3].pk)
    assert with_50 == with_10
    # For the record (the report of the change quotes them): the fixed cost of each.
    print("\n".join(f"{n:4d}  {what}" for what, n in with_50.items()))
