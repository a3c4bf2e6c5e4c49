from django.urls import path

from portal.core import health

app_name = "health"

urlpatterns = [
    path("health/live", health.live, name="live"),
    path("health/ready", health.ready, name="ready"),
]
