"""The approvals configuration in the admin: the rules and extra non-working days are edited there,
each change audited; meetings, targets, reminders and feeds are read-only; the shipped rules can be
loaded again."""

from typing import cast

import pytest
from django.test import Client
from django.urls import reverse

from portal.accounts.models import User
from portal.approvals.models import (
    CalendarFeed,
    DeadlineReminder,
    DeadlineRule,
    NonWorkingDay,
    PabMeeting,
    PabMeetingRule,
    PabTarget,
)
from portal.approvals.reference_data import approvals_reference_data_load
from portal.audit.models import AuditEvent
from portal.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client: Client) -> Client:
    client.force_login(cast(User, UserFactory(email="root@portal.test", is_staff=True, is_superuser=True)))
    return client


def url(model, view, *args):
    return reverse(f"admin:approvals_{model._meta.model_name}_{view}", args=args)


def test_the_rules_and_non_working_days_are_edited_in_the_admin_and_audited(admin_client):
    rule = PabMeetingRule.objects.get(code="bsc_pab")
    form = {
        "code": "bsc_pab",
        "name": rule.name,
        "is_active": "on",
        "weekday": "3",
        "week_of_month": "2",
        "starts_at": "10:00",
        "duration_minutes": "180",
        "location": "Online",
        "paper_deadline_working_days": "7",
        "months_ahead": "12",
    }
    response = admin_client.post(url(PabMeetingRule, "change", rule.pk), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    rule.refresh_from_db()
    assert (rule.week_of_month, rule.paper_deadline_working_days) == (2, 7)
    event = AuditEvent.objects.get(action="admin.pabmeetingrule.change")
    assert event.before["paper_deadline_working_days"] == 5 and event.after["paper_deadline_working_days"] == 7
    assert admin_client.get(url(PabMeetingRule, "delete", rule.pk)).status_code == 403

    response = admin_client.post(url(NonWorkingDay, "add"), {"date": "2026-12-24", "reason": "Office closure"})
    assert response.status_code == 302 and NonWorkingDay.objects.filter(reason="Office closure").exists()
    assert AuditEvent.objects.filter(action="admin.nonworkingday.create").exists()


def test_a_deadline_rule_must_name_a_task_that_exists(admin_client):
    rule = DeadlineRule.objects.get(code="initial_qad_before_qt")
    form = {
        "code": rule.code,
        "title": rule.title,
        "description": rule.description,
        "task_code": "inital_qad",
        "milestone": "submitted",
        "working_days_before": "15",
        "anchor": "qt_start",
        "remind_working_days_before": "5",
        "order": "10",
        "is_active": "on",
    }
    response = admin_client.post(url(DeadlineRule, "change", rule.pk), form)
    assert response.status_code == 200 and "No route has a task “inital_qad”" in response.content.decode()
    response = admin_client.post(url(DeadlineRule, "change", rule.pk), {**form, "task_code": "initial_qad"})
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.working_days_before == 15


@pytest.mark.parametrize(
    "model", [PabMeetingRule, DeadlineRule, NonWorkingDay, PabMeeting, PabTarget, DeadlineReminder, CalendarFeed]
)
def test_every_list_renders(admin_client, model, make_meeting):
    make_meeting(30)
    assert admin_client.get(url(model, "changelist")).status_code == 200
    first = model._default_manager.first()
    if first is not None:
        assert admin_client.get(url(model, "change", first.pk)).status_code == 200


@pytest.mark.parametrize("model", [PabMeeting, PabTarget, DeadlineReminder, CalendarFeed], ids=lambda m: m.__name__)
def test_what_the_services_write_is_read_only(admin_client, model):
    assert admin_client.get(url(model, "changelist")).status_code == 200
    assert admin_client.get(url(model, "add")).status_code == 403


def test_the_shipped_rules_load_once_and_can_be_put_back():
    assert approvals_reference_data_load() == 0  # the data migration loaded them
    DeadlineRule.objects.filter(code="final_qad_signed_before_pab").update(working_days_before=9)
    PabMeetingRule.objects.update(week_of_month=1)
    assert approvals_reference_data_load() == 0
    assert DeadlineRule.objects.get(code="final_qad_signed_before_pab").working_days_before == 9
    approvals_reference_data_load(reset=True)
    assert DeadlineRule.objects.get(code="final_qad_signed_before_pab").working_days_before == 5
    assert PabMeetingRule.objects.get().week_of_month == -1
