"""Working days in England and Wales, and where the meeting rule puts each month's meeting: pure
functions, no database."""

from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.approvals.schedule import months_from, nth_weekday, paper_deadline_for, rule_meeting_day
from portal.core import calendar
from portal.core.calendar import (
    WorkingCalendar,
    add_working_days,
    bank_holiday_name,
    is_working_day,
    next_working_day,
    non_working_reason,
    previous_working_day,
    uk_today,
    working_days_between,
)

THURSDAY, LAST = 3, -1


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 7, 30), True),  # a Thursday
        (date(2026, 8, 1), False),  # Saturday
        (date(2026, 8, 2), False),  # Sunday
        (date(2026, 4, 3), False),  # Good Friday
        (date(2026, 4, 6), False),  # Easter Monday
        (date(2026, 5, 4), False),  # Early May bank holiday
        (date(2026, 5, 25), False),  # Spring bank holiday
        (date(2026, 8, 31), False),  # Summer bank holiday (England, not Scotland's first Monday)
        (date(2026, 8, 3), True),  # Scotland's summer holiday is not England's
        (date(2026, 12, 25), False),  # Christmas Day, a Friday
        (date(2026, 12, 28), False),  # Boxing Day falls on Saturday: substitute Monday
        (date(2026, 12, 29), True),
        (date(2027, 12, 27), False),  # Christmas Day on Saturday: substitute Monday 27th
        (date(2027, 12, 28), False),  # Boxing Day on Sunday: substitute Tuesday 28th
        (date(2027, 12, 29), True),
        (date(2028, 1, 3), False),  # New Year's Day 2028 is a Saturday: substitute Monday
        (date(2022, 9, 19), False),  # the State Funeral of Queen Elizabeth II, a one-off
        (date(2023, 5, 8), False),  # the Coronation of King Charles III, a one-off
        (date(2026, 1, 2), True),  # 2 January is a holiday in Scotland only
        (date(2026, 3, 17), True),  # St Patrick's Day is a holiday in Northern Ireland only
    ],
)
def test_working_days_follow_england_and_wales(day, working):
    assert is_working_day(day) is working


def test_bank_holidays_are_named():
    assert bank_holiday_name(date(2027, 12, 27)) == "Christmas Day (observed)"
    assert bank_holiday_name(date(2027, 12, 29)) == ""
    assert non_working_reason(date(2026, 8, 1)) == "a Saturday"
    assert non_working_reason(date(2026, 12, 25)) == "Christmas Day, a bank holiday"
    assert non_working_reason(date(2026, 7, 30)) == ""


def test_extra_non_working_days_count_as_closed():
    closed = {date(2026, 12, 24)}
    assert is_working_day(date(2026, 12, 24))
    assert not is_working_day(date(2026, 12, 24), closed=closed)
    assert "not a working day" in non_working_reason(date(2026, 12, 24), closed=closed)
    # Wednesday 23 December 2026 + 1 working day skips the office closure, Christmas and Boxing Day (observed).
    assert add_working_days(date(2026, 12, 23), 1, closed=closed) == date(2026, 12, 29)
    assert WorkingCalendar(frozenset(closed)).add_working_days(date(2026, 12, 23), 1) == date(2026, 12, 29)


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        (date(2026, 7, 30), 0, date(2026, 7, 30)),
        (date(2026, 8, 1), 0, date(2026, 8, 1)),  # zero leaves even a Saturday as it is
        (date(2026, 7, 30), 1, date(2026, 7, 31)),
        (date(2026, 7, 31), 1, date(2026, 8, 3)),  # Friday + 1 is Monday
        (date(2026, 8, 1), 1, date(2026, 8, 3)),  # from a Saturday
        (date(2026, 8, 1), -1, date(2026, 7, 31)),
        (date(2026, 7, 30), -5, date(2026, 7, 23)),  # the paper deadline a week before a Thursday meeting
        (date(2026, 9, 3), -5, date(2026, 8, 26)),  # back over the summer bank holiday (Monday 31 August)
        (date(2027, 12, 24), 1, date(2027, 12, 29)),  # over both substitute days
        (date(2027, 12, 29), -1, date(2027, 12, 24)),
        (date(2026, 12, 24), 1, date(2026, 12, 29)),  # over Christmas and Boxing Day (observed)
        (date(2027, 1, 4), -1, date(2026, 12, 31)),  # back across the year end, over New Year's Day
        (date(2026, 12, 31), 2, date(2027, 1, 5)),  # forward across the year end
        (date(2026, 4, 2), 1, date(2026, 4, 7)),  # over Easter
    ],
)
def test_add_working_days(start, count, expected):
    assert add_working_days(start, count) == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 7, 30), date(2026, 7, 30), 0),
        (date(2026, 7, 23), date(2026, 7, 30), 5),
        (date(2026, 7, 30), date(2026, 7, 23), -5),
        (date(2026, 7, 31), date(2026, 8, 2), 0),  # Friday to Sunday: no working day after Friday
        (date(2026, 8, 1), date(2026, 7, 31), -1),
        (date(2027, 12, 24), date(2027, 12, 31), 3),  # 29, 30, 31 December
        (date(2026, 12, 21), date(2027, 1, 4), 7),  # 22, 23, 24, 29, 30, 31 December, 4 January
    ],
)
def test_working_days_between(start, end, expected):
    assert working_days_between(start, end) == expected


@settings(max_examples=300, deadline=None)
@given(
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
    count=st.integers(min_value=-400, max_value=400),
)
def test_working_days_between_undoes_add_working_days(start, count):
    end = add_working_days(start, count)
    assert working_days_between(start, end) == count
    assert is_working_day(end) or count == 0
    assert (end > start) == (count > 0)


def test_next_and_previous_working_day():
    assert next_working_day(date(2027, 12, 25)) == date(2027, 12, 29)
    assert previous_working_day(date(2027, 12, 28)) == date(2027, 12, 24)
    assert next_working_day(date(2026, 7, 30)) == date(2026, 7, 30)


def test_far_too_many_working_days_is_a_mistake():
    with pytest.raises(ValueError, match="At most"):
        add_working_days(date(2026, 1, 1), calendar.MAX_WORKING_DAYS + 1)


def test_today_is_the_date_in_london_not_on_the_server_clock():
    # 23:30 UTC on 30 June is already 1 July in London (BST).
    with mock.patch("django.utils.timezone.now", return_value=datetime(2026, 6, 30, 23, 30, tzinfo=UTC)):
        assert uk_today() == date(2026, 7, 1)
    # In winter London is on UTC.
    with mock.patch("django.utils.timezone.now", return_value=datetime(2026, 12, 31, 23, 30, tzinfo=UTC)):
        assert uk_today() == date(2026, 12, 31)


# --- the meeting rule --------------------------------------------------------------------------------


def test_nth_weekday_of_a_month():
    assert nth_weekday(2026, 7, THURSDAY, LAST) == date(2026, 7, 30)
    assert nth_weekday(2026, 7, THURSDAY, 1) == date(2026, 7, 2)
    assert nth_weekday(2026, 7, THURSDAY, 2) == date(2026, 7, 9)
    assert nth_weekday(2026, 4, THURSDAY, LAST) == date(2026, 4, 30)  # the month's last day
    assert nth_weekday(2026, 10, 1, LAST) == date(2026, 10, 27)  # last Tuesday, as the REC PAB meets
    with pytest.raises(ValueError, match="week_of_month"):
        nth_weekday(2026, 7, THURSDAY, 5)


def test_the_rule_moves_a_meeting_off_a_bank_holiday_and_keeps_it_in_its_month():
    working = WorkingCalendar()
    # The last Thursday of December 2025 is Christmas Day: the meeting is a week earlier.
    assert rule_meeting_day(date(2025, 12, 1), weekday=THURSDAY, week_of_month=LAST, working=working) == date(
        2025, 12, 18
    )
    # The first Thursday of January 2026 is New Year's Day: a week later, still in January.
    assert rule_meeting_day(date(2026, 1, 1), weekday=THURSDAY, week_of_month=1, working=working) == date(2026, 1, 8)
    # An ordinary month.
    assert rule_meeting_day(date(2026, 7, 1), weekday=THURSDAY, week_of_month=LAST, working=working) == date(
        2026, 7, 30
    )
    # An extra closure on the rule's day counts like a bank holiday.
    closed = WorkingCalendar(frozenset({date(2026, 7, 30)}))
    assert rule_meeting_day(date(2026, 7, 1), weekday=THURSDAY, week_of_month=LAST, working=closed) == date(2026, 7, 23)


def test_paper_deadline_is_counted_back_in_working_days():
    working = WorkingCalendar()
    assert paper_deadline_for(date(2026, 7, 30), 5, working=working) == date(2026, 7, 23)
    assert paper_deadline_for(date(2026, 7, 30), 0, working=working) == date(2026, 7, 30)
    # The December 2027 meeting (last Thursday, the 30th): back over both substitute days.
    assert paper_deadline_for(date(2027, 12, 30), 5, working=working) == date(2027, 12, 21)


def test_months_from_crosses_the_year_end():
    assert list(months_from(date(2026, 11, 22), 3)) == [date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1)]
    assert len(list(months_from(date(2026, 1, 31), 12))) == 12
    assert list(months_from(date(2026, 1, 1), 0)) == []
    assert timedelta(0) == date(2026, 1, 1) - next(months_from(date(2026, 1, 15), 1))
