"""Date arithmetic the rules need: working days and calendar months.

Working days here are Monday to Friday minus any dates the caller names as
holidays. China's official calendar also moves working days onto weekends
(调休); callers that need it exactly pass those in *holidays* and *workdays*.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection
from datetime import date, timedelta

__all__ = ["add_months", "add_working_days", "is_working_day", "working_days_between"]

_SATURDAY = 5


def is_working_day(
    day: date,
    *,
    holidays: Collection[date] = (),
    workdays: Collection[date] = (),
) -> bool:
    """Return whether *day* is a working day.

    *workdays* are weekend dates that are worked (调休); *holidays* are weekdays
    that are not.
    """
    if day in workdays:
        return True
    if day in holidays:
        return False
    return day.weekday() < _SATURDAY


def add_working_days(
    start: date,
    days: int,
    *,
    holidays: Collection[date] = (),
    workdays: Collection[date] = (),
) -> date:
    """Return the date *days* working days after *start* (``start`` itself not counted)."""
    if days < 0:
        msg = f"days must not be negative, not {days}"
        raise ValueError(msg)
    current = start
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if is_working_day(current, holidays=holidays, workdays=workdays):
            remaining -= 1
    return current


def working_days_between(
    start: date,
    end: date,
    *,
    holidays: Collection[date] = (),
    workdays: Collection[date] = (),
) -> int:
    """Count the working days after *start* up to and including *end* (0 if end <= start)."""
    count = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if is_working_day(current, holidays=holidays, workdays=workdays):
            count += 1
    return count


def add_months(start: date, months: int) -> date:
    """Return the same day *months* later, clamped to the end of a shorter month.

    ``add_months(date(2026, 1, 31), 1)`` is 28 February 2026.
    """
    month_index = start.month - 1 + months
    year = start.year + month_index // 12
    month = month_index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(start.day, last_day))
