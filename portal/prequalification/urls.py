"""The PQS pages, included at the site root: `path("", include("portal.prequalification.urls"))`."""

from django.urls import path

from portal.prequalification import views

app_name = "prequalification"

PREFIX = "applications/<int:application_id>/pqs/"

urlpatterns = [
    path(PREFIX, views.pqs, name="pqs"),
    path(f"{PREFIX}edit/", views.pqs_edit, name="pqs_edit"),
    path(f"{PREFIX}check/", views.pqs_check, name="pqs_check"),
    path(f"{PREFIX}submit/", views.pqs_submit, name="pqs_submit"),
    path(f"{PREFIX}items/new/", views.item_add, name="item_add"),
    path(f"{PREFIX}items/<int:item_id>/edit/", views.item_edit, name="item_edit"),
    path(f"{PREFIX}items/<int:item_id>/remove/", views.item_remove, name="item_remove"),
    path(f"{PREFIX}items/<int:item_id>/decision/", views.item_decide, name="item_decide"),
    path(
        f"{PREFIX}items/<int:item_id>/evidence/<int:evidence_id>/",
        views.item_evidence,
        name="item_evidence",
    ),
]
