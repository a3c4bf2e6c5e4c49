"""Which demo logins exist in this database, one or more for every role."""

from dataclasses import dataclass

from portal.accounts.models import User
from portal.accounts.roles import Role
from portal.demo.data import ORGANISATIONS, PRIMARY_DIRECTOR, PRIMARY_MEMBER, STAFF


@dataclass(frozen=True)
class DemoLogin:
    role: Role
    email: str
    full_name: str
    organisation: str


def _candidates() -> list[DemoLogin]:
    organisation_of = {p.email: o.name for o in ORGANISATIONS for p in o.people}
    name_of = {p.email: p.full_name for o in ORGANISATIONS for p in o.people}
    logins = [
        DemoLogin(Role.PARTICIPANT_MEMBER, PRIMARY_MEMBER, name_of[PRIMARY_MEMBER], organisation_of[PRIMARY_MEMBER]),
        DemoLogin(
            Role.PARTICIPANT_DIRECTOR, PRIMARY_DIRECTOR, name_of[PRIMARY_DIRECTOR], organisation_of[PRIMARY_DIRECTOR]
        ),
    ]
    logins += [DemoLogin(s.role, s.email, s.full_name, s.body) for s in STAFF]
    order = list(Role)
    return sorted(logins, key=lambda login: order.index(login.role))


def demo_login_list() -> list[DemoLogin]:
    """The demo logins whose accounts exist and are active, in the order of `Role`."""
    candidates = _candidates()
    present = set(
        User.objects.filter(email__in=[c.email for c in candidates], is_active=True).values_list("email", flat=True)
    )
    return [c for c in candidates if c.email in present]
