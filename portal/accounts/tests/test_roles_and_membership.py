"""Who a user is: staff roles from groups, participant roles from memberships (the director role only
where recorded), nothing for anonymous or deactivated users; and who belongs to an organisation."""

from typing import cast

import pytest
from django.contrib.auth.models import AnonymousUser, Group

from portal.accounts.models import User
from portal.accounts.roles import PARTICIPANT_ROLES, STAFF_ROLES, Role
from portal.accounts.selectors import (
    organisation_users,
    user_director_organisation_ids,
    user_is_director_of,
    user_is_staff_reviewer,
    user_organisation_ids,
    user_roles,
    users_with_roles,
)
from portal.factories import UserFactory, make_member, make_staff
from portal.participants.models import Membership

pytestmark = pytest.mark.django_db


def new_user(**kwargs: object) -> User:
    return cast(User, UserFactory(**kwargs))


R = Role


def fresh(user: User) -> User:
    """The user as a new request would load them (roles are cached per user object)."""
    return User.objects.get(pk=user.pk)


def test_every_staff_role_has_its_group_and_the_participant_roles_have_none():
    assert set(Group.objects.values_list("name", flat=True)) >= {r.value for r in STAFF_ROLES}
    assert not Group.objects.filter(name__in=[r.value for r in PARTICIPANT_ROLES]).exists()


@pytest.mark.parametrize("role", sorted(STAFF_ROLES))
def test_a_staff_user_holds_the_role_of_their_group(role):
    user = make_staff(role)
    assert user_roles(user) == {role}
    assert user_organisation_ids(user) == frozenset()
    assert user_is_staff_reviewer(user)


def test_participant_roles_come_from_memberships(org, other_org):
    member = make_member(org)
    director = make_member(org, director=True)
    both = make_member(other_org, director=True)
    Membership.objects.create(user=both, organisation=org)

    assert user_roles(member) == {R.PARTICIPANT_MEMBER}
    assert user_roles(director) == {R.PARTICIPANT_MEMBER, R.PARTICIPANT_DIRECTOR}
    assert user_organisation_ids(fresh(both)) == {org.pk, other_org.pk}
    assert user_director_organisation_ids(fresh(both)) == {other_org.pk}
    assert user_is_director_of(fresh(both), other_org.pk)
    assert not user_is_director_of(fresh(both), org.pk)
    assert not user_is_director_of(member, org.pk)
    assert user_is_director_of(director, org.pk)
    assert not user_is_staff_reviewer(director)


@pytest.mark.parametrize(
    "make_user",
    [
        pytest.param(lambda org: AnonymousUser(), id="anonymous"),
        pytest.param(lambda org: None, id="none"),
        pytest.param(lambda org: make_staff(R.ELEXON_ANALYST, is_active=False), id="inactive-staff"),
        pytest.param(lambda org: make_member(org, director=True, is_active=False), id="inactive-director"),
        pytest.param(lambda org: new_user(), id="no-group-no-membership"),
    ],
)
def test_nobody_else_holds_any_role(org, make_user):
    user = make_user(org)
    assert user_roles(user) == frozenset()
    assert user_organisation_ids(user) == frozenset()
    assert not user_is_director_of(user, org.pk)


def test_a_superuser_is_an_administrator_and_unknown_groups_grant_nothing():
    user = new_user(is_superuser=True)
    user.groups.add(Group.objects.create(name="tea_club"))
    assert user_roles(fresh(user)) == {R.ADMINISTRATOR}


def test_several_groups_and_memberships_are_read_together_in_one_query(org, other_org, django_assert_num_queries):
    user = make_staff(R.ELEXON_ANALYST)
    user.groups.add(Group.objects.get(name=R.QSP), Group.objects.create(name="tea_club"))
    Membership.objects.create(user=user, organisation=org, is_director=True)
    Membership.objects.create(user=user, organisation=other_org)
    user = fresh(user)
    with django_assert_num_queries(1):
        roles = user_roles(user)
        organisations = user_organisation_ids(user)
        directing = user_director_organisation_ids(user)
    assert roles == {R.ELEXON_ANALYST, R.QSP, R.PARTICIPANT_MEMBER, R.PARTICIPANT_DIRECTOR}
    assert organisations == {org.pk, other_org.pk}
    assert directing == {org.pk}


def test_roles_are_cached_for_the_life_of_the_user_object(org):
    user = new_user()
    assert user_roles(user) == frozenset()
    Membership.objects.create(user=user, organisation=org)
    assert user_roles(user) == frozenset(), "one request sees one answer"
    assert user_roles(fresh(user)) == {R.PARTICIPANT_MEMBER}


def test_users_with_roles_are_the_active_staff_holding_them_once_each():
    analyst = make_staff(R.ELEXON_ANALYST)
    both = make_staff(R.ELEXON_ANALYST)
    both.groups.add(Group.objects.get(name=R.QSP.value))
    make_staff(R.ELEXON_ANALYST, is_active=False)
    make_staff(R.DIP_MANAGER)

    assert list(users_with_roles({R.ELEXON_ANALYST, R.QSP}).order_by("pk")) == [analyst, both]
    # Participant roles are answered per organisation, never here.
    assert not users_with_roles({R.PARTICIPANT_MEMBER, R.PARTICIPANT_DIRECTOR}).exists()


def test_organisation_users_and_directors(org, other_org):
    member = make_member(org)
    director = make_member(org, director=True)
    make_member(org, director=True, is_active=False)
    outsider = make_member(other_org)
    director_elsewhere = make_member(other_org, director=True)
    Membership.objects.create(user=director_elsewhere, organisation=org)

    assert set(organisation_users(org.pk)) == {member, director, director_elsewhere}
    # Only directors *of this organisation*: directing another one does not count.
    assert list(organisation_users(org.pk, directors_only=True)) == [director]
    assert set(organisation_users(other_org.pk, directors_only=True)) == {director_elsewhere}
    assert outsider not in organisation_users(org.pk)
