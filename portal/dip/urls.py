"""The DIP onboarding pages. Included at the site root: `path("", include("portal.dip.urls"))`."""

from django.urls import path

from portal.dip import views

app_name = "dip"

urlpatterns = [
    path("applications/<int:application_id>/dip/", views.onboarding_page, name="onboarding"),
    path("applications/<int:application_id>/dip/steps/<slug:step_code>/", views.step_set_page, name="step_set"),
    path("applications/<int:application_id>/dip/ids/", views.dip_id_add_page, name="dip_id_add"),
    path(
        "applications/<int:application_id>/dip/ids/<int:dip_id_id>/confirm/",
        views.dip_id_confirm_page,
        name="dip_id_confirm",
    ),
    path(
        "applications/<int:application_id>/dip/ids/<int:dip_id_id>/remove/",
        views.dip_id_remove_page,
        name="dip_id_remove",
    ),
]
