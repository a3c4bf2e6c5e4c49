"""The pure rules: reading identifiers, completeness and the order of the dates."""

from datetime import date

import pytest

from portal.prequalification.rules import (
    IdentifierError,
    date_problems,
    describe_missing,
    missing_fields,
    parse_identifiers,
    reliance_required,
)


def test_identifiers_are_split_checked_and_deduplicated():
    assert parse_identifiers("TS-001, TS-002;TS-003\nTS-001  QTC/SUP/1.2") == [
        "TS-001",
        "TS-002",
        "TS-003",
        "QTC/SUP/1.2",
    ]
    assert parse_identifiers(["TS-001", "TS-002 TS-003"]) == ["TS-001", "TS-002", "TS-003"]


@pytest.mark.parametrize("value", ["", " , ; ", "TS-001 ../etc", "-leading", "a" * 61, "TS#1", ["ok", "bad\x00"]])
def test_bad_identifiers_are_refused(value):
    with pytest.raises(IdentifierError):
        parse_identifiers(value)


def test_too_many_identifiers_are_refused():
    with pytest.raises(IdentifierError, match="500 identifiers or fewer"):
        parse_identifiers(" ".join(f"TS-{n}" for n in range(501)))


COMPLETE = {
    "preferred_wave": "wave-1",
    "pit_approach": "x",
    "pit_start_date": "2027-01-01",
    "pit_completion_date": "2027-02-01",
    "qt_approach": "y",
    "qt_start_date": "2027-03-01",
    "qt_completion_date": "2027-04-01",
    "target_migration_date": "2027-05-01",
}


def test_a_complete_pqs_misses_nothing():
    assert missing_fields(COMPLETE, wave_active=True, relied_on_items=0, reliance_needed=False) == []


def test_missing_fields_in_form_order_with_messages():
    values = {**COMPLETE, "pit_approach": "  ", "target_migration_date": None}
    missing = missing_fields(values, wave_active=False, relied_on_items=0, reliance_needed=True)
    assert [m.field for m in missing] == ["preferred_wave", "pit_approach", "target_migration_date", "items"]
    assert describe_missing(missing).startswith(
        "The PQS is not complete yet: the preferred wave is no longer offered: select another wave; enter the PIT"
    )


def test_nothing_saved_misses_everything():
    assert len(missing_fields(None, wave_active=False, relied_on_items=0, reliance_needed=False)) == 8


def test_dates_in_order_have_no_problems():
    dates = {
        "pit_start_date": date(2027, 1, 1),
        "pit_completion_date": date(2027, 1, 1),
        "qt_start_date": date(2027, 2, 1),
        "qt_completion_date": date(2027, 3, 1),
        "target_migration_date": date(2027, 3, 2),
    }
    assert date_problems(dates) == []
    assert date_problems({"pit_start_date": None}) == []


def test_dates_out_of_range_are_reported_before_their_order():
    problems = date_problems({"pit_start_date": date(2041, 1, 1), "pit_completion_date": date(2027, 1, 1)})
    assert [(p.field, p.message) for p in problems] == [
        ("pit_start_date", "PIT start date must be between 2020 and 2040")
    ]


def test_reliance_is_required_on_the_new_entrant_route_only(settings):
    assert reliance_required("new_entrant_ldso")
    assert not reliance_required("non_sit_supplier_agent")
    settings.PORTAL_PQS_RELIANCE_REQUIRED_ROUTES = ["non_standard"]
    assert reliance_required("non_standard")
    assert not reliance_required("new_entrant_ldso")
