"""The project's URLs, plus the QT execution API router on an API of its own, so that its fuzz tests
see only these operations and do not depend on where the project mounts them."""

from django.urls import URLPattern, URLResolver, path

from config.urls import urlpatterns as project_urlpatterns
from portal.api import errors
from portal.api.api import PortalAPI
from portal.api.auth import bearer_auth, session_auth
from portal.api.v1 import qt_execution

test_api = PortalAPI(
    title="QT execution tests", version="1", urls_namespace="qt-execution-test-api", auth=[bearer_auth, session_auth]
)
errors.install(test_api)
test_api.add_router("/v1", qt_execution.router)

urlpatterns: list[URLPattern | URLResolver] = [path("qt-execution-api/", test_api.urls), *project_urlpatterns]
