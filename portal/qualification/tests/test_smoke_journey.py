import pytest

from portal.audit.services import audit_verify
from portal.qualification.workflow import ApplicationStatus


@pytest.mark.django_db
def test_non_sit_supplier_walks_from_creation_to_active(make_application, advance):
    application = make_application()
    assert application.status == ApplicationStatus.IN_PREPARATION
    application = advance(application)
    assert application.status == ApplicationStatus.ACTIVE
    assert application.qualified_at is not None
    assert audit_verify().ok
