"""The inbox: notifications newest first, marked read one at a time (in place, with htmx) or all at once."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from portal.core.pages import portal_page
from portal.notifications.selectors import notification_list, notification_unread_count
from portal.notifications.services import notification_mark_all_read, notification_mark_read
from portal.web.views.base import int_or_none, paginate, render_page


@require_GET
@portal_page
def inbox(request: HttpRequest) -> HttpResponse:
    page = paginate(request, notification_list(user=request.user))
    return render_page(request, "web/inbox.html", {"nav": "inbox", "page": page})


def _back_to_inbox(request: HttpRequest) -> HttpResponse:
    page = int_or_none(request.POST.get("page"))
    url = reverse("web:inbox")
    return redirect(f"{url}?page={page}" if page and page > 1 else url)


@require_POST
@portal_page
def notification_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    notification_mark_read(user=request.user, notification_id=notification_id)
    if not getattr(request, "htmx", False):
        return _back_to_inbox(request)
    notification = notification_list(user=request.user).filter(pk=notification_id).first()
    if notification is None:
        raise Http404("No such notification.")
    return render(
        request,
        "web/inbox.html#notification_row",
        {
            "notification": notification,
            "page_number": request.POST.get("page", ""),
            "swap_unread_count": True,
            "unread_count": notification_unread_count(user=request.user),
        },
    )


@require_POST
@portal_page
def notification_read_all(request: HttpRequest) -> HttpResponse:
    count = notification_mark_all_read(user=request.user)
    if count:
        messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} as read.")
    return _back_to_inbox(request)
