"""QAD templates and declarations in the admin, and the QAD records (read-only).

An administrator replaces the QAD template without code: "Load a QAD template" takes a template file,
checks it (every problem is listed, and nothing is stored while there is one) and makes it the active
template. A new declaration text is published the same way, as a new version. Everything else here
changes only through the portal's own pages and API, which check the rules and write the audit log.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from portal.accounts.roles import Role
from portal.accounts.selectors import user_roles
from portal.audit.admin import ReadOnlyModelAdmin
from portal.core.errors import ApplicationError
from portal.documents.forms import TemplateUploadForm
from portal.documents.models import (
    Clarification,
    ClarificationMessage,
    Declaration,
    DirectorSignature,
    QadAnswer,
    QadQuestion,
    QadSection,
    QadSubmission,
    QadTemplate,
    SigningDelegate,
)
from portal.documents.services import declaration_publish, qad_template_activate, qad_template_load

READ_ONLY_NOTE = (
    "Read-only: QAD versions, answers, clarifications and signatures change only through the portal's own "
    "pages and API, which check the rules, write the audit log and notify the people concerned."
)


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class QadSectionInline(_ReadOnlyInline):
    model = QadSection
    fields = ("number", "title", "theme", "requirement_area")
    ordering = ("order",)


class QadQuestionInline(_ReadOnlyInline):
    model = QadQuestion
    fields = ("number", "text", "assessed_by", "evidence_expected", "evidence_hint")
    ordering = ("order",)


@admin.register(QadTemplate)
class QadTemplateAdmin(ReadOnlyModelAdmin):
    description = (
        "Versions of the QAD template. Exactly one is active: new QAD versions are written against it, while "
        "versions already started keep theirs. Use “Load a QAD template” to load a new version from a file; "
        "a template is never edited in place."
    )
    list_display = ("version", "title", "status", "question_count", "loaded_at", "activated_at", "retired_at")
    list_filter = ("status",)
    fields = ("version", "title", "description", "status", "source_sha256", "loaded_by", "loaded_at", "activated_at")
    readonly_fields = fields
    inlines = (QadSectionInline, QadQuestionInline)
    actions = ("activate",)
    change_list_template = "documents/admin/template_changelist.html"

    def get_urls(self) -> list[URLPattern]:
        return [
            path("load/", self.admin_site.admin_view(self.load_view), name="documents_qadtemplate_load"),
            *super().get_urls(),
        ]

    @admin.display(description="Questions")
    def question_count(self, obj: QadTemplate) -> int:
        return obj.questions.count()

    @admin.action(description="Make the selected template the active one")
    def activate(self, request: HttpRequest, queryset: QuerySet[QadTemplate]) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one template to activate.", level=messages.ERROR)
            return
        try:
            template = qad_template_activate(actor=request.user, template_id=queryset.get().pk)
        except ApplicationError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
            return
        self.message_user(request, f"QAD template v{template.version} is now the active template.")

    def load_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a template file: checked, loaded and (by default) activated; problems listed."""
        if Role.ADMINISTRATOR not in user_roles(request.user):
            return HttpResponseRedirect(reverse("admin:index"))
        problems: list[str] = []
        form = TemplateUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                template = qad_template_load(
                    actor=request.user, content=upload.read(), activate=form.cleaned_data["activate"]
                )
            except ApplicationError as exc:
                problems = list(exc.details.get("errors") or [exc.message])
            else:
                self.message_user(
                    request,
                    f"Loaded QAD template v{template.version} ({template.questions.count()} questions)"
                    + (" and made it the active template." if template.status == "active" else "."),
                )
                return HttpResponseRedirect(reverse("admin:documents_qadtemplate_change", args=[template.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Load a QAD template",
            "form": form,
            "problems": problems,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "documents/admin/template_load.html", context)


class DeclarationForm(forms.ModelForm):
    class Meta:
        model = Declaration
        fields = ("text",)
        widgets = {"text": forms.Textarea(attrs={"rows": 12, "cols": 90})}

    def clean_text(self) -> str:
        text = (self.cleaned_data.get("text") or "").strip()
        current = Declaration.objects.filter(is_current=True).first()
        if current is not None and current.text == text:
            raise forms.ValidationError("The text is the same as the current declaration.")
        return text


@admin.register(Declaration)
class DeclarationAdmin(ReadOnlyModelAdmin):
    description = (
        "The declaration a signer makes when signing the Final QAD. Adding one publishes a new version and "
        "makes it current; signatures keep the version they were made under."
    )
    list_display = ("version", "is_current", "created_at", "created_by")
    fields = ("version", "text", "is_current", "created_at", "created_by")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return Role.ADMINISTRATOR in user_roles(request.user)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = DeclarationForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields if obj is not None else ()

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fields if obj is not None else ("text",)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Adding publishes a new version through the service (numbered, made current, audited)."""
        published = declaration_publish(actor=request.user, text=form.cleaned_data["text"])
        obj.pk = published.pk
        obj.version = published.version
        obj.is_current = published.is_current
        obj.created_at = published.created_at
        obj.created_by = published.created_by


class AnswerInline(_ReadOnlyInline):
    model = QadAnswer
    fields = ("question", "text", "updated_at", "updated_by")
    readonly_fields = fields


@admin.register(QadSubmission)
class QadSubmissionAdmin(ReadOnlyModelAdmin):
    description = READ_ONLY_NOTE
    list_display = ("__str__", "application", "status", "template", "created_at", "submitted_at")
    list_filter = ("kind", "status")
    search_fields = ("application__organisation__name", "application__mpid__code")
    list_select_related = ("application__mpid", "application__market_role", "template")
    inlines = (AnswerInline,)


class MessageInline(_ReadOnlyInline):
    model = ClarificationMessage
    fields = ("created_at", "author", "action", "text")
    readonly_fields = fields


@admin.register(Clarification)
class ClarificationAdmin(ReadOnlyModelAdmin):
    description = READ_ONLY_NOTE
    list_display = ("reference", "submission", "question", "status", "raised_by", "raised_at", "closed_at")
    list_filter = ("status",)
    inlines = (MessageInline,)


@admin.register(DirectorSignature)
class DirectorSignatureAdmin(ReadOnlyModelAdmin):
    description = READ_ONLY_NOTE
    list_display = ("__str__", "application", "signer", "signed_as", "signed_at", "status", "voided_at")
    list_filter = ("status", "signed_as")
    fields = (
        "application",
        "submission",
        "signer",
        "signed_as",
        "declaration",
        "signed_at",
        "status",
        "voided_at",
        "void_reason",
        "manifest_sha256",
        "manifest",
    )


@admin.register(SigningDelegate)
class SigningDelegateAdmin(ReadOnlyModelAdmin):
    description = (
        "Signing delegates are appointed and revoked by a Company Director of the organisation, on the QAD "
        "pages or through the API."
    )
    list_display = ("user", "organisation", "granted_by", "granted_at", "revoked_at")
    list_filter = ("organisation",)
