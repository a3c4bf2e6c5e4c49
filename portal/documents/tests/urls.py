"""The site's URLs with the QAD pages and the QAD API router mounted, for the QAD tests (the portal
mounts them in `config/urls.py` and `portal/api/api.py`)."""

from collections.abc import Sequence

from django.urls import URLPattern, URLResolver, include, path

from config.urls import urlpatterns as site
from portal.api import errors
from portal.api.api import PortalAPI
from portal.api.auth import bearer_auth, session_auth
from portal.api.v1 import qad

API_PREFIX = "/qad-api-test/v1/qad"

test_api = PortalAPI(
    title="QAD API (tests)",
    version="qad-tests",
    urls_namespace="qad_test_api",
    auth=[bearer_auth, session_auth],
)
errors.install(test_api)
test_api.add_router("/v1/qad", qad.router)


def _has_documents(patterns: Sequence[URLResolver | URLPattern]) -> bool:
    return any(isinstance(p, URLResolver) and p.namespace == "documents" for p in patterns)


urlpatterns: list[URLResolver | URLPattern] = [
    path("qad-api-test/", test_api.urls),
    *([] if _has_documents(site) else [path("", include("portal.documents.urls"))]),
    *site,
]
