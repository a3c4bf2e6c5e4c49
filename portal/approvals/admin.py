"""The approvals configuration in the admin: the meeting rule, the deadline rules and the extra
non-working days are reference data an administrator edits (every change audited). Meetings, targets,
reminders and calendar feeds change only through the portal's own pages and the API (checked,
audited, notified), so they are read-only here."""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from portal.approvals.models import (
    CalendarFeed,
    DeadlineReminder,
    DeadlineRule,
    NonWorkingDay,
    PabMeeting,
    PabMeetingRule,
    PabTarget,
)
from portal.audit.admin import AuditedModelAdmin, ReadOnlyModelAdmin
from portal.qualification.models import TaskDefinition


@admin.register(PabMeetingRule)
class PabMeetingRuleAdmin(AuditedModelAdmin):
    description = (
        "How BSC PAB meetings fall: monthly on one weekday of the month, with the paper deadline a number of "
        "working days before. `manage.py generate_pab_meetings` (daily) and the secretary's “Generate meetings” "
        "button add the months ahead; a meeting nobody has moved and no application is targeted at follows a "
        "changed rule, the others stay where they are. Every change is audited."
    )
    list_display = ("name", "cadence", "months_ahead", "is_active")
    fields = (
        "code",
        "name",
        "is_active",
        "weekday",
        "week_of_month",
        "starts_at",
        "duration_minutes",
        "location",
        "paper_deadline_working_days",
        "months_ahead",
    )

    @admin.display(description="Cadence")
    def cadence(self, obj: PabMeetingRule) -> str:
        return obj.description

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class DeadlineRuleForm(forms.ModelForm):
    class Meta:
        model = DeadlineRule
        fields = [
            "code",
            "title",
            "description",
            "task_code",
            "milestone",
            "working_days_before",
            "anchor",
            "remind_working_days_before",
            "order",
            "is_active",
        ]

    def clean_task_code(self) -> str:
        code = str(self.cleaned_data["task_code"])
        if not TaskDefinition.objects.filter(code=code).exists():
            known = ", ".join(sorted(set(TaskDefinition.objects.values_list("code", flat=True))))
            raise forms.ValidationError(f"No route has a task “{code}”. The task codes are: {known}.")
        return code


@admin.register(DeadlineRule)
class DeadlineRuleAdmin(AuditedModelAdmin):
    form = DeadlineRuleForm
    description = (
        "Deadlines back-scheduled from a date: “the task must be submitted (or completed) N working days before "
        "the anchor”. QA&P Appendix C is not published, so the shipped rules are defaults to be confirmed by the "
        "Code Bodies. Changes apply at once to every open application (pages, reminders, calendar feeds); make a "
        "rule inactive rather than deleting it. Every change is audited."
    )
    list_display = ("order", "code", "title", "task_code", "milestone", "working_days_before", "anchor", "is_active")
    list_display_links = ("code", "title")
    list_filter = ("is_active", "anchor", "milestone")
    search_fields = ("code", "title", "task_code")
    fields = (
        "code",
        "title",
        "description",
        "task_code",
        "milestone",
        "working_days_before",
        "anchor",
        "remind_working_days_before",
        "order",
        "is_active",
    )


@admin.register(NonWorkingDay)
class NonWorkingDayAdmin(AuditedModelAdmin):
    description = (
        "Days that are not working days although they are neither weekends nor bank holidays in England and Wales "
        "(bank holidays, substitute days included, come built in). Deadlines and paper deadlines count around "
        "them; run “Generate meetings” afterwards so untouched meetings' paper deadlines follow. Every change is "
        "audited."
    )
    list_display = ("date", "reason")
    date_hierarchy = "date"


@admin.register(PabMeeting)
class PabMeetingAdmin(ReadOnlyModelAdmin):
    description = (
        "Read-only: the PAB secretary adds, moves, cancels and marks meetings held on the PAB meetings pages "
        "(/pab/meetings/) or through the API, so that the participants of targeted applications are told."
    )
    list_display = ("date", "starts_at", "paper_deadline", "status", "location", "rule_month", "set_by_hand")
    list_filter = ("status", "set_by_hand")
    date_hierarchy = "date"


@admin.register(PabTarget)
class PabTargetAdmin(ReadOnlyModelAdmin):
    description = "Read-only: every target meeting given to an application, the superseded ones included."
    list_display = ("application", "meeting", "is_current", "set_by", "set_at", "late_reason")
    list_filter = ("is_current",)
    list_select_related = ("application__mpid", "application__market_role", "meeting", "set_by")
    search_fields = ("application__mpid__code", "application__organisation__name")


@admin.register(DeadlineReminder)
class DeadlineReminderAdmin(ReadOnlyModelAdmin):
    description = "Read-only: the reminders the daily job has sent, one per deadline, kind and person."
    list_display = ("application", "rule", "due_on", "kind", "recipient", "sent_at")
    list_filter = ("kind", "rule")
    list_select_related = ("application__mpid", "application__market_role", "rule", "recipient")


@admin.register(CalendarFeed)
class CalendarFeedAdmin(ReadOnlyModelAdmin):
    description = (
        "Read-only: who has a private calendar feed, and when it was last read. The addresses are secrets the "
        "users see and reset on their Calendar feeds page; they are not shown here."
    )
    list_display = ("user", "created_at", "reset_at", "last_used_at")
    fields = ("user", "created_at", "reset_at", "last_used_at")
    list_select_related = ("user",)
