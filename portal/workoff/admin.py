"""Work-off items and the reminders sent about them in the admin: read-only, because they change only
through the services (every change checked, audited and notified)."""

from django.contrib import admin

from portal.audit.admin import ReadOnlyModelAdmin
from portal.workoff.models import WorkOffItem, WorkOffReminder


@admin.register(WorkOffItem)
class WorkOffItemAdmin(ReadOnlyModelAdmin):
    description = (
        "Read-only: participants propose and close work-off items, Testing Assurance reviews them and the "
        "Code Bodies agree them, on the application's work-off plan page or through the API."
    )
    list_display = ("application", "reference", "case", "defect", "owner", "due_on", "status")
    list_filter = ("status",)
    search_fields = ("application__mpid__code", "application__organisation__name", "owner", "action")
    list_select_related = ("application__mpid", "application__market_role", "case", "defect")
    date_hierarchy = "due_on"


@admin.register(WorkOffReminder)
class WorkOffReminderAdmin(ReadOnlyModelAdmin):
    description = "Read-only: the reminders the daily job has sent, one per item, person, kind and day."
    list_display = ("item", "recipient", "kind", "sent_on")
    list_filter = ("kind", "sent_on")
    list_select_related = ("item__application", "recipient")
