"""The pages and API lists the benchmark times, and the sessions it times them with.

Run inside Django (bench settings): `targets()` answers the URL of every measured page for the data set
in the current database, `session_cookie(user)` a signed-in, MFA-verified session for a bench user made
directly in the session store, as a sign-in with the authenticator app would leave it.
"""

import time
from dataclasses import dataclass
from typing import Any

from allauth.account.internal.flows import login as login_flow
from allauth.account.internal.userkit import user_id_to_str
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.db.models import Count
from django.utils.module_loading import import_string

# Staff users of the demo data set, by the part they play in the benchmark.
USERS = {
    "analyst": "harriet.lowe@elexon.example",
    "assurance": "priya.raman@mhhsprogramme.example",
    "secretary": "rachel.fox@elexon.example",
}


@dataclass(frozen=True)
class Target:
    name: str
    kind: str  # floor, page or api
    user: str  # a key of USERS, or "" for an anonymous request
    path: str


def _bench_application() -> Any:
    """An application of the bulk data in Qualification Testing with a typical number of runs: the
    in-testing application whose run count is the median of the first fifty (the same application for
    the same seed, whatever the scale)."""
    from portal.qualification.models import Application

    candidates = list(
        Application.objects.filter(status="in_testing", organisation__name__startswith="Bench Energy")
        .annotate(runs=Count("test_executions"))
        .filter(runs__gt=0)
        .order_by("id")
        .values_list("id", "runs")[:50]
    )
    candidates.sort(key=lambda item: (item[1], item[0]))
    return candidates[len(candidates) // 2][0]


def _qt_application() -> int:
    """The demo application part-way through QT (its plan agreed, so its test set is complete)."""
    from portal.testing.models import QtPlan

    plan = QtPlan.objects.filter(application__mpid__code="AURA").first() or QtPlan.objects.order_by("id").first()
    assert plan is not None, "the demo data set has no QT plan"
    return plan.application_id


def _agenda_meeting() -> int:
    """The next scheduled BSC PAB meeting with applications on its agenda."""
    from django.utils import timezone

    from portal.approvals.models import PabMeeting

    meeting = (
        PabMeeting.objects.filter(status="scheduled", date__gte=timezone.localdate(), targets__is_current=True)
        .order_by("date")
        .first()
    )
    assert meeting is not None, "no scheduled meeting has an agenda"
    return meeting.pk


def _last_page_cursor(application_id: int) -> str:
    """The position from which the last page of the application's runs starts (its 20 oldest runs)."""
    from portal.core.keyset import encode_cursor
    from portal.testing.models import TestExecution

    runs = TestExecution.objects.filter(application_id=application_id).order_by("executed_at", "id")
    row = runs.values_list("executed_at", "id")[20]
    return encode_cursor(row)


def targets() -> list[Target]:
    app = _bench_application()
    qt = _qt_application()
    meeting = _agenda_meeting()
    last = _last_page_cursor(app)
    return [
        Target("floor: /health/live", "floor", "", "/health/live"),
        Target("home", "page", "analyst", "/"),
        Target("work queue (analyst)", "page", "analyst", "/work-queue/"),
        Target("work queue (Testing Assurance)", "page", "assurance", "/work-queue/"),
        Target("applications list", "page", "analyst", "/applications/"),
        Target("application page", "page", "analyst", f"/applications/{app}/"),
        Target("pipeline dashboard", "page", "analyst", "/dashboard/"),
        Target("pipeline applications", "page", "analyst", "/dashboard/applications/"),
        Target("public register", "page", "", "/register/"),
        Target("test set", "page", "assurance", f"/applications/{qt}/qt/set/"),
        Target("executions list", "page", "assurance", f"/applications/{app}/qt/executions/"),
        Target("executions list, last page", "page", "assurance", f"/applications/{app}/qt/executions/?after={last}"),
        Target("PAB agenda (meeting page)", "page", "secretary", f"/pab/meetings/{meeting}/"),
        Target("work-off items", "page", "analyst", "/work-off/"),
        Target("API work queue", "api", "analyst", "/api/v1/work-queue"),
        Target("API applications", "api", "analyst", "/api/v1/applications"),
        Target("API pipeline applications", "api", "analyst", "/api/v1/reports/pipeline/applications"),
        Target("API register", "api", "", "/api/v1/register"),
        Target("API test set", "api", "assurance", f"/api/v1/applications/{qt}/qt/set"),
        Target("API executions", "api", "assurance", f"/api/v1/applications/{app}/qt/executions"),
        Target(
            "API executions, last page", "api", "assurance", f"/api/v1/applications/{app}/qt/executions?cursor={last}"
        ),
        Target("API PAB meetings", "api", "secretary", "/api/v1/pab/meetings"),
        Target("API work-off items", "api", "analyst", "/api/v1/workoff/items"),
        Target("API notifications", "api", "analyst", "/api/v1/notifications"),
    ]


def session_cookie(email: str) -> tuple[str, str]:
    """A session for `email` written straight into the session store: signed in with the password and
    the authenticator app (allauth's record of the steps, which `portal.accounts.mfa` reads), with the
    portal's own sign-in times and its record of the signed-in session when those exist."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(email__iexact=email)
    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")()
    now = time.time()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store[login_flow.AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": "password", "at": now, "email": user.email},
        {"method": "mfa", "at": now, "type": "totp"},
    ]
    store[login_flow._AUTHENTICATION_METHODS_USER_SESSION_KEY] = user_id_to_str(user)
    try:
        from portal.accounts import services as account_services

        for name in ("SESSION_STARTED_KEY", "SESSION_SEEN_KEY"):
            if hasattr(account_services, name):
                store[getattr(account_services, name)] = now
    except ImportError:
        pass
    store.create()
    try:
        from django.utils import timezone

        from portal.accounts.models import SignedInSession  # type: ignore[attr-defined,unused-ignore]

        SignedInSession.objects.create(user=user, session_key=store.session_key, started_at=timezone.now())
    except ImportError:
        pass
    return settings.SESSION_COOKIE_NAME, str(store.session_key)
