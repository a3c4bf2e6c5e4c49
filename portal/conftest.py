"""Fixtures shared by every app's tests: organisations, participant and staff users, and
applications placed at any stage of their process through the real services."""

import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any, cast

import pytest
from allauth.account.internal.flows.login import (
    _AUTHENTICATION_METHODS_USER_SESSION_KEY,
    AUTHENTICATION_METHODS_SESSION_KEY,
)
from allauth.mfa.models import Authenticator
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client

from portal.accounts.models import User
from portal.accounts.roles import PARTICIPANT_ROLES, Role
from portal.factories import TEST_PASSWORD, MpidFactory, OrganisationFactory, make_member, make_staff
from portal.participants.models import Organisation
from portal.qualification import hooks, journey
from portal.qualification.journey import advance_application
from portal.qualification.models import Application, Task
from portal.qualification.reference_data import reference_data_load
from portal.qualification.services import application_create


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The API fuzzing modules (`test_*fuzz*.py`) are marked `fuzz`: they check the HTTP layer against the
    OpenAPI document, which does not depend on the database, so the PostgreSQL pass leaves them out."""
    for item in items:
        if "fuzz" in item.path.name:
            item.add_marker(pytest.mark.fuzz)


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Each test starts with an empty cache: sign-in throttling, used authenticator codes and the
    signing password counter are counted there, and must not carry over from another test."""
    cache.clear()


def _force_login_with_mfa(self: Client, user: Any, backend: str | None = None) -> None:
    """`client.force_login(user)` signs in as after the full sign-in: the password, then the code of an
    authenticator app, recorded in the session the way allauth records them. So the two-factor
    middleware and the step-up before decisions see a session that has just passed both, whoever the
    user is (staff and directors from portal/factories.py also have an authenticator; a superuser made
    with `create_superuser` does not, and is let in all the same). Enforcement itself is tested through
    the real sign-in form in portal/accounts/tests."""
    _original_force_login(self, user, backend)
    now = time.time()
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    steps: list[dict[str, Any]] = [
        {"method": "password", "at": now, "email": user.email},
        {"method": "mfa", "at": now, "id": authenticator.pk if authenticator else 0, "type": "totp"},
    ]
    session = self.session
    session[AUTHENTICATION_METHODS_SESSION_KEY] = steps
    session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(user.pk)
    session.save()


_original_force_login = Client.force_login


@pytest.fixture(autouse=True)
def _force_login_passes_mfa(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Client, "force_login", _force_login_with_mfa)


@pytest.fixture(autouse=True)
def _reference_data(request: pytest.FixtureRequest) -> None:
    """The reference data comes from a data migration; tests that flush the database (transactional
    ones, whether they ask for the fixture or carry `django_db(transaction=True)`) get it loaded again."""
    marker = request.node.get_closest_marker("django_db")
    transactional_mark = marker is not None and bool(marker.kwargs.get("transaction", marker.args[:1] == (True,)))
    if transactional_mark or "transactional_db" in request.fixturenames or "live_server" in request.fixturenames:
        load_all_reference_data()


def load_all_reference_data() -> None:
    """What the data migrations load, loaded again after a flush."""
    from portal.activation.checklist import activation_checklist_load
    from portal.approvals.reference_data import approvals_reference_data_load
    from portal.dip.onboarding_steps import dip_steps_load
    from portal.documents.models import Declaration
    from portal.documents.signing import DEFAULT_DECLARATION_TEXT
    from portal.documents.template_data import default_template_load
    from portal.notifications.reference_data import distribution_lists_load
    from portal.prequalification.reference_data import waves_load
    from portal.testing.catalogue_data import catalogue_load
    from portal.testing.pit_criteria import pit_criteria_load
    from portal.testing.qt_reference_data import exit_rules_load, readiness_items_load

    reference_data_load()
    waves_load()
    pit_criteria_load()
    catalogue_load()
    readiness_items_load()
    exit_rules_load()
    dip_steps_load()
    default_template_load()
    approvals_reference_data_load()
    activation_checklist_load()
    distribution_lists_load()
    if not Declaration.objects.exists():
        Declaration.objects.create(version=1, text=DEFAULT_DECLARATION_TEXT, is_current=True)


@pytest.fixture
def content_rules_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """Set aside the rules that the content apps (PQS, PIT checklist, DIP onboarding, QADs and their
    signature) hook into task transitions, their task pages, and the journey steps that satisfy them, so that every
    task can be taken by its generic action. For tests of the workflow core and its generic faces;
    the content rules are tested in their own apps and end to end in `portal/tests`."""
    monkeypatch.setattr(hooks, "_guards", defaultdict(list))
    monkeypatch.setattr(hooks, "_effects", defaultdict(list))
    monkeypatch.setattr(hooks, "_task_pages", {})
    monkeypatch.setattr(journey, "_preparers", [])
    monkeypatch.setattr(journey, "_takers", [])


@pytest.fixture
def direct_wsgi_calls() -> Iterator[None]:
    """For calls made straight to the WSGI application (API fuzzing): its request signals would close
    the database connection that holds the test's transaction; Django's test client unhooks them the
    same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def org() -> Organisation:
    organisation = cast(Organisation, OrganisationFactory(name="Northern Lights Energy Ltd"))
    MpidFactory(organisation=organisation, code="NLEN")
    return organisation


@pytest.fixture
def other_org() -> Organisation:
    organisation = cast(Organisation, OrganisationFactory(name="Rival Power plc"))
    MpidFactory(organisation=organisation, code="RIVP")
    return organisation


@pytest.fixture
def member(org: Organisation) -> User:
    return make_member(org, email="member@northern.test", full_name="Priya Member")


@pytest.fixture
def director(org: Organisation) -> User:
    return make_member(org, director=True, email="director@northern.test", full_name="Dana Director")


@pytest.fixture
def other_member(other_org: Organisation) -> User:
    return make_member(other_org, email="member@rival.test", full_name="Owen Other")


@pytest.fixture
def staff() -> Callable[[Role], User]:
    """`staff(Role.DIP_MANAGER)` gives the same DIP Manager user every time within a test."""
    made: dict[Role, User] = {}

    def get(role: Role) -> User:
        if role not in made:
            made[role] = make_staff(role, email=f"{role.value}@bodies.test", full_name=role.label)
        return made[role]

    return get


@pytest.fixture
def actor_for(staff: Callable[[Role], User]) -> Callable[[Task, Role], User]:
    """For `advance_application`: a user holding `role` for the task's application."""
    participants: dict[tuple[int, bool], User] = {}

    def pick(task: Task, role: Role) -> User:
        if role in PARTICIPANT_ROLES:
            is_director = role == Role.PARTICIPANT_DIRECTOR
            key = (task.application.organisation_id, is_director)
            if key not in participants:
                participants[key] = make_member(task.application.organisation, director=is_director)
            return participants[key]
        return staff(role)

    return pick


@pytest.fixture
def make_application(member: User, org: Organisation) -> Callable[..., Application]:
    def make(
        *,
        market_role: str = "SUP",
        route: str = "non_sit_supplier_agent",
        organisation: Organisation | None = None,
        actor: User | None = None,
        mpid: str | None = None,
    ) -> Application:
        organisation = organisation or org
        code = mpid or organisation.mpids.first().code  # type: ignore[union-attr]
        return application_create(
            actor=actor or member,
            organisation_id=organisation.pk,
            mpid_code=code,
            market_role_code=market_role,
            route_code=route,
        )

    return make


@pytest.fixture
def advance(actor_for: Callable[[Task, Role], User]) -> Callable[..., Application]:
    """`advance(app, stop_before="final_qad")` walks the application forward with real transitions."""

    def run(application: Application, **kwargs: Any) -> Application:
        kwargs.setdefault("password", TEST_PASSWORD)
        return advance_application(application, actor_for=actor_for, **kwargs)

    return run
