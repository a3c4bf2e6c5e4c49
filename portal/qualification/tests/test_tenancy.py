"""Who sees what: participants their own organisation, each approval body the roles it approves,
the staff who follow every application everything; and each user's work queue holds exactly the
tasks waiting for them."""

import pytest
from django.contrib.auth.models import AnonymousUser

from portal.accounts.roles import Role
from portal.core.errors import NotFound
from portal.factories import UserFactory, make_member
from portal.participants.models import ApprovalBody, ApprovalRequirement
from portal.qualification.permissions import application_scope_for
from portal.qualification.selectors import (
    application_get,
    application_list,
    application_status_counts,
    task_get,
    work_queue,
)
from portal.qualification.services import application_withdraw
from portal.qualification.workflow import TaskState

pytestmark = pytest.mark.django_db

R = Role
MARKET_ROLES = ("SUP", "LDSO", "MEM", "ADS", "SDS", "UMSDS")
ALL = set(MARKET_ROLES)
# The market roles each staff role sees (on every organisation's applications).
STAFF_SEES = {
    R.ELEXON_ANALYST: ALL,
    R.QSP: ALL,
    R.TESTING_ASSURANCE: ALL,
    R.PROGRAMME_ASSURANCE: ALL,
    R.DIP_MANAGER: ALL,
    R.SERVICE_ACTIVATION: ALL,
    R.ADMINISTRATOR: ALL,
    # REC approval is needed by Suppliers, LDSOs and MEMs, not by Data Services.
    R.REC_CODE_MANAGER: {"SUP", "LDSO", "MEM"},
    # BSC PAB approval is needed by everyone but MEMs.
    R.PAB_SECRETARY: {"SUP", "LDSO", "ADS", "SDS", "UMSDS"},
    R.PAB_CHAIR: {"SUP", "LDSO", "ADS", "SDS", "UMSDS"},
    R.PAB_MEMBER: {"SUP", "LDSO", "ADS", "SDS", "UMSDS"},
}


@pytest.fixture
def portfolio(make_application, org, other_org, other_member):
    """An application in every market role for each of two organisations (SIT takes every role)."""
    apps = {}
    for organisation, actor in ((org, None), (other_org, other_member)):
        for role in MARKET_ROLES:
            apps[organisation.pk, role] = make_application(
                market_role=role, route="sit", organisation=organisation, actor=actor
            )
    return apps


def visible(user):
    return {(a.organisation_id, a.market_role.code) for a in application_scope_for(user).select_related("market_role")}


@pytest.mark.parametrize("role", sorted(STAFF_SEES))
def test_staff_see_the_roles_their_body_needs_on_every_organisation(portfolio, staff, role):
    user = staff(role)
    expected = {key for key in portfolio if key[1] in STAFF_SEES[role]}

    assert visible(user) == expected
    listed = [(a.organisation_id, a.market_role.code) for a in application_list(user=user)]
    assert sorted(listed) == sorted(expected), "each visible application once"
    assert sum(application_status_counts(user=user).values()) == len(expected)
    for key, application in portfolio.items():
        if key in expected:
            assert application_get(user=user, application_id=application.pk) == application
        else:
            with pytest.raises(NotFound):
                application_get(user=user, application_id=application.pk)
            with pytest.raises(NotFound):
                task_get(user=user, application_id=application.pk, task_code="pit")


@pytest.mark.parametrize("who", ["member", "director", "other_member"])
def test_participants_see_only_their_own_organisation(request, portfolio, who):
    user = request.getfixturevalue(who)
    organisation_id = user.memberships.get().organisation_id

    assert visible(user) == {key for key in portfolio if key[0] == organisation_id}
    for (owner, _), application in portfolio.items():
        if owner != organisation_id:
            with pytest.raises(NotFound, match="No application was found"):
                application_get(user=user, application_id=application.pk)
            assert not application_list(user=user, organisation_id=owner).exists()


def test_a_member_of_two_organisations_sees_both(portfolio, org, other_org):
    user = make_member(org)
    user.memberships.create(organisation=other_org)

    assert visible(user) == set(portfolio)


@pytest.mark.parametrize(
    "make_user",
    [
        pytest.param(lambda org: AnonymousUser(), id="anonymous"),
        pytest.param(lambda org: UserFactory(), id="no-role"),
        pytest.param(lambda org: UserFactory(is_active=False, roles=[Role.ELEXON_ANALYST]), id="inactive-staff"),
        pytest.param(lambda org: make_member(org, is_active=False), id="inactive-member"),
    ],
)
def test_nobody_else_sees_anything(portfolio, org, make_user):
    user = make_user(org)

    assert visible(user) == set()
    assert list(work_queue(user=user)) == []
    assert application_status_counts(user=user) == {}


def test_the_approval_matrix_decides_what_a_body_sees(portfolio, staff):
    """The scope follows the matrix rows, not a list in the code."""
    rec = staff(R.REC_CODE_MANAGER)
    ApprovalRequirement.objects.create(role_group_id=_group_of(portfolio, "ADS"), body=ApprovalBody.REC_CODE_MANAGER)
    rec = type(rec).objects.get(pk=rec.pk)  # a new request: roles are cached per user object

    assert {role for _, role in visible(rec)} == {"SUP", "LDSO", "MEM", "ADS", "SDS", "UMSDS"}


def _group_of(portfolio, market_role):
    return next(a.market_role.role_group_id for (_, role), a in portfolio.items() if role == market_role)


def test_list_filters_stay_inside_the_scope(portfolio, member, org, other_org):
    assert application_list(user=member, search="RIVP").count() == 0
    assert application_list(user=member, search="nlen").count() == len(MARKET_ROLES)
    assert application_list(user=member, search="LDSO").get().market_role.code == "LDSO"
    assert application_list(user=member, route="sit", status="in_preparation").count() == len(MARKET_ROLES)
    assert application_list(user=member, organisation_id=other_org.pk).count() == 0


# --- work queue --------------------------------------------------------------------------------


@pytest.fixture
def queues(make_application, driver, org, other_org, other_member):
    """Applications at different points, named by what they wait for."""
    pqs_submitted = make_application(market_role="SUP")
    driver.place(pqs_submitted, "pqs", TaskState.SUBMITTED)
    preparing = make_application(market_role="MEM", route="sit")
    signing = make_application(market_role="ADS")
    driver.place(signing, "director_signoff", TaskState.NOT_STARTED)
    approving = make_application(market_role="LDSO", route="sit")
    driver.place(approving, "approval_dip_manager", TaskState.NOT_STARTED)
    withdrawn = make_application(market_role="UMSDS", route="sit")
    application_withdraw(
        actor=driver.user_for(withdrawn, "pit", "actor"), application_id=withdrawn.pk, reason="Not now."
    )
    elsewhere = make_application(market_role="SUP", route="sit", organisation=other_org, actor=other_member)
    return {
        "pqs_submitted": pqs_submitted,
        "preparing": preparing,
        "signing": signing,
        "approving": approving,
        "elsewhere": elsewhere,
    }


OWN_PARTICIPANT_WORK = {("preparing", "pit"), ("preparing", "dip_onboarding")}
EXPECTED_QUEUE = {
    "member": OWN_PARTICIPANT_WORK,
    "director": OWN_PARTICIPANT_WORK | {("signing", "director_signoff")},
    "other_member": {("elsewhere", "pit"), ("elsewhere", "dip_onboarding")},
    R.ELEXON_ANALYST: {("pqs_submitted", "pqs")},
    R.QSP: {("pqs_submitted", "pqs")},
    R.REC_CODE_MANAGER: {("pqs_submitted", "pqs"), ("approving", "approval_rec_code_manager")},
    R.DIP_MANAGER: {("approving", "approval_dip_manager")},
    R.PAB_SECRETARY: {("approving", "approval_bsc_pab")},
    R.PAB_CHAIR: {("approving", "approval_bsc_pab")},
    R.PAB_MEMBER: set(),
    R.PROGRAMME_ASSURANCE: set(),
    R.TESTING_ASSURANCE: set(),
    R.SERVICE_ACTIVATION: set(),
    R.ADMINISTRATOR: set(),
}


@pytest.mark.parametrize("who", list(EXPECTED_QUEUE), ids=str)
def test_the_work_queue_holds_exactly_the_tasks_waiting_for_the_user(request, staff, queues, who):
    user = staff(who) if isinstance(who, Role) else request.getfixturevalue(who)
    names = {application.pk: name for name, application in queues.items()}

    queue = {(names[t.application_id], t.code) for t in work_queue(user=user)}

    assert queue == EXPECTED_QUEUE[who]
