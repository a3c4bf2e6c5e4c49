"""The project's URLs, plus the DIP onboarding pages (if the project does not include them yet) and
the DIP API router on an API of its own, so these tests do not depend on where the project mounts them."""

from django.urls import URLPattern, URLResolver, include, path

from config.urls import urlpatterns as project_urlpatterns
from portal.api import errors
from portal.api.api import PortalAPI
from portal.api.auth import bearer_auth, session_auth
from portal.api.v1 import dip

test_api = PortalAPI(title="DIP tests", version="1", urls_namespace="dip-test-api", auth=[bearer_auth, session_auth])
errors.install(test_api)
test_api.add_router("/v1", dip.router)

API_PREFIX = "/dip-api/v1"

_included = any(isinstance(p, URLResolver) and p.app_name == "dip" for p in project_urlpatterns)

urlpatterns: list[URLPattern | URLResolver] = [
    path("dip-api/", test_api.urls),
    *([] if _included else [path("", include("portal.dip.urls"))]),
    *project_urlpatterns,
]
