"""The work-off pages. Included at the site root."""

from django.urls import path

from portal.workoff import views

app_name = "workoff"

urlpatterns = [
    path("work-off/", views.item_list_page, name="item_list"),
    path("applications/<int:application_id>/workoff/", views.plan_page, name="plan"),
    path("applications/<int:application_id>/workoff/new/", views.item_propose_page, name="item_propose"),
    path("applications/<int:application_id>/workoff/<int:item_id>/", views.item_detail_page, name="item_detail"),
    path("applications/<int:application_id>/workoff/<int:item_id>/edit/", views.item_edit_page, name="item_edit"),
    path("applications/<int:application_id>/workoff/<int:item_id>/close/", views.item_close_page, name="item_close"),
    path(
        "applications/<int:application_id>/workoff/<int:item_id>/<slug:action>/",
        views.item_action_page,
        name="item_action",
    ),
    path(
        "applications/<int:application_id>/workoff/evidence/<int:evidence_id>/",
        views.evidence_download,
        name="evidence_download",
    ),
]
