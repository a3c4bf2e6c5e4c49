"""The reminder job: agreed items not yet closed are reminded of when due within 5 working days, on the
due date, and when overdue; to the applying organisation's members and the Code Bodies; never twice."""

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.db.models import Q
from django_tasks_db.models import DBTaskResult

from portal.accounts.roles import CODE_BODY_ROLES, Role
from portal.accounts.selectors import organisation_users, users_with_roles
from portal.audit.models import AuditEvent
from portal.audit.services import audit_verify
from portal.core.calendar import add_working_days
from portal.factories import make_member
from portal.notifications.models import Notification
from portal.qualification.services import application_withdraw
from portal.workoff.models import WorkOffItem, WorkOffReminder
from portal.workoff.services import reminder_kind, workoff_reminders_send
from portal.workoff.tasks import send_workoff_reminders
from portal.workoff.tests.conftest import pdf

pytestmark = pytest.mark.django_db

# A Monday with no bank holiday near it.
MONDAY = date(2026, 3, 9)


def due(item, day):
    WorkOffItem.objects.filter(pk=item.pk).update(due_on=day)
    item.refresh_from_db()
    return item


def audience(application):
    """Everyone a reminder about the application's items goes to: its organisation's members and the
    Code Bodies (a Supplier's are all three, the REC Code Manager included)."""
    people = set(organisation_users(application.organisation_id)) | set(users_with_roles(CODE_BODY_ROLES))
    return {u.pk for u in people}


def reminders(kind=None):
    """The reminders sent (not the notifications of the item's own steps)."""
    kinds = [kind] if kind else ["due soon", "due today", "overdue"]
    query = Q()
    for name in kinds:
        query |= Q(subject__startswith=f"Work-off item {name}:")
    return Notification.objects.filter(query)


def test_working_days_skip_weekends_and_bank_holidays():
    assert add_working_days(date(2026, 3, 13), 1) == date(2026, 3, 16)  # Friday → Monday
    assert add_working_days(MONDAY, 5) == date(2026, 3, 16)
    # Christmas Day 2026 is a Friday and Boxing Day is made up on Monday 28 December.
    assert add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 29)


@pytest.mark.parametrize(
    ("due_on", "kind"),
    [
        (MONDAY - timedelta(days=1), "overdue"),
        (MONDAY, "due_today"),
        (MONDAY + timedelta(days=1), "due_soon"),
        (date(2026, 3, 16), "due_soon"),  # exactly 5 working days ahead
        (date(2026, 3, 17), None),
    ],
)
def test_which_reminder_an_item_is_due(due_on, kind):
    assert reminder_kind(due_on, MONDAY) == kind


def test_an_item_due_today_is_reminded_of_once_to_the_participant_and_the_code_bodies(
    agreed_item, member, director, staff, analyst, tester
):
    due(agreed_item, MONDAY)
    qsp, rec = staff(Role.QSP), staff(Role.REC_CODE_MANAGER)
    everyone = audience(agreed_item.application)
    assert {member.pk, director.pk, analyst.pk, qsp.pk, rec.pk} <= everyone
    n = len(everyone)
    report = workoff_reminders_send(today=MONDAY)
    assert (report.items, report.sent, report.by_kind) == (1, n, {"due_today": n})
    recipients = set(reminders("due today").values_list("recipient", flat=True))
    assert recipients == everyone
    assert tester.pk not in recipients
    note = reminders().filter(recipient=member).get()
    assert note.subject == f"Work-off item due today: WO-001 on {agreed_item.application.reference}"
    assert note.link == f"/applications/{agreed_item.application_id}/workoff/{agreed_item.pk}/"
    assert "is due today" in note.body
    assert WorkOffReminder.objects.filter(kind="due_today", sent_on=MONDAY).count() == n
    event = AuditEvent.objects.get(action="workoff.remind")
    assert event.actor is None and event.after["kind"] == "due_today" and len(event.after["to"]) == n
    assert audit_verify().ok

    again = workoff_reminders_send(today=MONDAY)
    assert again.sent == 0
    assert reminders().count() == n
    assert AuditEvent.objects.filter(action="workoff.remind").count() == 1


def test_due_soon_is_sent_once_however_many_days_the_item_is_due_soon(agreed_item):
    due(agreed_item, date(2026, 3, 13))
    n = len(audience(agreed_item.application))
    assert workoff_reminders_send(today=MONDAY).by_kind == {"due_soon": n}
    assert workoff_reminders_send(today=MONDAY + timedelta(days=1)).sent == 0
    assert reminders("due soon").count() == n
    note = reminders("due soon").first()
    assert note is not None and "is due on 13 March 2026" in note.body


def test_overdue_is_sent_on_the_first_day_and_then_weekly_until_closed(agreed_item, member):
    due(agreed_item, MONDAY - timedelta(days=1))
    n = len(audience(agreed_item.application))
    assert workoff_reminders_send(today=MONDAY).by_kind == {"overdue": n}
    for later in range(1, 7):
        assert workoff_reminders_send(today=MONDAY + timedelta(days=later)).sent == 0
    assert workoff_reminders_send(today=MONDAY + timedelta(days=7)).sent == n
    assert reminders("overdue").count() == 2 * n
    from portal.workoff.services import workoff_item_close

    workoff_item_close(
        actor=member, application_id=agreed_item.application_id, item_id=agreed_item.pk, note="Done.", files=[pdf()]
    )
    assert workoff_reminders_send(today=MONDAY + timedelta(days=14)).sent == 0


def test_someone_who_joins_later_is_reminded_without_anyone_else_being_reminded_twice(agreed_item, org):
    due(agreed_item, MONDAY)
    workoff_reminders_send(today=MONDAY)
    newcomer = make_member(org, email="new@northern.test")
    report = workoff_reminders_send(today=MONDAY)
    assert report.sent == 1
    assert reminders().filter(recipient=newcomer).count() == 1


def test_items_not_agreed_far_off_or_of_closed_applications_are_not_reminded_of(
    qt_app, propose, agreed_item, member, catalogue
):
    proposed = propose(qt_app, case_id=catalogue.never_run.pk)
    due(proposed, MONDAY)
    due(agreed_item, date(2026, 4, 30))
    assert workoff_reminders_send(today=MONDAY).sent == 0
    due(agreed_item, MONDAY)
    application_withdraw(actor=member, application_id=qt_app.pk, reason="Leaving the market.")
    assert workoff_reminders_send(today=MONDAY).sent == 0
    assert not WorkOffReminder.objects.exists()


def test_the_database_refuses_a_second_reminder_of_the_same_kind_on_the_same_day(agreed_item, member):
    WorkOffReminder.objects.create(item=agreed_item, recipient=member, kind="overdue", sent_on=MONDAY)
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkOffReminder.objects.create(item=agreed_item, recipient=member, kind="overdue", sent_on=MONDAY)


def test_the_command_runs_the_job_for_a_given_day(agreed_item):
    due(agreed_item, MONDAY)
    n = len(audience(agreed_item.application))
    out = StringIO()
    call_command("send_workoff_reminders", "--date", MONDAY.isoformat(), stdout=out)
    assert out.getvalue().strip() == f"Work-off reminders for 2026-03-09: {n} sent about 1 items (due_today: {n})."
    out = StringIO()
    call_command("send_workoff_reminders", "--date", MONDAY.isoformat(), stdout=out)
    assert "0 sent about 0 items (none)" in out.getvalue()


def test_the_command_refuses_a_bad_date():
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("send_workoff_reminders", "--date", "9 March")
    with pytest.raises(CommandError, match="cannot be used with --enqueue"):
        call_command("send_workoff_reminders", "--date", "2026-03-09", "--enqueue")


def test_the_command_can_hand_the_job_to_the_worker():
    before = DBTaskResult.objects.count()
    out = StringIO()
    call_command("send_workoff_reminders", "--enqueue", stdout=out)
    assert DBTaskResult.objects.count() == before + 1
    assert "queued as job" in out.getvalue()


def test_the_task_runs_the_job(agreed_item):
    due(agreed_item, date.today() - timedelta(days=3))  # noqa: DTZ011 (overdue whatever the zone)
    assert send_workoff_reminders.call() == len(audience(agreed_item.application))
