"""The project's URLs, plus the work-off API router on an API of its own, so that these tests (and the
fuzzing of exactly these operations) do not depend on where the project mounts it."""

from django.urls import URLPattern, URLResolver, path

from config.urls import urlpatterns as project_urlpatterns
from portal.api import errors
from portal.api.api import PortalAPI
from portal.api.auth import bearer_auth, session_auth
from portal.api.v1 import workoff

test_api = PortalAPI(
    title="Work-off tests", version="1", urls_namespace="workoff-test-api", auth=[bearer_auth, session_auth]
)
errors.install(test_api)
test_api.add_router("/v1", workoff.router)

API_PREFIX = "/workoff-api/v1"

urlpatterns: list[URLPattern | URLResolver] = [path("workoff-api/", test_api.urls), *project_urlpatterns]
