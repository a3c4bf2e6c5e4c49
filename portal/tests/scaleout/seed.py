"""Data for the scale-out test, written through the portal's own services in a separate process with
the same settings as the app instances (`python -m portal.tests.scaleout.seed <command>`).

- `setup`: the reference data (the test database may have been copied from a flushed one), an
  organisation with its MPID, a participant user with the test password, and an application of theirs.
  Prints `{"email", "password", "application_id"}` as JSON.
- `notify <n> <rolled_back>`: `n` more members of that organisation, and one notification to each,
  committed in one transaction (so their `n` e-mail jobs are published when it commits); then
  `rolled_back` notifications in a transaction that fails, whose jobs must never be published.
  Prints `{"committed": [ids], "rolled_back": <count>}`.
"""

import json
import sys
from typing import cast

import django


class _RolledBack(Exception):
    pass


def setup() -> dict[str, object]:
    from portal.conftest import load_all_reference_data
    from portal.factories import TEST_PASSWORD, MpidFactory, OrganisationFactory, make_member
    from portal.participants.models import Organisation
    from portal.qualification.services import application_create

    load_all_reference_data()
    organisation = cast(Organisation, OrganisationFactory(name="Scale-Out Energy Ltd"))
    MpidFactory(organisation=organisation, code="SCAL")
    member = make_member(organisation, email="member@scale-out.test", full_name="Sam Scale")
    application = application_create(
        actor=member,
        organisation_id=organisation.pk,
        mpid_code="SCAL",
        market_role_code="SUP",
        route_code="non_sit_supplier_agent",
    )
    return {"email": member.email, "password": TEST_PASSWORD, "application_id": application.pk}


def notify(count: int, rolled_back: int) -> dict[str, object]:
    from django.db import transaction

    from portal.accounts.models import User
    from portal.factories import make_member
    from portal.notifications.services import notify as notify_users
    from portal.participants.models import Organisation

    organisation = Organisation.objects.get(name="Scale-Out Energy Ltd")

    def member(email: str) -> User:
        # No password: hashing one (Argon2 under these settings) would take most of the test's time.
        return make_member(organisation, email=email, password=None)

    with transaction.atomic():
        users = [member(f"colleague{i}@scale-out.test") for i in range(count)]
        committed = notify_users(recipients=users, subject="Scale-out check", body="One of a batch.")
    try:
        with transaction.atomic():
            ghosts = [member(f"ghost{i}@scale-out.test") for i in range(rolled_back)]
            notify_users(recipients=ghosts, subject="Never sent", body="Rolled back.")
            raise _RolledBack
    except _RolledBack:
        pass
    return {"committed": [n.pk for n in committed], "rolled_back": rolled_back}


def main(argv: list[str]) -> None:
    django.setup()
    command, *args = argv
    if command == "setup":
        result = setup()
    elif command == "notify":
        result = notify(int(args[0]), int(args[1]))
    else:
        raise SystemExit(f"Unknown command {command!r}")
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
