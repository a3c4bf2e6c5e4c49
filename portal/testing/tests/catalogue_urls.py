"""The project's URLs, plus the catalogue and RTTM API router on an API of its own, so the fuzz tests
load an OpenAPI document of those operations alone."""

from django.urls import URLPattern, URLResolver, path

from config.urls import urlpatterns as project_urlpatterns
from portal.api import errors
from portal.api.api import PortalAPI
from portal.api.auth import bearer_auth, session_auth
from portal.api.v1 import qt_catalogue

catalogue_api = PortalAPI(
    title="QT catalogue tests", version="1", urls_namespace="catalogue-test-api", auth=[bearer_auth, session_auth]
)
errors.install(catalogue_api)
catalogue_api.add_router("/v1", qt_catalogue.router)

OPENAPI = "/catalogue-api/openapi.json"

urlpatterns: list[URLPattern | URLResolver] = [path("catalogue-api/", catalogue_api.urls), *project_urlpatterns]
