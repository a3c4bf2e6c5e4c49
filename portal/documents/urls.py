"""The QAD pages, under each application, and evidence downloads. Included at the site root."""

from django.urls import path, register_converter

from portal.documents import views


class QadKindConverter:
    regex = "initial|final"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return str(value)


class QadNumberConverter:
    """A section or question number, like 4.5 or 4.5.2."""

    regex = r"[0-9]{1,3}(?:\.[0-9]{1,3}){0,4}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return str(value)


register_converter(QadKindConverter, "qad_kind")
register_converter(QadNumberConverter, "qad_number")

app_name = "documents"

QAD = "applications/<int:application_id>/qad/"
KIND = QAD + "<qad_kind:kind>/"

urlpatterns = [
    path(QAD, views.qad_overview, name="qad"),
    path(QAD + "initial/", views.qad_form, {"kind": "initial"}, name="initial_qad"),
    path(QAD + "final/", views.qad_form, {"kind": "final"}, name="final_qad"),
    path(QAD + "final/reopen/", views.qad_reopen, name="qad_reopen"),
    path(QAD + "sign/", views.qad_sign, name="qad_sign"),
    path(QAD + "signature/", views.qad_signature, name="qad_signature"),
    path(QAD + "delegates/", views.qad_delegates, name="qad_delegates"),
    path(QAD + "delegates/<int:delegate_id>/revoke/", views.qad_delegate_revoke, name="qad_delegate_revoke"),
    path(KIND + "start/", views.qad_start, name="qad_start"),
    path(KIND + "sections/<qad_number:number>/", views.qad_section, name="qad_section"),
    path(KIND + "questions/<qad_number:number>/", views.qad_question, name="qad_question"),
    path(KIND + "questions/<qad_number:number>/clarify/", views.clarification_raise, name="clarification_raise"),
    path(KIND + "check/", views.qad_check, name="qad_check"),
    path(KIND + "versions/", views.qad_versions, name="qad_versions"),
    path(KIND + "versions/<int:version>/", views.qad_version, name="qad_version"),
    path(KIND + "compare/", views.qad_compare, name="qad_compare"),
    path(KIND + "clarifications/", views.qad_clarifications, name="qad_clarifications"),
    path(KIND + "clarifications/<int:clarification_id>/", views.clarification_detail, name="clarification"),
    path(
        KIND + "clarifications/<int:clarification_id>/<slug:action>/",
        views.clarification_act,
        name="clarification_act",
    ),
    path("evidence/<int:evidence_id>/download/", views.evidence_download, name="evidence_download"),
]
