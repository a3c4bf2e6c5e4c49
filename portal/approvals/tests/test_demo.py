"""The approvals part of the demo data: meetings from the rule, and a target for every demo application
that has signed its Final QAD and needs BSC PAB; loading again adds nothing."""

import pytest

from portal.approvals.demo import approvals_demo_load
from portal.approvals.models import PabMeeting, PabTarget
from portal.demo.services import demo_data_load
from portal.notifications.models import Notification
from portal.qualification.models import Application

pytestmark = pytest.mark.django_db


def test_the_demo_has_meetings_and_targets_and_loading_again_adds_nothing():
    demo_data_load()
    assert PabMeeting.objects.count() >= 11
    targets = list(PabTarget.objects.select_related("application", "meeting"))
    assert targets, "a demo application with a signed Final QAD needing PAB should be targeted"
    for target in targets:
        tasks = {t.code: t for t in target.application.tasks.all()}
        assert tasks["director_signoff"].state == "completed" and "approval_bsc_pab" in tasks
        assert Notification.objects.filter(application=target.application, subject__contains="Target BSC PAB").exists()
    signed_needing_pab = (
        Application.objects.exclude(status__in=["withdrawn", "non_completion", "rejected"])
        .filter(tasks__code="director_signoff", tasks__state="completed")
        .filter(tasks__code="approval_bsc_pab", tasks__state="not_started")
    )
    assert set(signed_needing_pab.values_list("pk", flat=True)) <= {t.application_id for t in targets}

    counts = (PabMeeting.objects.count(), PabTarget.objects.count(), Notification.objects.count())
    report = approvals_demo_load()
    assert report.meetings_added == 0 and report.targeted == []
    assert (PabMeeting.objects.count(), PabTarget.objects.count(), Notification.objects.count()) == counts
