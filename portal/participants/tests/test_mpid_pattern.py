from typing import cast

import pytest
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction

from portal.factories import OrganisationFactory
from portal.participants.models import Mpid, Organisation, mpid_validator

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("code", ["ABCD\n", "\nABCD", "ABC\n"])
def test_a_trailing_or_leading_newline_is_not_an_mpid(code):
    with pytest.raises(ValidationError):
        mpid_validator(code)
    organisation = cast(Organisation, OrganisationFactory())
    # PostgreSQL already refuses the fifth character by length; SQLite relies on the check constraint.
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        Mpid.objects.create(code=code, organisation=organisation)
    assert not Mpid.objects.filter(organisation=organisation).exists()
