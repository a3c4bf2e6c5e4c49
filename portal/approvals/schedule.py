"""Where the meeting rule puts each month's meeting: pure date arithmetic, no database."""

import calendar
from collections.abc import Iterator
from datetime import date, timedelta

from portal.core.calendar import WorkingCalendar

LAST = -1


def month_start(day: date) -> date:
    return day.replace(day=1)


def months_from(first: date, count: int) -> Iterator[date]:
    """The first days of `count` months, starting with the month of `first`."""
    year, month = first.year, first.month
    for _ in range(count):
        yield date(year, month, 1)
        month += 1
        if month > 12:
            year, month = year + 1, 1


def nth_weekday(year: int, month: int, weekday: int, week_of_month: int) -> date:
    """The first, second, third or fourth (1–4) or last (-1) `weekday` (0 = Monday) of the month."""
    if week_of_month == LAST:
        last_day = date(year, month, calendar.monthrange(year, month)[1])
        return last_day - timedelta(days=(last_day.weekday() - weekday) % 7)
    if not 1 <= week_of_month <= 4:
        raise ValueError("week_of_month is 1 to 4, or -1 for the last.")
    first_day = date(year, month, 1)
    return first_day + timedelta(days=(weekday - first_day.weekday()) % 7 + 7 * (week_of_month - 1))


def rule_meeting_day(month: date, *, weekday: int, week_of_month: int, working: WorkingCalendar) -> date:
    """The month's meeting day under the rule. When that day is not a working day (Christmas Day on the
    last Thursday, New Year's Day on the first) the meeting falls on the same weekday a week earlier, as
    the Board's December meetings usually did, or failing that a week later, keeping it in the month;
    failing both, on the nearest working day before it."""
    day = nth_weekday(month.year, month.month, weekday, week_of_month)
    if working.is_working_day(day):
        return day
    for other in (day - timedelta(days=7), day + timedelta(days=7)):
        if other.month == month.month and working.is_working_day(other):
            return other
    return working.previous_working_day(day)


def paper_deadline_for(meeting_day: date, working_days: int, *, working: WorkingCalendar) -> date:
    """Papers are due `working_days` working days before the meeting (on the meeting's day for 0)."""
    return working.add_working_days(meeting_day, -working_days)
