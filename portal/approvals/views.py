"""The approvals pages: the BSC PAB meeting calendar, a meeting, the secretary's forms (add, change,
cancel, mark held, generate from the rule), an application's target meeting and deadlines with the
analysts' form, the user's calendar feeds page, and the two calendar feeds themselves.

Each view parses, calls one selector or service and renders. Refusals are shown in the GOV.UK error
summary, each message linked to the field it is about; another organisation's application answers 404.
The feeds need no session: the public one has nothing confidential, the private one is opened by the
secret in its address alone (anything else answers 404).
"""

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.approvals import ics, paper_selectors, selectors, services
from portal.approvals.deadlines import long_date, short_date
from portal.approvals.forms import CancelForm, MeetingForm, TargetForm
from portal.approvals.models import PabMeeting
from portal.approvals.permissions import can_manage_meetings, can_target, meeting_manage_refusal
from portal.approvals.selectors import PabPanel
from portal.core.calendar import uk_today
from portal.core.errors import ApplicationError, NotFound, PermissionDenied
from portal.core.pages import PageErrors, portal_page

MEETING_TARGETS = {
    "date": "id_date_day",
    "date_day": "id_date_day",
    "starts_at": "id_starts_at",
    "duration_minutes": "id_duration_minutes",
    "location": "id_location",
    "paper_deadline": "id_paper_deadline_day",
    "paper_deadline_day": "id_paper_deadline_day",
    "notes": "id_notes",
}
TARGET_TARGETS = {"meeting": "id_meeting", "reason": "id_reason", "late_reason": "id_late_reason"}


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], errors: PageErrors | None = None
) -> HttpResponse:
    context = {"nav": "pab", "errors": errors or PageErrors(), **context}
    return render(request, template, context, status=errors.status if errors else 200)


def _meeting_url(meeting: PabMeeting) -> str:
    return reverse("approvals:meeting_detail", args=[meeting.pk])


# --- the calendar and one meeting ------------------------------------------------------------------


@require_GET
@portal_page
def meeting_calendar_page(request: HttpRequest) -> HttpResponse:
    year = request.GET.get("year", "")
    chosen = int(year) if year.isdigit() and 2000 <= int(year) <= 2100 else None
    calendar = selectors.pab_meeting_calendar(user=request.user, year=chosen)
    return _render(request, "approvals/meeting_calendar.html", {"calendar": calendar})


def _meeting_page(request: HttpRequest, meeting_id: int, errors: PageErrors | None = None) -> HttpResponse:
    """The meeting and its agenda, a page at a time (`?page=`)."""
    agenda = paper_selectors.meeting_agenda(user=request.user, meeting_id=meeting_id, page=request.GET.get("page", 1))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "meeting": agenda.meeting,
        "agenda": agenda,
        "page": agenda.page,
        "query": query.urlencode(),
        "can_manage": can_manage_meetings(request.user),
        "today": uk_today(),
    }
    return _render(request, "approvals/meeting_detail.html", context, errors)


@require_GET
@portal_page
def meeting_detail_page(request: HttpRequest, meeting_id: int) -> HttpResponse:
    return _meeting_page(request, meeting_id)


@require_POST
@portal_page
def meetings_generate_page(request: HttpRequest) -> HttpResponse:
    try:
        report = services.pab_meetings_generate(actor=request.user)
    except PermissionDenied:
        raise
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("approvals:meeting_calendar")
    if report.changed:
        messages.success(
            request,
            f"You generated the meetings of the months ahead: {len(report.created)} added, "
            f"{len(report.realigned)} moved to follow the rule.",
        )
    else:
        messages.success(request, "Every month ahead already has its meeting: nothing was added.")
    return redirect("approvals:meeting_calendar")


# --- the secretary's forms --------------------------------------------------------------------------


def _meeting_form_page(
    request: HttpRequest, form: MeetingForm, meeting: PabMeeting | None, errors: PageErrors | None = None
) -> HttpResponse:
    days = selectors.pab_rule().paper_deadline_working_days
    hint = (
        f"Leave it blank for {days} working day{'s' if days != 1 else ''} before the meeting. "
        "A working day, on or before the meeting date, for example 23 7 2026."
    )
    return _render(
        request, "approvals/meeting_form.html", {"form": form, "meeting": meeting, "paper_deadline_hint": hint}, errors
    )


def _initial(meeting: PabMeeting | None) -> dict[str, Any]:
    rule = selectors.pab_rule()
    if meeting is None:
        return {
            "starts_at": f"{rule.starts_at:%H:%M}",
            "duration_minutes": rule.duration_minutes,
            "location": rule.location,
        }
    return {
        "date_day": meeting.date.day,
        "date_month": meeting.date.month,
        "date_year": meeting.date.year,
        "starts_at": f"{meeting.starts_at:%H:%M}",
        "duration_minutes": meeting.duration_minutes,
        "location": meeting.location,
        "paper_deadline_day": meeting.paper_deadline.day,
        "paper_deadline_month": meeting.paper_deadline.month,
        "paper_deadline_year": meeting.paper_deadline.year,
        "notes": meeting.notes,
    }


@require_http_methods(["GET", "POST"])
@portal_page
def meeting_create_page(request: HttpRequest) -> HttpResponse:
    refusal = meeting_manage_refusal(request.user)
    if refusal is not None:
        raise refusal
    if request.method == "GET":
        return _meeting_form_page(request, MeetingForm(initial=_initial(None)), None)
    form = MeetingForm(request.POST)
    if not form.is_valid():
        return _meeting_form_page(request, form, None, PageErrors.from_form(form, MEETING_TARGETS))
    try:
        meeting = services.pab_meeting_create(actor=request.user, fields=form.fields_for_service())
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        return _meeting_form_page(request, form, None, PageErrors.from_error(exc, MEETING_TARGETS))
    messages.success(request, f"You added the BSC PAB meeting on {long_date(meeting.date)}.")
    return redirect(_meeting_url(meeting))


@require_http_methods(["GET", "POST"])
@portal_page
def meeting_edit_page(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = selectors.pab_meeting_get(user=request.user, meeting_id=meeting_id, with_applications=True)
    refusal = meeting_manage_refusal(request.user)
    if refusal is not None:
        raise refusal
    if request.method == "GET":
        return _meeting_form_page(request, MeetingForm(initial=_initial(meeting)), meeting)
    form = MeetingForm(request.POST)
    if not form.is_valid():
        return _meeting_form_page(request, form, meeting, PageErrors.from_form(form, MEETING_TARGETS))
    try:
        meeting = services.pab_meeting_update(
            actor=request.user, meeting_id=meeting.pk, fields=form.fields_for_service()
        )
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        return _meeting_form_page(request, form, meeting, PageErrors.from_error(exc, MEETING_TARGETS))
    messages.success(request, f"You saved the BSC PAB meeting on {long_date(meeting.date)}.")
    return redirect(_meeting_url(meeting))


@require_http_methods(["GET", "POST"])
@portal_page
def meeting_cancel_page(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = selectors.pab_meeting_get(user=request.user, meeting_id=meeting_id, with_applications=True)
    refusal = meeting_manage_refusal(request.user)
    if refusal is not None:
        raise refusal
    form = CancelForm(request.POST or None)
    context = {"meeting": meeting, "form": form}
    if request.method == "GET":
        return _render(request, "approvals/meeting_cancel.html", context)
    if not form.is_valid():
        return _render(
            request, "approvals/meeting_cancel.html", context, PageErrors.from_form(form, {"reason": "id_reason"})
        )
    try:
        services.pab_meeting_cancel(actor=request.user, meeting_id=meeting.pk, reason=form.cleaned_data["reason"])
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        return _render(
            request, "approvals/meeting_cancel.html", context, PageErrors.from_error(exc, {"reason": "id_reason"})
        )
    messages.success(request, f"You cancelled the BSC PAB meeting on {long_date(meeting.date)}.")
    return redirect(_meeting_url(meeting))


@require_POST
@portal_page
def meeting_held_page(request: HttpRequest, meeting_id: int) -> HttpResponse:
    try:
        meeting = services.pab_meeting_mark_held(actor=request.user, meeting_id=meeting_id)
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        return _meeting_page(request, meeting_id, PageErrors.from_error(exc))
    messages.success(request, f"You recorded that the BSC PAB meeting on {long_date(meeting.date)} was held.")
    return redirect(_meeting_url(meeting))


# --- an application's target meeting ---------------------------------------------------------------


def _meeting_choices(panel: PabPanel) -> list[tuple[int, str]]:
    choices = []
    current = panel.target.meeting_id if panel.target else None
    for option in panel.options:
        meeting = option.meeting
        if meeting.pk == current:
            continue
        label = f"{long_date(meeting.date)}: papers due {short_date(meeting.paper_deadline)}"
        if option.paper_deadline_passed:
            label += " (paper deadline passed)"
        choices.append((meeting.pk, label))
    return choices


def _target_page(
    request: HttpRequest, panel: PabPanel, form: TargetForm | None = None, errors: PageErrors | None = None
) -> HttpResponse:
    form = form or TargetForm(choices=_meeting_choices(panel))
    return _render(
        request,
        "approvals/pab_target.html",
        {"nav": "applications", "panel": panel, "application": panel.application, "form": form},
        errors,
    )


@require_http_methods(["GET", "POST"])
@portal_page
def pab_target_page(request: HttpRequest, application_id: int) -> HttpResponse:
    panel = selectors.application_pab_panel(user=request.user, application_id=application_id)
    if request.method == "GET":
        return _target_page(request, panel)
    if not can_target(request.user):
        raise PermissionDenied("Only an Elexon qualification analyst or the QSP can set the target PAB meeting.")
    form = TargetForm(request.POST, choices=_meeting_choices(panel))
    if not form.is_valid():
        return _target_page(request, panel, form, PageErrors.from_form(form, TARGET_TARGETS))
    try:
        target = services.pab_target_set(
            actor=request.user,
            application_id=application_id,
            meeting_id=form.cleaned_data["meeting"],
            reason=form.cleaned_data["reason"],
            late_reason=form.cleaned_data["late_reason"],
        )
    except NotFound:
        raise
    except ApplicationError as exc:
        panel = selectors.application_pab_panel(user=request.user, application_id=application_id)
        return _target_page(request, panel, form, PageErrors.from_error(exc, TARGET_TARGETS))
    verb = "moved the target to" if target.previous_id else "targeted the application at"
    messages.success(
        request, f"You {verb} the BSC PAB meeting on {long_date(target.meeting.date)}. The participant has been told."
    )
    return redirect(reverse("approvals:pab_target", args=[application_id]))


# --- calendar feeds -----------------------------------------------------------------------------------


@require_GET
@portal_page
def calendar_feeds_page(request: HttpRequest) -> HttpResponse:
    info = selectors.calendar_feed_info(user=request.user)
    private_url = request.build_absolute_uri(reverse("approvals:user_ics", args=[info.token])) if info.feed else ""
    return _render(
        request,
        "approvals/calendar_feeds.html",
        {
            "nav": "",
            "info": info,
            "private_url": private_url,
            "public_url": request.build_absolute_uri(reverse("approvals:pab_ics")),
        },
    )


@require_POST
@portal_page
def calendar_feed_reset_page(request: HttpRequest) -> HttpResponse:
    had_one = selectors.calendar_feed_info(user=request.user).feed is not None
    services.calendar_feed_reset(actor=request.user)
    messages.success(
        request,
        "Your calendar feed has a new address. The old one no longer works: subscribe to the new one."
        if had_one
        else "Your private calendar feed is ready: subscribe to its address in your calendar.",
    )
    return redirect("approvals:calendar_feeds")


def _ics_response(content: bytes, filename: str, *, public: bool) -> HttpResponse:
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "public, max-age=900" if public else "private, no-store"
    if not public:
        response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_GET
def pab_ics(request: HttpRequest) -> HttpResponse:
    """The public feed of BSC PAB meetings and paper deadlines: no sign-in needed (see docs/adr/0009)."""
    return _ics_response(ics.pab_meetings_ics(selectors.public_meetings()), "bsc-pab-meetings.ics", public=True)


@require_GET
def user_ics(request: HttpRequest, token: str) -> HttpResponse:
    """A user's private feed, opened by the secret in its address; 404 for anything else."""
    user = services.calendar_feed_open(token=token)
    if user is None:
        raise Http404("No calendar feed has that address.")
    content = ics.user_ics(deadlines=selectors.user_deadlines(user=user), targets=selectors.user_targets(user=user))
    return _ics_response(content, "mhhs-qualification-deadlines.ics", public=False)
