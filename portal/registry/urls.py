"""The public register: no sign-in needed. Included at the site root:
`path("", include("portal.registry.urls"))`."""

from django.urls import path

from portal.registry import views

app_name = "registry"

urlpatterns = [
    path("register/", views.register_page, name="register"),
    path("register/history/", views.register_history_page, name="history"),
    path("register.csv", views.register_csv, name="csv"),
    path("register.json", views.register_json, name="json"),
]
