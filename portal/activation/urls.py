"""The Service Activation pages. Included at the site root: `path("", include("portal.activation.urls"))`."""

from django.urls import path

from portal.activation import views

app_name = "activation"

urlpatterns = [
    path("activation/", views.queue_page, name="queue"),
    path("applications/<int:application_id>/activation/", views.handoff_page, name="handoff"),
    path("applications/<int:application_id>/activation/start/", views.start_page, name="start"),
    path(
        "applications/<int:application_id>/activation/checks/<slug:item_code>/",
        views.check_set_page,
        name="check_set",
    ),
    path("applications/<int:application_id>/activation/go-live/", views.go_live_page, name="go_live"),
    path("applications/<int:application_id>/activation/inputs/", views.input_add_page, name="input_add"),
    path("applications/<int:application_id>/activation/complete/", views.complete_page, name="complete"),
]
