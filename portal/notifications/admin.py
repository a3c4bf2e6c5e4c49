"""Notifications in the admin: read-only, to answer "was this person told, and was the e-mail sent?"."""

from django.contrib import admin

from portal.audit.admin import ReadOnlyModelAdmin
from portal.notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(ReadOnlyModelAdmin):
    description = (
        "Read-only: notifications are created by the portal's actions, in the same transaction, and their "
        "e-mails are sent by the task worker. Shown here to check who was told what, and whether the "
        "e-mail went."
    )
    list_display = ("subject", "recipient", "application", "created_at", "read_at", "email_status", "emailed_at")
    list_filter = ("email_status", ("read_at", admin.EmptyFieldListFilter))
    search_fields = ("subject", "recipient__email")
    list_select_related = ("recipient", "application__mpid", "application__market_role")
    date_hierarchy = "created_at"
    show_full_result_count = False
