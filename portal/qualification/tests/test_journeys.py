"""Whole journeys: every route with every market role it takes, from registration to active; the
approval stage (qualified only when every required body approved), deferral and rejection."""

from itertools import permutations

import pytest

from portal.accounts.roles import Role
from portal.audit.models import AuditEvent
from portal.audit.services import audit_verify
from portal.core.errors import InvalidInput, InvalidTransition
from portal.factories import MpidFactory, OrganisationFactory, make_member
from portal.qualification.models import Route
from portal.qualification.selectors import work_queue
from portal.qualification.tests.helpers import (
    last_notification_id,
    organisation_people,
    recipients_of,
    snapshot,
    without,
)
from portal.qualification.workflow import Action, ApplicationStatus, Decision, TaskState

pytestmark = pytest.mark.django_db

AS = ApplicationStatus
S = TaskState
FULL_JOURNEY = [
    AS.IN_PREPARATION,
    AS.IN_TESTING,
    AS.FINAL_QAD,
    AS.IN_APPROVAL,
    AS.QUALIFIED,
    AS.IN_SERVICE_ACTIVATION,
    AS.ACTIVE,
]
# The market roles each route takes (through its role groups).
ROUTE_ROLES = {
    "non_sit_supplier_agent": ("SUP", "MEM", "ADS", "SDS", "UMSDS"),
    "sit": ("SUP", "LDSO", "MEM", "ADS", "SDS", "UMSDS"),
    "non_sit_ldso": ("LDSO",),
    "new_entrant_ldso": ("LDSO",),
    "non_standard": ("SUP", "LDSO", "MEM", "ADS", "SDS", "UMSDS"),
}
APPROVALS = {
    "SUP": ("approval_dip_manager", "approval_bsc_pab", "approval_rec_code_manager"),
    "LDSO": ("approval_dip_manager", "approval_bsc_pab", "approval_rec_code_manager"),
    "MEM": ("approval_dip_manager", "approval_rec_code_manager"),
    "ADS": ("approval_dip_manager", "approval_bsc_pab"),
    "SDS": ("approval_dip_manager", "approval_bsc_pab"),
    "UMSDS": ("approval_dip_manager", "approval_bsc_pab"),
}
OPTIONAL = {"workoff", "pqs"}  # pqs only where the route makes it optional


def status_history(application):
    """The application's status after its registration and after each transition, from its audit
    trail, with repeats collapsed."""
    history: list[str] = []
    for event in AuditEvent.objects.filter(application_id=application.pk).order_by("sequence"):
        status = event.after.get("application_status", event.after.get("status"))
        if not history or history[-1] != status:
            history.append(status)
    return history


def test_the_route_table_is_the_configured_one():
    configured = {
        route.code: {role.code for group in route.role_groups.all() for role in group.market_roles.all()}
        for route in Route.objects.prefetch_related("role_groups__market_roles")
    }
    assert configured == {code: set(roles) for code, roles in ROUTE_ROLES.items()}


@pytest.fixture
def new_entrant():
    organisation = OrganisationFactory(name="Fresh Wires DNO Ltd", is_new_entrant=True)
    MpidFactory(organisation=organisation, code="FWDN")
    return organisation


@pytest.mark.parametrize(
    ("route", "market_role"),
    [pytest.param(route, role, id=f"{route}-{role}") for route, roles in ROUTE_ROLES.items() for role in roles],
)
def test_journey_from_registration_to_active(make_application, advance, new_entrant, route, market_role):
    organisation = new_entrant if route == "new_entrant_ldso" else None
    actor = make_member(new_entrant) if organisation else None
    application = make_application(market_role=market_role, route=route, organisation=organisation, actor=actor)

    application = advance(application)

    assert application.status == AS.ACTIVE
    assert status_history(application) == FULL_JOURNEY
    assert application.qualified_at is not None and application.activated_at is not None
    assert application.qualified_at <= application.activated_at
    tasks = {t.code: t for t in application.tasks.select_related("definition")}
    for code, task in tasks.items():
        expected = S.NOT_REQUIRED if task.definition.is_optional else S.COMPLETED
        assert task.state == expected, code
        assert task.waiting_on == ""
    assert {code for code in tasks if code.startswith("approval_")} == set(APPROVALS[market_role])
    assert {tasks[code].decision for code in APPROVALS[market_role]} == {Decision.APPROVED}
    assert audit_verify().ok


@pytest.mark.parametrize("route", ["non_standard", "new_entrant_ldso"])
def test_journey_with_the_optional_tasks_done(make_application, advance, new_entrant, route):
    actor = make_member(new_entrant)
    application = make_application(market_role="LDSO", route=route, organisation=new_entrant, actor=actor)

    application = advance(application, skip_optional=False)

    assert status_history(application) == FULL_JOURNEY
    assert set(application.tasks.values_list("state", flat=True)) == {S.COMPLETED}


# --- the approval stage ------------------------------------------------------------------------


@pytest.fixture
def team_and_application(team, make_application, driver):
    def make(market_role="SUP"):
        application = make_application(market_role=market_role, route="sit")
        return driver.at_status(application, AS.IN_APPROVAL)

    return make


@pytest.mark.parametrize(
    ("market_role", "order"),
    [
        pytest.param(role, order, id=f"{role}-{'-'.join(c.removeprefix('approval_') for c in order)}")
        for role in ("SUP", "MEM", "ADS")
        for order in permutations(APPROVALS[role])
    ],
)
def test_qualified_only_when_every_required_body_approved(team_and_application, driver, team, market_role, order):
    application = team_and_application(market_role)
    *first, last = order

    for i, code in enumerate(first):
        since = last_notification_id()
        action = Action.APPROVE_WITH_CONDITIONS if i == 0 else Action.APPROVE
        driver.take(application, code, action, comment="Conditions: report monthly.")
        application.refresh_from_db()
        assert application.status == AS.IN_APPROVAL
        assert application.qualified_at is None
        assert driver.task(application, "service_activation").state == S.CANNOT_START
        assert recipients_of(f"{application.reference} is MHHS Qualified", since=since) == set()

    since = last_notification_id()
    driver.take(application, last, Action.APPROVE)

    application.refresh_from_db()
    assert application.status == AS.QUALIFIED
    assert application.qualified_at is not None
    activation = driver.task(application, "service_activation")
    assert (activation.state, activation.waiting_on) == (S.NOT_STARTED, "assurer")
    told = organisation_people(application) | set(team[Role.ELEXON_ANALYST])
    assert recipients_of(f"{application.reference} is MHHS Qualified", since=since) == told
    assert recipients_of("Ready for you: Service Activation", since=since) == set(team[Role.SERVICE_ACTIVATION])


def test_deferral_then_resubmission(team_and_application, driver, team):
    application = team_and_application("SUP")
    driver.take(application, "approval_dip_manager", Action.APPROVE)
    participants = organisation_people(application)
    since = last_notification_id()

    deferred = driver.take(application, "approval_bsc_pab", Action.DEFER, comment="Bring the test report to June.")

    assert (deferred.state, deferred.decision, deferred.waiting_on) == (S.CHANGES_REQUESTED, "deferred", "actor")
    told = recipients_of("BSC PAB approval deferred", since=since)
    assert told == without(participants, driver.user_for(application, "approval_bsc_pab", "assurer"))
    assert "Bring the test report to June." in application.notifications.filter(pk__gt=since).earliest("pk").body
    member = driver.user_for(application, "approval_bsc_pab", "actor")
    assert [t.code for t in work_queue(user=member) if t.application_id == application.pk] == ["approval_bsc_pab"]

    # With two of three approvals (one deferred) the application is still in approval.
    driver.take(application, "approval_rec_code_manager", Action.APPROVE)
    application.refresh_from_db()
    assert application.status == AS.IN_APPROVAL

    before = snapshot()
    with pytest.raises(InvalidInput):
        driver.take(application, "approval_bsc_pab", Action.SUBMIT, comment=" ")
    assert snapshot() == before

    since = last_notification_id()
    resubmitted = driver.take(application, "approval_bsc_pab", Action.SUBMIT, comment="Report attached.")
    assert (resubmitted.state, resubmitted.waiting_on) == (S.SUBMITTED, "assurer")
    assert recipients_of("BSC PAB approval submitted", since=since) == {
        *team[Role.PAB_SECRETARY],
        *team[Role.PAB_CHAIR],
    }

    driver.take(application, "approval_bsc_pab", Action.APPROVE)
    application.refresh_from_db()
    assert application.status == AS.QUALIFIED
    thread = list(driver.task(application, "approval_bsc_pab").entries.values_list("action", "decision"))
    assert thread == [("defer", "deferred"), ("submit", ""), ("approve", "approved")]


@pytest.mark.parametrize("code", APPROVALS["SUP"])
def test_a_rejection_closes_the_application(team_and_application, driver, team, make_application, code):
    application = team_and_application("SUP")
    since = last_notification_id()

    rejected = driver.take(application, code, Action.REJECT, comment="The evidence does not support qualification.")

    application.refresh_from_db()
    assert application.status == AS.REJECTED
    assert application.closed_at is not None
    assert application.closed_reason == "The evidence does not support qualification."
    assert rejected.decision == Decision.REJECTED
    assert set(application.tasks.values_list("waiting_on", flat=True)) == {""}
    told = organisation_people(application) | set(team[Role.ELEXON_ANALYST])
    assert recipients_of(f"{rejected.definition.title} rejected", since=since) == told
    # Nothing more can be done on it, by anyone.
    before = snapshot()
    for other in set(APPROVALS["SUP"]) - {code}:
        with pytest.raises(InvalidTransition, match="is rejected: nothing more can be done"):
            driver.take(application, other, Action.APPROVE)
    assert snapshot() == before
    # A new application for the same MPID and role may now be registered.
    assert make_application(market_role="SUP", route="sit").status == AS.IN_PREPARATION
