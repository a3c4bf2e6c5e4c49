"""The participants' invariants live in the database: MPID format and uniqueness, one membership per
user and organisation, one matrix row per role group and body."""

from typing import cast

import pytest
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, connection, transaction

from portal.accounts.models import User
from portal.factories import MpidFactory, OrganisationFactory, UserFactory
from portal.participants.models import (
    ApprovalBody,
    ApprovalRequirement,
    Membership,
    Mpid,
    RoleGroup,
    mpid_validator,
)

pytestmark = pytest.mark.django_db


def new_user(**kwargs: object) -> User:
    return cast(User, UserFactory(**kwargs))


@pytest.mark.parametrize("code", ["AB1", "ab12", "AB-1", "AB 1", "", "AB_1", "ÄBC1"])
def test_the_database_refuses_a_malformed_mpid(org, code):
    with pytest.raises(IntegrityError), transaction.atomic():
        Mpid.objects.create(organisation=org, code=code)


def test_the_database_refuses_an_mpid_too_long(org):
    """PostgreSQL refuses it for its length (VARCHAR(4)); SQLite, which does not enforce lengths,
    through the format check."""
    error = DataError if connection.vendor == "postgresql" else IntegrityError
    with pytest.raises(error), transaction.atomic():
        Mpid.objects.create(organisation=org, code="ABCDE")
    assert not Mpid.objects.filter(code__startswith="ABCD").exists()


def test_an_mpid_belongs_to_one_organisation(org, other_org):
    with pytest.raises(IntegrityError), transaction.atomic():
        Mpid.objects.create(organisation=other_org, code="NLEN")


@pytest.mark.parametrize("code", ["ab12", "AB1", "ABCDE", "AB-1", " ABC"])
def test_forms_and_admin_refuse_a_malformed_mpid(org, code):
    with pytest.raises(ValidationError, match="exactly 4 upper-case letters or digits"):
        Mpid(organisation=org, code=code).full_clean()


@pytest.mark.parametrize("code", ["SOUT", "AB12", "0000"])
def test_well_formed_mpids_are_accepted(org, code):
    mpid_validator(code)
    Mpid(organisation=org, code=code).full_clean()
    assert Mpid.objects.create(organisation=org, code=code).code == code


def test_the_mpid_factory_never_collides():
    codes = [MpidFactory().code for _ in range(30)]
    assert len(set(codes)) == 30
    for code in codes:
        mpid_validator(code)


def test_one_membership_per_user_and_organisation(org):
    user = new_user()
    Membership.objects.create(user=user, organisation=org)
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=user, organisation=org, is_director=True)


def test_one_matrix_row_per_role_group_and_body():
    group = RoleGroup.objects.get(code="supplier")
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalRequirement.objects.create(role_group=group, body=ApprovalBody.BSC_PAB)


def test_the_matrix_names_only_known_bodies():
    group = RoleGroup.objects.get(code="mem")
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalRequirement.objects.create(role_group=group, body="ofgem")


def test_company_numbers_are_checked():
    with pytest.raises(ValidationError, match="8 letters or digits"):
        OrganisationFactory.build(company_number="1234").full_clean()
    OrganisationFactory.build(company_number="SC123456").full_clean()
