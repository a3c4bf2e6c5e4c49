import pytest

from portal.documents.models import DirectorSignature
from portal.documents.signing import signature_check

pytestmark = pytest.mark.django_db


def test_flow(make_application, stages):
    app = make_application()
    stages.signed(app)
    sig = DirectorSignature.objects.get()
    assert signature_check(sig).ok, signature_check(sig).problems
    app.refresh_from_db()
    print(app.status)
