"""Deadline reminders: before, on the day and once overdue; each exactly once per deadline, kind and
person, however often the job runs."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django_tasks_db.models import DBTaskResult

from portal.approvals.models import DeadlineReminder, DeadlineRule, ReminderKind
from portal.approvals.services import deadline_reminders_send
from portal.approvals.tests.conftest import inbox
from portal.audit.models import AuditEvent
from portal.core.calendar import add_working_days
from portal.qualification.models import Task
from portal.qualification.services import application_withdraw
from portal.testing.models import QtPlan

pytestmark = pytest.mark.django_db

QT_START = date(2027, 3, 1)  # a Monday
DUE = add_working_days(QT_START, -10)  # the Initial QAD, 10 working days before: Monday 15 February 2027


@pytest.fixture
def application(make_application):
    application = make_application()
    QtPlan.objects.create(application=application, starts_on=QT_START)
    return application


def reminders(user):
    return [n for n in inbox(user) if "Initial QAD submitted" in n.subject]


def test_reminders_go_before_on_the_day_and_once_overdue_each_exactly_once(
    application, member, director, analyst, other_member
):
    assert date(2027, 2, 15) == DUE
    assert deadline_reminders_send(today=add_working_days(DUE, -6)).sent == 0  # not yet

    report = deadline_reminders_send(today=add_working_days(DUE, -3))
    assert report.by_kind == {"due_soon": report.sent} and report.sent >= 3
    for person in (member, director, analyst):
        [note] = reminders(person)
        assert note.subject == f"Due 15 February 2027: Initial QAD submitted on {application.reference}"
        assert "in 3 working days" in note.body
        assert "10 working days before the start of QT on 1 March 2027 (QT plan)" in note.body
        assert note.link == f"/applications/{application.pk}/"
    assert not inbox(other_member)

    # Running again, the same day or the next, sends nothing more.
    assert deadline_reminders_send(today=add_working_days(DUE, -3)).sent == 0
    assert deadline_reminders_send(today=add_working_days(DUE, -2)).sent == 0

    assert deadline_reminders_send(today=DUE).by_kind == {"due_today": report.sent}
    assert deadline_reminders_send(today=DUE).sent == 0
    assert reminders(member)[-1].subject.startswith("Due today")

    assert deadline_reminders_send(today=add_working_days(DUE, 1)).by_kind == {"overdue": report.sent}
    assert reminders(member)[-1].subject.startswith("Deadline missed")
    assert "was due on Monday 15 February 2027 and is not done yet" in reminders(member)[-1].body
    # Overdue is said once, not every day.
    assert deadline_reminders_send(today=add_working_days(DUE, 5)).sent == 0
    assert len(reminders(member)) == 3

    kinds = set(DeadlineReminder.objects.values_list("kind", flat=True))
    assert kinds == {ReminderKind.DUE_SOON, ReminderKind.DUE_TODAY, ReminderKind.OVERDUE}
    events = AuditEvent.objects.filter(action="deadline.remind", application_id=application.pk)
    assert events.count() == 3 and all(e.actor is None for e in events)


def test_a_done_deadline_is_not_reminded_of(application, member):
    Task.objects.filter(application=application, code="initial_qad").update(state="submitted")
    assert deadline_reminders_send(today=DUE).sent == 0
    assert not reminders(member)


def test_a_closed_application_is_not_reminded_of(application, member):
    application_withdraw(actor=member, application_id=application.pk, reason="Leaving the market.")
    assert deadline_reminders_send(today=DUE).sent == 0


def test_a_moved_deadline_is_reminded_of_afresh(application, member):
    deadline_reminders_send(today=DUE)
    QtPlan.objects.filter(application=application).update(starts_on=date(2027, 3, 15))
    new_due = add_working_days(date(2027, 3, 15), -10)
    assert deadline_reminders_send(today=new_due).by_kind.get("due_today")
    assert len(reminders(member)) == 2


def test_the_reminder_period_is_the_rules(application, member):
    DeadlineRule.objects.filter(code="initial_qad_before_qt").update(remind_working_days_before=1)
    assert deadline_reminders_send(today=add_working_days(DUE, -3)).sent == 0
    assert deadline_reminders_send(today=add_working_days(DUE, -1)).sent > 0


def test_the_database_refuses_a_second_reminder_of_the_same_kind(application, member):
    rule = DeadlineRule.objects.get(code="initial_qad_before_qt")
    values = {"application": application, "rule": rule, "due_on": DUE, "kind": "due_soon", "recipient": member}
    DeadlineReminder.objects.create(**values)
    with pytest.raises(IntegrityError), transaction.atomic():
        DeadlineReminder.objects.create(**values)
    # What the database already holds is not sent again.
    assert not [n for n in inbox(member) if n.subject.startswith("Due ")]
    deadline_reminders_send(today=add_working_days(DUE, -2))
    assert not reminders(member)


def test_the_command_runs_now_or_queues_the_job(application, member):
    out = StringIO()
    call_command("send_deadline_reminders", "--date", DUE.isoformat(), stdout=out)
    assert "Deadline reminders for 2027-02-15:" in out.getvalue() and "due_today" in out.getvalue()
    jobs = DBTaskResult.objects.count()
    out = StringIO()
    call_command("send_deadline_reminders", "--enqueue", stdout=out)
    assert "queued as job" in out.getvalue() and DBTaskResult.objects.count() == jobs + 1
    with pytest.raises(CommandError, match="cannot be used with --enqueue"):
        call_command("send_deadline_reminders", "--enqueue", "--date", "2027-02-15")
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("send_deadline_reminders", "--date", "15/02/2027")
