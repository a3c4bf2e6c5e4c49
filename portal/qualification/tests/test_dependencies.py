"""Dependencies make a task "cannot start yet" until every task it waits for is done; optional tasks
can be marked not required, with a reason, and required ones cannot."""

from typing import cast

import pytest

from portal.core.errors import InvalidInput, InvalidTransition
from portal.factories import MpidFactory, OrganisationFactory, make_member
from portal.participants.models import Organisation
from portal.qualification.selectors import task_available_transitions, task_get
from portal.qualification.tests.helpers import snapshot
from portal.qualification.workflow import DONE_STATES, Action, TaskState, actions_for_kind, transition_for

pytestmark = pytest.mark.django_db

S = TaskState
ROUTE_ROLE = {
    "non_sit_supplier_agent": "SUP",
    "sit": "SUP",
    "non_sit_ldso": "LDSO",
    "new_entrant_ldso": "LDSO",
    "non_standard": "SUP",
}
# What a participant can start on the day the application is registered.
AVAILABLE_AT_REGISTRATION = {
    "non_sit_supplier_agent": {"pqs"},
    "sit": {"pit", "dip_onboarding"},
    "non_sit_ldso": {"pit", "dip_onboarding"},
    "new_entrant_ldso": {"pqs"},
    "non_standard": {"pqs"},
}
# The submissions a route lets the participant mark not required.
OPTIONAL = {
    "non_sit_supplier_agent": {"workoff"},
    "sit": {"workoff"},
    "non_sit_ldso": {"workoff"},
    "new_entrant_ldso": {"pqs", "workoff"},
    "non_standard": {"pqs", "workoff"},
}
# What becomes available when an optional task is marked not required (everything before it done).
UNBLOCKS = {"pqs": ("pit", "dip_onboarding"), "workoff": ("final_qad",)}
SUBMISSIONS = {
    "non_sit_supplier_agent": ("pqs", "pit", "dip_onboarding", "initial_qad", "qt", "workoff", "final_qad"),
    "sit": ("pit", "dip_onboarding", "initial_qad", "qt", "workoff", "final_qad"),
    "non_sit_ldso": ("pit", "dip_onboarding", "initial_qad", "qt", "workoff", "final_qad"),
    "new_entrant_ldso": ("pqs", "pit", "dip_onboarding", "initial_qad", "qt", "workoff", "final_qad"),
    "non_standard": ("pqs", "pit", "dip_onboarding", "initial_qad", "qt", "workoff", "final_qad"),
}


@pytest.fixture
def register(make_application):
    def make(route):
        if route == "new_entrant_ldso":
            newcomer = cast(Organisation, OrganisationFactory(is_new_entrant=True))
            MpidFactory(organisation=newcomer)
            return make_application(market_role="LDSO", route=route, organisation=newcomer, actor=make_member(newcomer))
        return make_application(market_role=ROUTE_ROLE[route], route=route)

    return make


def states(application):
    return dict(application.tasks.values_list("code", "state"))


@pytest.mark.parametrize("route", list(ROUTE_ROLE))
def test_at_registration_only_tasks_without_dependencies_can_start(register, driver, route):
    application = register(route)

    current = states(application)
    assert {code for code, state in current.items() if state == S.NOT_STARTED} == AVAILABLE_AT_REGISTRATION[route]
    assert {state for code, state in current.items() if code not in AVAILABLE_AT_REGISTRATION[route]} == {
        S.CANNOT_START
    }
    before = snapshot()
    for task in application.tasks.select_related("definition").exclude(state=S.NOT_STARTED):
        for transition in actions_for_kind(task.definition.kind):
            with pytest.raises(InvalidTransition, match="cannot start yet"):
                driver.take(application, task.code, transition.action, comment="Trying early.")
    assert snapshot() == before


@pytest.mark.parametrize("route", list(ROUTE_ROLE))
def test_a_task_becomes_available_exactly_when_its_dependencies_are_done(register, driver, route):
    """Checked after every step of a whole journey."""
    application = register(route)
    definitions = {t.code: t.definition.depends_on for t in application.tasks.select_related("definition")}

    for code in [*definitions, None]:
        if code is None:
            driver.advance(application)
        else:
            driver.advance(application, stop_before=code)
        current = states(application)
        for task_code, depends_on in definitions.items():
            waiting_for = [d for d in depends_on if d in current and current[d] not in DONE_STATES]
            assert (current[task_code] == S.CANNOT_START) == bool(waiting_for), (task_code, current)


def test_initial_qad_waits_for_both_pit_and_dip_onboarding(make_application, driver):
    application = make_application(route="sit")

    driver.place(application, "pit", S.COMPLETED)
    assert states(application)["initial_qad"] == S.CANNOT_START
    driver.place(application, "dip_onboarding", S.SUBMITTED)
    assert states(application)["initial_qad"] == S.CANNOT_START
    driver.take(application, "dip_onboarding", Action.ACCEPT)
    assert states(application)["initial_qad"] == S.NOT_STARTED


@pytest.mark.parametrize(
    ("route", "code"),
    [pytest.param(route, code, id=f"{route}-{code}") for route, codes in SUBMISSIONS.items() for code in codes],
)
def test_only_optional_tasks_can_be_marked_not_required(register, driver, route, code):
    application = register(route)
    driver.place(application, code, S.NOT_STARTED)
    actor = driver.user_for(application, code, "actor")
    reason = "We place no reliance on third-party testing."
    offered = task_available_transitions(
        user=actor, task=task_get(user=actor, application_id=application.pk, task_code=code)
    )

    if code not in OPTIONAL[route]:
        assert Action.MARK_NOT_REQUIRED not in [t.action for t in offered]
        before = snapshot()
        with pytest.raises(InvalidTransition, match="is required on this route"):
            driver.take(application, code, Action.MARK_NOT_REQUIRED, comment=reason)
        assert snapshot() == before
        return

    assert Action.MARK_NOT_REQUIRED in [t.action for t in offered]
    task = driver.take(application, code, Action.MARK_NOT_REQUIRED, comment=reason)
    assert task.state == S.NOT_REQUIRED
    assert task.entries.get().comment == reason
    # The tasks that waited only for it can start.
    current = states(application)
    assert {current[waiting] for waiting in UNBLOCKS[code]} == {S.NOT_STARTED}


@pytest.mark.parametrize("route", ["new_entrant_ldso", "non_standard"])
def test_marking_an_optional_task_not_required_needs_a_reason(register, driver, route):
    application = register(route)
    before = snapshot()

    with pytest.raises(InvalidInput, match="Enter the reason"):
        driver.take(application, "pqs", Action.MARK_NOT_REQUIRED, comment="  ")

    assert snapshot() == before
    assert transition_for("submission", Action.MARK_NOT_REQUIRED).comment_required  # type: ignore[union-attr]


def test_a_new_entrant_ldso_placing_no_reliance_skips_the_pqs(register, driver):
    application = register("new_entrant_ldso")

    driver.take(application, "pqs", Action.MARK_NOT_REQUIRED, comment="No reliance placed.")

    current = states(application)
    assert (current["pqs"], current["pit"], current["dip_onboarding"]) == (S.NOT_REQUIRED, S.NOT_STARTED, S.NOT_STARTED)
