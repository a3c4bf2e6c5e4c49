from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("portal.core.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/", include("portal.api.urls")),
    path("", include("portal.web.urls")),
    # The pages of each task's structured content, all under applications/<id>/…
    path("", include("portal.prequalification.urls")),
    path("", include("portal.testing.urls")),
    path("", include("portal.dip.urls")),
    path("", include("portal.documents.urls")),
    path("", include("portal.workoff.urls")),
    path("", include("portal.approvals.urls")),
    path("", include("portal.registry.urls")),
    path("", include("portal.activation.urls")),
    path("", include("portal.reports.urls")),
]

# A request that cannot get a database connection answers 503 with Retry-After; anything else, 500.
handler500 = "portal.core.unavailable.server_error"
