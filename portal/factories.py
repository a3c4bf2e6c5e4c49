"""factory_boy factories shared by every app's tests."""

from typing import cast

import factory
from django.contrib.auth.models import Group

from portal.accounts.models import User
from portal.accounts.roles import Role
from portal.participants.models import Membership, Mpid, Organisation

TEST_PASSWORD = "correct-horse-battery-staple"  # noqa: S105 (test accounts only)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Test Energy {n} Ltd")
    company_number = factory.Sequence(lambda n: f"{10000000 + n:08d}")
    is_bsc_party = True
    is_rec_party = True


class MpidFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Mpid

    organisation = factory.SubFactory(OrganisationFactory)
    # Four characters from A-Z: a base-26 count, so sequences never collide.
    code = factory.Sequence(lambda n: "".join(chr(65 + (n // 26**i) % 26) for i in (3, 2, 1, 0)))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    username = factory.SelfAttribute("email")
    full_name = factory.Sequence(lambda n: f"Test User {n}")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def roles(obj: User, create: bool, extracted: list[Role] | None, **kwargs: object) -> None:
        if create and extracted:
            obj.groups.add(*[Group.objects.get(name=role.value) for role in extracted])
        if create:
            obj.save()


def make_member(organisation: Organisation, *, director: bool = False, **kwargs: object) -> User:
    user = cast(User, UserFactory(**kwargs))
    Membership.objects.create(user=user, organisation=organisation, is_director=director)
    return user


def make_staff(role: Role, **kwargs: object) -> User:
    return cast(User, UserFactory(roles=[role], **kwargs))
