import pytest

from portal.accounts.roles import Role
from portal.api.tests.conftest import assert_error
from portal.notifications.models import Notification

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("generic_workflow")]


def test_notifications_are_the_callers_own(api_as, member, other_member, staff, make_application, advance):
    application = advance(make_application(), stop_at_state=("pit", "not_started"))
    analyst = staff(Role.ELEXON_ANALYST)
    body = api_as(member).get("/api/v1/notifications").json()
    own = Notification.objects.filter(recipient=member)
    assert body["count"] == own.count() > 0
    assert {item["id"] for item in body["items"]} == set(own.values_list("pk", flat=True))
    item = body["items"][0]
    assert set(item) == {"id", "subject", "body", "link", "application_id", "created_at", "read_at"}
    assert item["application_id"] == application.pk
    assert api_as(other_member).get("/api/v1/notifications").json()["count"] == 0
    analyst_ids = {item["id"] for item in api_as(analyst).get("/api/v1/notifications").json()["items"]}
    assert analyst_ids == set(Notification.objects.filter(recipient=analyst).values_list("pk", flat=True))


def test_notifications_are_paginated(api_as, member, make_application, advance):
    advance(make_application(), stop_at_state=("initial_qad", "not_started"))
    total = Notification.objects.filter(recipient=member).count()
    assert total >= 2
    body = api_as(member).get("/api/v1/notifications", {"limit": 1, "offset": 1}).json()
    assert (body["count"], body["limit"], body["offset"], len(body["items"])) == (total, 1, 1, 1)
    assert_error(api_as(member).get("/api/v1/notifications", {"offset": "first"}), 422, "invalid_input")


def test_notifications_need_authentication(anonymous):
    assert_error(anonymous.get("/api/v1/notifications"), 401, "not_authenticated")
