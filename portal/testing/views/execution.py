"""Pages: execution. See `portal/testing/urls.py`."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
