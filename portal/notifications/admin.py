"""Notifications and e-mail in the admin.

Notifications and outbound e-mails are read-only, to answer "was this person told, and did the e-mail
go?". Distribution lists are reference data that administrators keep; every change is audited."""

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError

from portal.audit.admin import AuditedModelAdmin, ReadOnlyModelAdmin
from portal.notifications.models import DistributionList, Notification, OutboundEmail


@admin.register(Notification)
class NotificationAdmin(ReadOnlyModelAdmin):
    description = (
        "Read-only: notifications are created by the portal's actions, in the same transaction, and their "
        "e-mails are sent by the task worker. Shown here to check who was told what, and whether the "
        "e-mail went."
    )
    list_display = (
        "subject",
        "recipient",
        "application",
        "created_at",
        "read_at",
        "email_status",
        "emailed_at",
        "attempts",
    )
    list_filter = ("email_status", ("read_at", admin.EmptyFieldListFilter))
    search_fields = ("subject", "recipient__email")
    list_select_related = ("recipient", "application__mpid", "application__market_role")
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(DistributionList)
class DistributionListAdmin(AuditedModelAdmin):
    description = (
        "Addresses the portal e-mails for people without an account: the REC Contract Manager and the "
        "relevant industry parties are told when the REC Party Register changes. One address per line. "
        "Do not change a list's code: the portal finds the list by it."
    )
    list_display = ("name", "code", "address_count", "is_active", "updated_at")
    list_filter = ("is_active",)
    search_fields = ("name", "code", "addresses")
    fields = ("name", "code", "addresses", "is_active")

    @admin.display(description="Addresses")
    def address_count(self, obj: DistributionList) -> Any:
        try:
            return len(obj.address_list)
        except ValidationError:
            return "invalid"

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        # The portal names the shipped lists in its code: switch a list off instead of deleting it.
        return False

    def get_readonly_fields(self, request: Any, obj: Any = None) -> Any:
        # The code names the list in the portal's code: fixed once the list exists.
        return ("code",) if obj is not None else ()


@admin.register(OutboundEmail)
class OutboundEmailAdmin(ReadOnlyModelAdmin):
    description = (
        "Read-only: e-mails to the addresses of distribution lists, created by the portal's actions and "
        "sent by the task worker. `manage.py requeue_stale_email` sends again those that failed."
    )
    list_display = ("subject", "to_address", "list_code", "application", "created_at", "status", "sent_at", "attempts")
    list_filter = ("status", "list_code")
    search_fields = ("subject", "to_address", "message_id")
    list_select_related = ("application__mpid", "application__market_role")
    date_hierarchy = "created_at"
    show_full_result_count = False
