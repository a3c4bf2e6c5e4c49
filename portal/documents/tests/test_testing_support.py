"""The helpers that complete and sign a QAD with the real services (used by the demo data and tests)."""

import pytest

from portal.documents.models import DirectorSignature, QadSubmission
from portal.documents.testing_support import qad_journey_step, qad_prepare_step
from portal.factories import TEST_PASSWORD
from portal.qualification.workflow import TaskState

pytestmark = pytest.mark.django_db


def test_journey_steps_submit_and_sign_and_leave_the_rest(make_application, stages, member, director):
    application = stages.initial_open(make_application())
    assert (
        qad_journey_step(actor=member, application=application, task_code="pit", action="submit", password="") is None
    )
    qad_prepare_step(application=application, task_code="initial_qad", action="submit", actor=member)
    assert QadSubmission.objects.get(application=application).status == "draft"
    task = qad_journey_step(
        actor=member, application=application, task_code="initial_qad", action="submit", password=""
    )
    assert task is not None and task.state == TaskState.SUBMITTED
    stages.review(application, "initial_qad", "accept")
    stages.advance(application, stop_before="final_qad")
    qad_journey_step(actor=member, application=application, task_code="final_qad", action="submit", password="")
    stages.review(application, "final_qad", "accept")
    task = qad_journey_step(
        actor=director, application=application, task_code="director_signoff", action="sign", password=TEST_PASSWORD
    )
    assert task is not None and task.state == TaskState.COMPLETED
    assert DirectorSignature.objects.get(application=application).is_valid
