"""Mounted at `api/` by the project's URL configuration: `path("api/", include("portal.api.urls"))`."""

from portal.api.api import api

urlpatterns, _, app_name = api.urls
