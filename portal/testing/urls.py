"""The testing pages (PIT and Qualification Testing).

Included at the site root: `path("", include("portal.testing.urls"))`."""

from django.urls import path

from portal.testing.views import catalogue, execution, imports, plan
from portal.testing.views import pit as views

app_name = "testing"

urlpatterns = [
    path("applications/<int:application_id>/pit/", views.pit_checklist_page, name="pit_checklist"),
    path(
        "applications/<int:application_id>/pit/criteria/<slug:criterion_code>/",
        views.pit_criterion_record_page,
        name="pit_criterion_record",
    ),
    path(
        "applications/<int:application_id>/pit/criteria/<slug:criterion_code>/evidence/<int:evidence_id>/remove/",
        views.pit_evidence_remove_page,
        name="pit_evidence_remove",
    ),
    path(
        "applications/<int:application_id>/pit/rttm/<slug:checkpoint>/",
        views.pit_rttm_upload_page,
        name="pit_rttm_upload",
    ),
    path(
        "applications/<int:application_id>/pit/evidence/<int:evidence_id>/",
        views.pit_evidence_download,
        name="pit_evidence_download",
    ),
]

# Qualification Testing: each area keeps its own patterns beside its views.
urlpatterns += catalogue.urlpatterns + plan.urlpatterns + execution.urlpatterns + imports.urlpatterns
