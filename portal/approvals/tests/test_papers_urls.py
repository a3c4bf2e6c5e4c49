"""The project's URLs, plus the papers router on an API of its own, so that the fuzz tests generate
calls for this router's operations only. (No tests here.)"""

from django.urls import URLPattern, URLResolver, path

from config.urls import urlpatterns as project_urlpatterns
from portal.api import errors
from portal.api.api import PortalAPI
from portal.api.auth import bearer_auth, session_auth
from portal.api.v1 import pab_papers

test_api = PortalAPI(
    title="PAB papers tests", version="1", urls_namespace="pab-papers-test-api", auth=[bearer_auth, session_auth]
)
errors.install(test_api)
test_api.add_router("/v1", pab_papers.router)

urlpatterns: list[URLPattern | URLResolver] = [path("pab-papers-api/", test_api.urls), *project_urlpatterns]
