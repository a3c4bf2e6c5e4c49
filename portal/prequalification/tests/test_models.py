"""The invariants the database itself keeps, whatever code writes the rows."""

from datetime import date

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.prequalification.models import PqsSubmission, RelianceProposalItem, Wave

pytestmark = pytest.mark.django_db


@pytest.fixture
def pqs(make_application):
    return PqsSubmission.objects.create(application=make_application())


def _item(pqs, **overrides):
    values = {
        "pqs": pqs,
        "title": "Vendor flow management",
        "scope": "test_cases",
        "identifiers": ["QTC-1"],
        "relied_on": True,
        "provider_kind": "software_vendor",
        "provider_name": "Vendor Ltd",
        "rationale": "Tested by the vendor.",
    }
    values.update(overrides)
    return RelianceProposalItem.objects.create(**values)


def _assert_refused(create, **values):
    with pytest.raises(IntegrityError), transaction.atomic():
        create(**values)


def test_a_valid_item_is_stored(pqs):
    assert _item(pqs).decision == "pending"


@pytest.mark.parametrize(
    "overrides",
    [
        {"title": ""},
        {"rationale": ""},
        {"scope": "everything"},
        {"identifiers": []},
        {"provider_kind": "astrologer"},
        {"provider_kind": ""},  # relied on, but whose testing?
        {"provider_name": ""},
        {"decision": "maybe"},
        {"decision": "accepted"},  # decided by nobody
        {"decision": "rejected", "decided_at": "now", "decided_by": "user"},  # without a reason
        {"decision": "changes_requested", "decided_at": "now", "decided_by": "user"},
        {"decision_reason": "A reason while pending"},
        {"decided_at": "now"},
    ],
)
def test_inconsistent_items_are_refused(pqs, member, overrides):
    values = {k: (timezone.now() if v == "now" else member if v == "user" else v) for k, v in overrides.items()}
    _assert_refused(lambda **v: _item(pqs, **v), **values)


def test_an_item_not_relied_on_needs_no_provider(pqs):
    assert _item(pqs, relied_on=False, provider_kind="", provider_name="").pk


def test_a_decided_item_records_who_and_when(pqs, member):
    item = _item(pqs, decision="rejected", decision_reason="Not covered.", decided_by=member, decided_at=timezone.now())
    assert item.pk


@pytest.mark.parametrize(
    "values",
    [
        {"pit_start_date": date(2027, 2, 1), "pit_completion_date": date(2027, 1, 1)},
        {"qt_start_date": date(2027, 2, 1), "qt_completion_date": date(2027, 1, 1)},
        {"qt_completion_date": date(2027, 6, 1), "target_migration_date": date(2027, 6, 1)},
        {"status": "archived"},
        {"status": "submitted"},  # never submitted
        {"version": 1},  # a version without a submission
    ],
)
def test_inconsistent_pqs_rows_are_refused(make_application, values):
    application = make_application()
    _assert_refused(lambda **v: PqsSubmission.objects.create(application=application, **v), **values)


def test_one_pqs_per_application(pqs):
    _assert_refused(lambda: PqsSubmission.objects.create(application=pqs.application))


def test_a_wave_ends_after_it_starts():
    _assert_refused(
        lambda: Wave.objects.create(code="w9", name="Wave 9", starts_on=date(2027, 2, 1), ends_on=date(2027, 1, 1))
    )


def test_default_waves_are_loaded():
    assert list(Wave.objects.filter(is_active=True).values_list("code", flat=True)) == [
        "wave-1",
        "wave-2",
        "wave-3",
        "wave-4",
    ]
