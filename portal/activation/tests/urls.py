"""The project's URLs, plus the Service Activation API router on an API of its own, so that the fuzz tests
generate calls for these operations only."""

from django.urls import URLPattern, URLResolver, path

from config.urls import urlpatterns as project_urlpatterns
from portal.api import errors
from portal.api.api import PortalAPI
from portal.api.auth import bearer_auth, session_auth
from portal.api.v1 import activation

test_api = PortalAPI(
    title="Service Activation tests",
    version="1",
    urls_namespace="activation-test-api",
    auth=[bearer_auth, session_auth],
)
errors.install(test_api)
test_api.add_router("/v1", activation.router)

urlpatterns: list[URLPattern | URLResolver] = [path("activation-api/", test_api.urls), *project_urlpatterns]
