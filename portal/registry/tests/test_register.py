"""The register follows the task transitions: the REC Code Manager's approval writes the REC Party
Register and tells the REC Contract Manager, the industry parties and Service Activation; the last
approval writes "MHHS Qualified"; Service Activation writes "Active". Entries are never overwritten:
each change is a new entry, the one before it marked superseded, and the database keeps one current
entry per register, MPID and role."""

from datetime import date

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from portal.accounts.roles import Role
from portal.audit.models import AuditEvent
from portal.core.calendar import uk_today
from portal.core.errors import InvalidInput
from portal.notifications.models import DistributionList, Notification, OutboundEmail
from portal.notifications.reference_data import REC_CONTRACT_MANAGER, REC_INDUSTRY_PARTIES
from portal.qualification import services as qualification_services
from portal.qualification.models import Application
from portal.qualification.workflow import Action, ApplicationStatus
from portal.registry.models import EntryStatus, Register, RegisterEntry
from portal.registry.services import register_record

pytestmark = pytest.mark.django_db

REC = "approval_rec_code_manager"
CONDITIONS = "Close work-off item WO-3 (QT-114 rerun) by 1 March 2027."


def current(register: str, application: Application) -> RegisterEntry | None:
    return RegisterEntry.objects.filter(
        register=register,
        mpid_code=application.mpid.code,
        market_role_code=application.market_role.code,
        is_current=True,
    ).first()


def entry_of(register: str, application: Application) -> RegisterEntry:
    entry = current(register, application)
    assert entry is not None, f"no current {register} entry"
    return entry


# --- the REC Code Manager's approval -------------------------------------------------------------------


def test_the_rec_approval_writes_the_rec_party_register(in_approval, driver, team):
    application = in_approval(market_role="SUP")  # also needs the DIP Manager and BSC PAB

    driver.take(application, REC, Action.APPROVE, comment="Final QAD approved.")

    entry = entry_of(Register.REC_PARTY, application)
    assert entry is not None
    assert (entry.status, entry.conditions, entry.effective_date) == (EntryStatus.REC_APPROVED, "", uk_today())
    assert (entry.organisation_name, entry.mpid_code, entry.market_role_code) == (
        "Northern Lights Energy Ltd",
        "NLEN",
        "SUP",
    )
    assert entry.market_role_name == application.market_role.name
    assert entry.application == application and entry.organisation == application.organisation
    assert entry.recorded_by == driver.user_for(application, REC, "assurer")
    assert entry.previous is None
    # Not qualified yet: the DIP Manager and BSC PAB have still to approve.
    assert current(Register.MHHS, application) is None
    event = AuditEvent.objects.get(action="register.record")
    assert event.after["status"] == "rec_approved" and event.before == {}
    assert event.application_id == application.pk and event.target_id == str(entry.pk)


def test_the_rec_approval_with_conditions_records_them(in_approval, driver):
    application = in_approval(market_role="SUP")

    driver.take(application, REC, Action.APPROVE_WITH_CONDITIONS, comment=CONDITIONS)

    assert entry_of(Register.REC_PARTY, application).conditions == CONDITIONS


def test_the_rec_approval_emails_the_lists_and_tells_service_activation(in_approval, driver, team, settings):
    application = in_approval(market_role="SUP")
    jobs_before = DBTaskResult.objects.count()

    driver.take(application, REC, Action.APPROVE_WITH_CONDITIONS, comment=CONDITIONS)

    emails = list(OutboundEmail.objects.order_by("pk"))
    expected = {
        address: code
        for code in (REC_CONTRACT_MANAGER, REC_INDUSTRY_PARTIES)
        for address in DistributionList.objects.get(code=code).address_list
    }
    assert {e.to_address: e.list_code for e in emails} == expected
    assert len(emails) == len(expected)
    subject = "REC Party Register updated: Northern Lights Energy Ltd NLEN SUP"
    for email in emails:
        assert email.subject == subject
        assert email.link == "/register/"
        assert email.application == application
        assert "approved Northern Lights Energy Ltd (MPID NLEN) as Supplier" in email.body
        assert "with conditions" in email.body
        assert (CONDITIONS in email.body) == (email.list_code == REC_CONTRACT_MANAGER)
    outbound_jobs = DBTaskResult.objects.filter(task_path="portal.notifications.tasks.send_outbound_email")
    assert sorted(j.args_kwargs["args"][0] for j in outbound_jobs) == sorted(e.pk for e in emails)
    assert DBTaskResult.objects.count() > jobs_before + len(emails)  # the notifications' jobs as well

    told = Notification.objects.filter(subject=f"REC Party Register updated: {application.reference}")
    assert {n.recipient for n in told} == set(team[Role.SERVICE_ACTIVATION])
    notice = told.earliest("pk")
    assert notice.link == "/register/" and notice.application == application
    assert CONDITIONS in notice.body


def test_a_missing_distribution_list_does_not_stop_the_approval(in_approval, driver, caplog):
    application = in_approval(market_role="MEM")
    driver.take(application, "approval_dip_manager", Action.APPROVE)
    DistributionList.objects.filter(code=REC_INDUSTRY_PARTIES).delete()

    driver.take(application, REC, Action.APPROVE)

    application.refresh_from_db()
    assert application.status == ApplicationStatus.QUALIFIED
    assert current(Register.REC_PARTY, application) is not None
    assert set(OutboundEmail.objects.values_list("list_code", flat=True)) == {REC_CONTRACT_MANAGER}
    assert any(REC_INDUSTRY_PARTIES in r.getMessage() for r in caplog.records)


# --- qualification and activation ----------------------------------------------------------------------


def test_the_last_approval_writes_mhhs_qualified_with_every_bodys_conditions(in_approval, driver):
    application = in_approval(market_role="SUP")
    driver.take(application, "approval_dip_manager", Action.APPROVE_WITH_CONDITIONS, comment="Rerun DIP flow 7.")
    driver.take(application, REC, Action.APPROVE_WITH_CONDITIONS, comment=CONDITIONS)
    assert current(Register.MHHS, application) is None

    driver.take(application, "approval_bsc_pab", Action.APPROVE, comment="Approved at the meeting.")

    application.refresh_from_db()
    assert application.status == ApplicationStatus.QUALIFIED
    entry = entry_of(Register.MHHS, application)
    assert entry.status == EntryStatus.QUALIFIED
    assert entry.conditions == f"DIP Manager approval: Rerun DIP flow 7.\n\nREC Code Manager approval: {CONDITIONS}"
    assert entry.effective_date == uk_today()
    assert RegisterEntry.objects.filter(register=Register.MHHS).count() == 1


@pytest.mark.parametrize("last", ["approval_dip_manager", "approval_rec_code_manager"])
def test_whichever_approval_comes_last_qualifies(in_approval, driver, last):
    application = in_approval(market_role="MEM")  # the DIP Manager and the REC Code Manager
    first = next(code for code in ("approval_dip_manager", REC) if code != last)
    driver.take(application, first, Action.APPROVE)
    assert current(Register.MHHS, application) is None

    driver.take(application, last, Action.APPROVE)

    assert entry_of(Register.MHHS, application).status == EntryStatus.QUALIFIED


def test_a_data_service_needs_no_rec_approval_and_is_not_on_the_rec_party_register(in_approval, driver):
    application = in_approval(market_role="ADS")  # the DIP Manager and BSC PAB

    driver.take(application, "approval_dip_manager", Action.APPROVE)
    driver.take(application, "approval_bsc_pab", Action.APPROVE)

    assert entry_of(Register.MHHS, application).status == EntryStatus.QUALIFIED
    assert current(Register.REC_PARTY, application) is None
    assert not OutboundEmail.objects.exists()


def test_a_deferral_or_a_rejection_writes_nothing(in_approval, driver):
    application = in_approval(market_role="MEM")

    driver.take(application, REC, Action.DEFER, comment="Come back with the QT-114 rerun.")
    other = in_approval(market_role="SUP")
    driver.take(other, REC, Action.REJECT, comment="The Final QAD is not complete.")

    assert not RegisterEntry.objects.exists()
    assert not OutboundEmail.objects.exists()


def test_service_activation_writes_active_and_keeps_the_history(in_approval, driver, advance):
    application = in_approval(market_role="MEM")
    driver.take(application, "approval_dip_manager", Action.APPROVE)
    driver.take(application, REC, Action.APPROVE_WITH_CONDITIONS, comment=CONDITIONS)
    qualified = entry_of(Register.MHHS, application)

    advance(application)

    application.refresh_from_db()
    assert application.status == ApplicationStatus.ACTIVE
    active = entry_of(Register.MHHS, application)
    assert active.status == EntryStatus.ACTIVE
    assert active.previous == qualified
    assert active.conditions == qualified.conditions  # the conditions still bind an active participant
    qualified.refresh_from_db()
    assert not qualified.is_current and qualified.superseded_at == active.recorded_at
    assert qualified.status == EntryStatus.QUALIFIED  # never overwritten
    # The REC Party Register is untouched by activation.
    assert RegisterEntry.objects.filter(register=Register.REC_PARTY).count() == 1
    assert list(
        AuditEvent.objects.filter(action="register.record").order_by("sequence").values_list("after__status", flat=True)
    ) == ["rec_approved", "qualified", "active"]


def test_a_transition_that_fails_after_the_register_changed_leaves_nothing(in_approval, driver, monkeypatch):
    application = in_approval(market_role="MEM")
    driver.take(application, "approval_dip_manager", Action.APPROVE)
    counts = (RegisterEntry.objects.count(), OutboundEmail.objects.count(), DBTaskResult.objects.count())

    def fail(*args, **kwargs):
        assert RegisterEntry.objects.filter(register=Register.MHHS).exists()
        raise RuntimeError("the mail relay is misconfigured")

    monkeypatch.setattr(qualification_services, "_notify_newly_available", fail)
    with pytest.raises(RuntimeError):
        driver.take(application, REC, Action.APPROVE)

    assert (RegisterEntry.objects.count(), OutboundEmail.objects.count(), DBTaskResult.objects.count()) == counts


# --- register_record itself ----------------------------------------------------------------------------


@pytest.fixture
def application(make_application):
    return make_application(route="sit", market_role="MEM")


def test_recording_the_same_status_again_changes_nothing(application, staff):
    actor = staff(Role.REC_CODE_MANAGER)
    first = register_record(
        actor=actor, application=application, register=Register.REC_PARTY, status=EntryStatus.REC_APPROVED
    )

    again = register_record(
        actor=actor, application=application, register=Register.REC_PARTY, status=EntryStatus.REC_APPROVED
    )

    assert again == first
    assert RegisterEntry.objects.count() == 1
    assert AuditEvent.objects.filter(action="register.record").count() == 1


def test_each_change_is_a_new_entry_and_the_history_is_never_overwritten(application, staff):
    actor = staff(Role.SERVICE_ACTIVATION)
    steps = [EntryStatus.QUALIFIED, EntryStatus.ACTIVE, EntryStatus.WITHDRAWN]
    entries = [
        register_record(
            actor=actor, application=application, register=Register.MHHS, status=s, effective_date=date(2027, 1, n + 1)
        )
        for n, s in enumerate(steps)
    ]
    values_before = [
        RegisterEntry.objects.filter(pk=e.pk).values("status", "effective_date", "organisation_name").get()
        for e in entries
    ]

    history = list(RegisterEntry.objects.filter(register=Register.MHHS).order_by("pk"))

    assert [e.status for e in history] == steps
    assert [e.is_current for e in history] == [False, False, True]
    assert [e.previous_id for e in history] == [None, entries[0].pk, entries[1].pk]
    assert all(e.superseded_at is not None for e in history[:2])
    assert [
        RegisterEntry.objects.filter(pk=e.pk).values("status", "effective_date", "organisation_name").get()
        for e in entries
    ] == values_before


def test_the_snapshot_keeps_what_was_true_at_the_time(application, staff):
    entry = register_record(
        actor=staff(Role.REC_CODE_MANAGER),
        application=application,
        register=Register.REC_PARTY,
        status=EntryStatus.REC_APPROVED,
    )
    application.organisation.name = "Northern Lights Energy Group plc"
    application.organisation.save()
    application.market_role.name = "Metering Equipment Manager (renamed)"
    application.market_role.save()

    entry.refresh_from_db()
    assert entry.organisation_name == "Northern Lights Energy Ltd"
    assert entry.market_role_name != "Metering Equipment Manager (renamed)"


@pytest.mark.parametrize(
    ("register", "status"),
    [("rec_party", "qualified"), ("mhhs", "rec_approved"), ("mhhs", "approved"), ("elsewhere", "qualified")],
)
def test_a_status_the_register_does_not_record_is_refused(application, staff, register, status):
    with pytest.raises(InvalidInput):
        register_record(actor=staff(Role.REC_CODE_MANAGER), application=application, register=register, status=status)
    assert not RegisterEntry.objects.exists()
    assert not AuditEvent.objects.filter(action="register.record").exists()


# --- the database's own rules --------------------------------------------------------------------------


def _entry(application: Application, **values: object) -> RegisterEntry:
    fields: dict[str, object] = {
        "application": application,
        "organisation": application.organisation,
        "organisation_name": application.organisation.name,
        "mpid_code": application.mpid.code,
        "market_role_code": application.market_role.code,
        "market_role_name": application.market_role.name,
        "register": Register.MHHS,
        "status": EntryStatus.QUALIFIED,
        "effective_date": date(2027, 1, 4),
        "recorded_at": timezone.now(),
    }
    fields.update(values)
    return RegisterEntry.objects.create(**fields)


def test_the_database_allows_one_current_entry_per_register_mpid_and_role(application):
    _entry(application)
    with pytest.raises(IntegrityError), transaction.atomic():
        _entry(application, status=EntryStatus.ACTIVE)
    _entry(application, register=Register.REC_PARTY, status=EntryStatus.REC_APPROVED)  # another register
    _entry(application, status=EntryStatus.ACTIVE, is_current=False, superseded_at=timezone.now())  # history


@pytest.mark.parametrize(
    "values",
    [
        {"register": Register.REC_PARTY, "status": EntryStatus.QUALIFIED},
        {"register": Register.MHHS, "status": EntryStatus.REC_APPROVED},
        {"status": "approved"},
        {"is_current": False},
        {"superseded_at": timezone.now()},
    ],
)
def test_the_database_refuses_an_invalid_entry(application, values):
    with pytest.raises(IntegrityError), transaction.atomic():
        _entry(application, **values)


def test_the_database_refuses_to_change_an_entry_except_to_supersede_it(application):
    entry = _entry(application)

    for change in ({"organisation_name": "Someone else"}, {"status": EntryStatus.ACTIVE}, {"conditions": "New."}):
        with pytest.raises(DatabaseError), transaction.atomic():
            RegisterEntry.objects.filter(pk=entry.pk).update(**change)
    with pytest.raises(DatabaseError), transaction.atomic():
        RegisterEntry.objects.filter(pk=entry.pk).update(
            is_current=False, superseded_at=timezone.now(), effective_date=date(2020, 1, 1)
        )

    RegisterEntry.objects.filter(pk=entry.pk).update(is_current=False, superseded_at=timezone.now())
    with pytest.raises(DatabaseError), transaction.atomic():  # and never back
        RegisterEntry.objects.filter(pk=entry.pk).update(is_current=True, superseded_at=None)
    entry.refresh_from_db()
    assert (entry.organisation_name, entry.status, entry.is_current) == (
        "Northern Lights Energy Ltd",
        EntryStatus.QUALIFIED,
        False,
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite keeps DELETE possible (the tests empty tables)")
def test_the_database_refuses_to_delete_an_entry(application):
    entry = _entry(application)
    with pytest.raises(DatabaseError), transaction.atomic():
        RegisterEntry.objects.filter(pk=entry.pk).delete()
    assert RegisterEntry.objects.filter(pk=entry.pk).exists()
