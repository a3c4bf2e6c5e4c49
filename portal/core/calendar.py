"""Working days in England and Wales.

A working day is Monday to Friday, not a bank holiday in England and Wales (the `holidays` package's
calendar, which includes substitute days such as Monday 27 and Tuesday 28 December 2027, and one-off
holidays such as a state funeral or a coronation), and not one of the extra non-working days an
administrator adds (`approvals.NonWorkingDay`, for a day the Code Bodies close that is not a bank
holiday; passed in here as `closed`, so that everything in this module stays pure and needs no
database).

Deadlines in the portal are dates in the UK (Europe/London): `uk_today()` is today there, whatever the
server's clock zone.

Conventions, the ones people use when they say "five working days before the meeting":
- `add_working_days(day, n)` counts from the day after `day` (or before, for a negative `n`), and only
  working days count: `add_working_days(Thursday, -5)` is the Thursday before, when no holiday falls
  between. `day` itself need not be a working day. `n == 0` answers `day` unchanged.
- `working_days_between(start, end)` is the number of working days after `start` up to and including
  `end` (negative when `end` is before `start`), so that `working_days_between(d, add_working_days(d,
  n)) == n` for every `n`: "the deadline is in 3 working days".
"""

import functools
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import holidays
from django.utils import timezone

UK = ZoneInfo("Europe/London")
# Far beyond any deadline the portal sets; a larger count is a mistake, not a plan.
MAX_WORKING_DAYS = 5000


def uk_today() -> date:
    """Today's date in the UK."""
    return timezone.localdate(timezone=UK)


@functools.lru_cache(maxsize=64)
def _bank_holidays(year: int) -> dict[date, str]:
    calendar = holidays.country_holidays("GB", subdiv="ENG", years=year)
    return {day: str(name) for day, name in calendar.items()}


def bank_holiday_name(day: date) -> str:
    """The name of the bank holiday in England and Wales on `day` ("Boxing Day (observed)"), or ""."""
    return _bank_holidays(day.year).get(day, "")


def is_bank_holiday(day: date) -> bool:
    return day in _bank_holidays(day.year)


def is_working_day(day: date, *, closed: Collection[date] = ()) -> bool:
    """Monday to Friday, not a bank holiday in England and Wales, and not one of the `closed` days."""
    return day.weekday() < 5 and not is_bank_holiday(day) and day not in closed


def non_working_reason(day: date, *, closed: Collection[date] = ()) -> str:
    """Why `day` is not a working day, in words ("a Saturday", "Christmas Day, a bank holiday"), or ""."""
    if day.weekday() >= 5:
        return f"a {day:%A}"
    name = bank_holiday_name(day)
    if name:
        return f"{name}, a bank holiday"
    if day in closed:
        return "a day the portal's calendar marks as not a working day"
    return ""


def add_working_days(day: date, count: int, *, closed: Collection[date] = ()) -> date:
    """The date `count` working days after `day` (before it, for a negative `count`)."""
    if abs(count) > MAX_WORKING_DAYS:
        raise ValueError(f"At most {MAX_WORKING_DAYS} working days, not {count}.")
    step = timedelta(days=1 if count > 0 else -1)
    remaining = abs(count)
    result = day
    while remaining:
        result += step
        if is_working_day(result, closed=closed):
            remaining -= 1
    return result


def working_days_between(start: date, end: date, *, closed: Collection[date] = ()) -> int:
    """How many working days `end` is after `start`: the working days after `start` up to and including
    `end`; when `end` is earlier, minus the working days from `end` up to but not including `start`.
    Either way `working_days_between(d, add_working_days(d, n)) == n`."""
    if (end - start).days > MAX_WORKING_DAYS * 2 or (start - end).days > MAX_WORKING_DAYS * 2:
        raise ValueError("The two dates are too far apart.")
    if end >= start:
        days = (start + timedelta(days=i) for i in range(1, (end - start).days + 1))
        return sum(1 for day in days if is_working_day(day, closed=closed))
    days = (end + timedelta(days=i) for i in range((start - end).days))
    return -sum(1 for day in days if is_working_day(day, closed=closed))


def next_working_day(day: date, *, closed: Collection[date] = ()) -> date:
    """`day` itself if it is a working day, else the first working day after it."""
    while not is_working_day(day, closed=closed):
        day += timedelta(days=1)
    return day


def previous_working_day(day: date, *, closed: Collection[date] = ()) -> date:
    """`day` itself if it is a working day, else the last working day before it."""
    while not is_working_day(day, closed=closed):
        day -= timedelta(days=1)
    return day


@dataclass(frozen=True)
class WorkingCalendar:
    """The working-day functions with one set of extra non-working days bound in: what the approvals
    app hands out (`approvals.selectors.working_calendar()`), loaded once per request or job."""

    closed: frozenset[date] = field(default_factory=frozenset)

    def is_working_day(self, day: date) -> bool:
        return is_working_day(day, closed=self.closed)

    def non_working_reason(self, day: date) -> str:
        return non_working_reason(day, closed=self.closed)

    def add_working_days(self, day: date, count: int) -> date:
        return add_working_days(day, count, closed=self.closed)

    def working_days_between(self, start: date, end: date) -> int:
        return working_days_between(start, end, closed=self.closed)

    def next_working_day(self, day: date) -> date:
        return next_working_day(day, closed=self.closed)

    def previous_working_day(self, day: date) -> date:
        return previous_working_day(day, closed=self.closed)
