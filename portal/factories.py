"""factory_boy factories shared by every app's tests."""

from typing import cast

import factory
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import encrypt
from django.contrib.auth.models import Group

from portal.accounts.models import User
from portal.accounts.roles import Role
from portal.participants.models import Membership, Mpid, Organisation

TEST_PASSWORD = "correct-horse-battery-staple"  # noqa: S105 (test accounts only)
# The authenticator-app secret of every test user who has one (staff users and directors): compute a
# code with `portal.accounts.mfa.totp_code(TEST_TOTP_SECRET)`.
TEST_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 (test accounts only)


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


def give_totp(user: User, secret: str = TEST_TOTP_SECRET) -> Authenticator:
    """An authenticator app for the user, as if they had set one up (no audit event: this is set-up)."""
    return Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": encrypt(secret)})


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

    @factory.post_generation
    def totp(obj: User, create: bool, extracted: bool | None, **kwargs: object) -> None:
        """Staff users and administrators have an authenticator app, as they must; `totp=False` for none,
        `totp=True` for anyone."""
        if not create:
            return
        if extracted if extracted is not None else (obj.is_superuser or obj.groups.exists()):
            give_totp(obj)


def make_member(
    organisation: Organisation, *, director: bool = False, totp: bool | None = None, **kwargs: object
) -> User:
    """A participant user; a director has an authenticator app (as they must), unless `totp=False`."""
    user = cast(User, UserFactory(totp=False, **kwargs))
    Membership.objects.create(user=user, organisation=organisation, is_director=director)
    if director if totp is None else totp:
        give_totp(user)
    return user


def make_staff(role: Role, *, totp: bool = True, **kwargs: object) -> User:
    """A staff user with an authenticator app (every staff role must have one), unless `totp=False`."""
    return cast(User, UserFactory(roles=[role], totp=totp, **kwargs))
