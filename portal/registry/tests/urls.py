"""The project's URLs, plus the register's API router on an API of its own, so that its fuzz tests
generate calls for the register's operation alone."""

from django.urls import URLPattern, URLResolver, path

from config.urls import urlpatterns as project_urlpatterns
from portal.api import errors
from portal.api.api import PortalAPI
from portal.api.auth import bearer_auth, session_auth
from portal.api.v1 import registry

test_api = PortalAPI(
    title="Register tests", version="1", urls_namespace="registry-test-api", auth=[bearer_auth, session_auth]
)
errors.install(test_api)
test_api.add_router("/v1", registry.router)

urlpatterns: list[URLPattern | URLResolver] = [path("registry-api/", test_api.urls), *project_urlpatterns]
