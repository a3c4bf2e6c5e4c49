"""The work-off pages. Included at the site root."""

from django.urls import URLPattern

app_name = "workoff"

urlpatterns: list[URLPattern] = []
