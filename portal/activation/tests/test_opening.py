"""The checklist as reference data, the hand-off opened by the approval that makes an application MHHS
Qualified, and the invariants the database holds."""

from datetime import date

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.accounts.roles import Role
from portal.activation.checklist import ITEMS, activation_checklist_load
from portal.activation.models import ActivationChecklistItem, Handoff, HandoffCheck, HandoffInput
from portal.activation.services import handoff_open, handoff_open_on_qualification
from portal.audit.models import AuditEvent
from portal.notifications.models import Notification
from portal.qualification import hooks
from portal.qualification.hooks import TransitionContext, task_page_url_name

pytestmark = pytest.mark.django_db


# --- reference data --------------------------------------------------------------------------------


def test_the_checklist_is_loaded_by_the_migration():
    items = list(ActivationChecklistItem.objects.order_by("order"))
    assert [i.code for i in items] == [code for code, *_ in ITEMS]
    assert items[0].title == "DIP IDs confirmed for production"
    assert items[-1].title == "Participant notified it may operate"
    assert {i.code for i in items if not i.is_required} == {"operational_contacts"}
    assert all(i.is_active for i in items)


def test_loading_again_keeps_edits_and_reset_restores_them():
    ActivationChecklistItem.objects.filter(code="standing_data").update(title="Edited")
    ActivationChecklistItem.objects.filter(code="party_details").delete()
    assert activation_checklist_load() == 1
    assert ActivationChecklistItem.objects.get(code="standing_data").title == "Edited"
    activation_checklist_load(reset=True)
    assert ActivationChecklistItem.objects.get(code="standing_data").title == (
        "Market role details recorded in industry standing data"
    )


def test_the_task_page_links_to_the_hand_off():
    assert task_page_url_name("service_activation") == "activation:handoff"


# --- opening ---------------------------------------------------------------------------------------


def test_the_last_approval_opens_the_hand_off_audits_it_and_tells_the_team(make_application, advance, staff, team):
    application = advance(make_application(route="sit"), stop_before="approval_rec_code_manager")
    assert application.status == "in_approval"
    assert not Handoff.objects.exists()

    since = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    application = advance(application, stop_before="service_activation")
    assert application.status == "qualified"
    handoff = Handoff.objects.get(application=application)
    assert handoff.planned_go_live is None and not handoff.is_started and not handoff.is_completed
    event = AuditEvent.objects.get(action="handoff.create")
    assert event.application_id == application.pk and event.actor_id == staff(Role.REC_CODE_MANAGER).pk
    # One message tells the team: its task is ready for it (the task page links to the hand-off).
    told = Notification.objects.filter(recipient=team, application=application, pk__gt=since)
    # (The last approval here is the REC Code Manager's, which also tells the team the register changed.)
    assert sorted(n.subject for n in told) == [
        f"REC Party Register updated: {application.reference}",
        f"Ready for you: Service Activation on {application.reference}",
    ]


@pytest.mark.parametrize("code", ["approval_dip_manager", "approval_bsc_pab", "approval_rec_code_manager"])
@pytest.mark.parametrize("action", ["approve", "approve_with_conditions"])
def test_every_approving_decision_of_every_body_may_open_it(code, action):
    assert handoff_open_on_qualification in hooks._effects[(code, action)]
    assert handoff_open_on_qualification not in hooks._effects[(code, "defer")]


def test_the_effect_opens_only_for_a_qualified_application(make_application, member, team):
    application = make_application(route="sit")
    task = application.tasks.get(code="approval_dip_manager")
    with transaction.atomic():
        handoff_open_on_qualification(
            TransitionContext(actor=team, application=application, task=task, action="approve", comment="")
        )
    assert not Handoff.objects.exists()


def test_an_approval_that_does_not_qualify_opens_nothing(make_application, advance):
    application = advance(make_application(route="sit"), stop_before="approval_bsc_pab")
    assert application.tasks.get(code="approval_dip_manager").state == "completed"
    assert not Handoff.objects.exists()


def test_opening_is_idempotent(qualified, team):
    first = Handoff.objects.get(application=qualified)
    with transaction.atomic():
        again = handoff_open(actor=team, application=qualified)
    assert again.pk == first.pk
    assert Handoff.objects.count() == 1
    assert AuditEvent.objects.filter(action="handoff.create").count() == 1


# --- invariants in the database ----------------------------------------------------------------------


def _refused(make):
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


def test_one_hand_off_per_application(qualified):
    _refused(lambda: Handoff.objects.create(application=qualified))


def test_a_done_check_records_who_and_when_and_one_check_per_item(qualified, team):
    handoff = Handoff.objects.get(application=qualified)
    item = ActivationChecklistItem.objects.get(code="standing_data")
    _refused(lambda: HandoffCheck.objects.create(handoff=handoff, item=item, done=True))
    _refused(lambda: HandoffCheck.objects.create(handoff=handoff, item=item, done=False, done_by=team))
    HandoffCheck.objects.create(handoff=handoff, item=item, done=True, done_by=team, done_at=timezone.now())
    _refused(lambda: HandoffCheck.objects.create(handoff=handoff, item=item))


def test_completion_records_who_and_when_after_a_start(qualified, team):
    handoff = Handoff.objects.get(application=qualified)
    now = timezone.now()

    def update(**values):
        return lambda: Handoff.objects.filter(pk=handoff.pk).update(**values)

    _refused(update(started_at=now))
    _refused(update(completed_by=team, completed_at=now))
    _refused(update(started_by=team, started_at=now, completed_at=now))
    Handoff.objects.filter(pk=handoff.pk).update(
        started_by=team, started_at=now, completed_by=team, completed_at=now, planned_go_live=date(2030, 1, 1)
    )


def test_an_input_has_text_and_a_known_body(qualified, staff):
    handoff = Handoff.objects.get(application=qualified)
    analyst = staff(Role.ELEXON_ANALYST)
    _refused(lambda: HandoffInput.objects.create(handoff=handoff, author=analyst, body="elexon_analyst", text=""))
    _refused(lambda: HandoffInput.objects.create(handoff=handoff, author=analyst, body="pab_chair", text="Hi"))
    HandoffInput.objects.create(handoff=handoff, author=analyst, body="elexon_analyst", text="Hi")
