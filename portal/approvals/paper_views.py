"""The pages of the BSC PAB's papers, packs and letters: an application's summary paper at a meeting
(with the analysts' recommendation form and the button that prepares the paper), the PDF downloads,
the secretary's request for the meeting pack, and the qualification letters with the Chair's issue
button.

Each view parses, calls one selector or service and renders. Refusals are shown in the GOV.UK error
summary; someone who does not read the Board's papers (a participant above all), and anyone asking
about another organisation's application, gets 404. Downloads are attachments with a safe name.
"""

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from portal.approvals import letters, paper_selectors, paper_services
from portal.approvals.models import GenerationStatus, LetterStatus
from portal.approvals.papers import paper_body_html, paper_data, paper_file_name
from portal.approvals.pdf import pdf_download
from portal.core.errors import ApplicationError, NotFound, PermissionDenied
from portal.core.pages import PageErrors, portal_page
from portal.qualification.workflow import Decision

RECOMMENDATION_TARGETS = {"outcome": "id_outcome", "text": "id_text"}
OUTCOME_HINTS = {
    Decision.APPROVED: "Every test and requirement is met.",
    Decision.APPROVED_WITH_CONDITIONS: "Approve, on condition that the agreed work-off items are closed.",
    Decision.DEFERRED: "The Board should decide at a later meeting, once more is known.",
    Decision.REJECTED: "The evidence does not support qualification.",
}


class RecommendationForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=Decision.choices,
        error_messages={
            "required": "Choose the outcome you recommend.",
            "invalid_choice": "Choose the outcome you recommend.",
        },
    )
    text = forms.CharField(
        max_length=paper_services.MAX_RECOMMENDATION_LENGTH,
        strip=True,
        error_messages={
            "required": "Enter the recommendation and its reasons, as the Board will read them.",
            "max_length": f"The recommendation must be {paper_services.MAX_RECOMMENDATION_LENGTH:,} characters "
            "or fewer.",
        },
    )


def _version(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if not value.isdigit() or not 1 <= int(value) <= 32767:
        raise Http404("No such version.")
    return int(value)


def _paper_url(meeting_id: int, application_id: int) -> str:
    return reverse("approvals:pab_paper", args=[meeting_id, application_id])


# --- one application's paper ----------------------------------------------------------------------------


def _paper_page(
    request: HttpRequest,
    meeting_id: int,
    application_id: int,
    *,
    form: RecommendationForm | None = None,
    errors: PageErrors | None = None,
    version: int | None = None,
) -> HttpResponse:
    view = paper_selectors.paper_view(
        user=request.user, meeting_id=meeting_id, application_id=application_id, version=version
    )
    if form is None:
        initial = (
            {"outcome": view.recommendation.outcome, "text": view.recommendation.text} if view.recommendation else {}
        )
        form = RecommendationForm(initial=initial)
    preview = ""
    if view.shown is None and view.can_present:
        # No paper to read yet: the analysts see what one prepared now would say.
        preview = paper_body_html(paper_data(view.application, view.meeting))
    context = {
        "nav": "pab",
        "view": view,
        "meeting": view.meeting,
        "application": view.application,
        "form": form,
        "outcomes": [(Decision(value), OUTCOME_HINTS[Decision(value)]) for value in Decision.values],
        "preview": preview,
        "errors": errors or PageErrors(),
    }
    return render(request, "approvals/paper_detail.html", context, status=errors.status if errors else 200)


@require_GET
@portal_page
def paper_page(request: HttpRequest, meeting_id: int, application_id: int) -> HttpResponse:
    return _paper_page(request, meeting_id, application_id, version=_version(request.GET.get("version")))


@require_POST
@portal_page
def recommendation_page(request: HttpRequest, meeting_id: int, application_id: int) -> HttpResponse:
    # Someone who may not see the paper gets 404, and someone who may see it but not present it 403,
    # before any message about their input.
    paper_selectors.paper_view(user=request.user, meeting_id=meeting_id, application_id=application_id)
    if not paper_selectors.presents(request.user):
        raise PermissionDenied("Only an Elexon qualification analyst or the QSP can record the Elexon recommendation.")
    form = RecommendationForm(request.POST)
    if not form.is_valid():
        return _paper_page(
            request, meeting_id, application_id, form=form, errors=PageErrors.from_form(form, RECOMMENDATION_TARGETS)
        )
    try:
        recommendation = paper_services.pab_recommendation_record(
            actor=request.user,
            meeting_id=meeting_id,
            application_id=application_id,
            outcome=form.cleaned_data["outcome"],
            text=form.cleaned_data["text"],
        )
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        return _paper_page(
            request, meeting_id, application_id, form=form, errors=PageErrors.from_error(exc, RECOMMENDATION_TARGETS)
        )
    messages.success(
        request,
        f"You recorded the Elexon recommendation: {recommendation.get_outcome_display()}. The PAB secretary has been "
        "told. A summary paper carries the recommendation current when it is prepared.",
    )
    return redirect(_paper_url(meeting_id, application_id))


@require_POST
@portal_page
def paper_prepare_page(request: HttpRequest, meeting_id: int, application_id: int) -> HttpResponse:
    try:
        paper = paper_services.pab_paper_prepare(
            actor=request.user, meeting_id=meeting_id, application_id=application_id
        )
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        return _paper_page(request, meeting_id, application_id, errors=PageErrors.from_error(exc))
    messages.success(
        request,
        f"Version {paper.version} of the summary paper is being generated from the data as it stands now. You will "
        "be told when it is ready.",
    )
    return redirect(_paper_url(meeting_id, application_id))


@require_GET
@portal_page
def paper_pdf(request: HttpRequest, meeting_id: int, application_id: int, version: int) -> FileResponse:
    paper = paper_selectors.paper_version_get(
        user=request.user, meeting_id=meeting_id, application_id=application_id, version=version
    )
    if paper.status != GenerationStatus.READY:
        raise Http404("That version of the paper is not ready.")
    return pdf_download(paper.file, paper_file_name(paper))


# --- meeting packs -----------------------------------------------------------------------------------------


@require_POST
@portal_page
def pack_request_page(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting_url = reverse("approvals:meeting_detail", args=[meeting_id])
    try:
        pack = paper_services.pab_pack_request(actor=request.user, meeting_id=meeting_id)
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(f"{meeting_url}#meeting-pack")
    messages.success(
        request,
        f"Version {pack.version} of the meeting pack is being generated. The Board will be told when it is ready.",
    )
    return redirect(f"{meeting_url}#meeting-pack")


@require_GET
@portal_page
def pack_pdf(request: HttpRequest, meeting_id: int, version: int) -> FileResponse:
    pack = paper_selectors.pack_get(user=request.user, meeting_id=meeting_id, version=version)
    if pack.status != GenerationStatus.READY:
        raise Http404("That version of the pack is not ready.")
    return pdf_download(pack.file, f"BSC PAB {pack.meeting.date:%Y-%m-%d} meeting pack v{pack.version}.pdf")


# --- qualification letters ------------------------------------------------------------------------------------


@require_GET
@portal_page
def letter_list_page(request: HttpRequest) -> HttpResponse:
    if not paper_selectors.reads_letters(request.user):
        raise NotFound("There is nothing for you here.")
    status = request.GET.get("status", "")
    if status not in ("", LetterStatus.DRAFT, LetterStatus.ISSUED):
        status = ""
    listing = paper_selectors.letter_list(user=request.user, status=status)
    return render(request, "approvals/letter_list.html", {"nav": "pab", "listing": listing, "status": status})


def _letter_page(request: HttpRequest, letter_id: int, errors: PageErrors | None = None) -> HttpResponse:
    letter = paper_selectors.letter_get(user=request.user, letter_id=letter_id)
    context = {
        "nav": "pab",
        "letter": letter,
        "application": letter.application,
        "conditions": paper_selectors.letter_conditions(letter),
        "can_issue": paper_selectors.issues_letters(request.user),
        "can_regenerate": paper_selectors.regenerates_letters(request.user),
        "reference": letters.letter_reference(letter),
        "errors": errors or PageErrors(),
    }
    return render(request, "approvals/letter_detail.html", context, status=errors.status if errors else 200)


@require_GET
@portal_page
def letter_detail_page(request: HttpRequest, letter_id: int) -> HttpResponse:
    return _letter_page(request, letter_id)


@require_GET
@portal_page
def letter_pdf(request: HttpRequest, letter_id: int) -> FileResponse:
    letter = paper_selectors.letter_get(user=request.user, letter_id=letter_id)
    if letter.generation != GenerationStatus.READY:
        raise Http404("The letter is not ready.")
    return pdf_download(letter.file, letters.letter_file_name(letter))


@require_POST
@portal_page
def letter_issue_page(request: HttpRequest, letter_id: int) -> HttpResponse:
    # By role before the letter is looked up: the same 403 whichever letter the address names.
    if not paper_selectors.issues_letters(request.user):
        raise PermissionDenied("Only the PAB Chair can issue a qualification letter.")
    try:
        letter = letters.qualification_letter_issue(actor=request.user, letter_id=letter_id)
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        return _letter_page(request, letter_id, PageErrors.from_error(exc))
    application = letter.application
    messages.success(
        request,
        f"You issued the qualification letter for {application.reference}. {application.organisation.name} has been "
        "sent it by e-mail, and the Service Activation team has been told.",
    )
    return redirect("approvals:pab_letter", letter.pk)


@require_POST
@portal_page
def letter_regenerate_page(request: HttpRequest, letter_id: int) -> HttpResponse:
    if not paper_selectors.regenerates_letters(request.user):
        raise PermissionDenied(
            "Only the PAB Chair or the PAB secretary can have a qualification letter generated again."
        )
    try:
        letter = letters.qualification_letter_regenerate(actor=request.user, letter_id=letter_id)
    except (NotFound, PermissionDenied):
        raise
    except ApplicationError as exc:
        return _letter_page(request, letter_id, PageErrors.from_error(exc))
    messages.success(request, "The letter is being generated again. Read it before you issue it.")
    return redirect("approvals:pab_letter", letter.pk)
