"""Date helpers: month arithmetic, business days and date parsing."""

from __future__ import annotations

import datetime as dt
import re

__all__ = [
    "is_leap_year",
    "days_in_month",
    "add_months",
    "business_days_between",
    "add_business_days",
    "parse_date",
    "week_of_month",
]

_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def is_leap_year(year):
    """Gregorian leap years: divisible by 4, except centuries not divisible by 400."""
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_in_month(year, month):
    """Number of days in ``month`` (1-12) of ``year``."""
    if not 1 <= month <= 12:
        raise ValueError(f"month must be in 1..12, got {month}")
    if month == 2 and is_leap_year(year):
        return 29
    return _DAYS[month - 1]


def add_months(date, months):
    """``date`` moved by ``months``; the day is clamped to the end of the month."""
    index = date.year * 12 + (date.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    day = min(date.day, days_in_month(year, month))
    return date.replace(year=year, month=month, day=day)


def business_days_between(start, end, holidays=()):
    """Weekdays in ``[start, end)`` that are not holidays; negative if ``end < start``."""
    if end < start:
        return -business_days_between(end, start, holidays)
    holidays = set(holidays)
    count = 0
    day = start
    while day < end:
        if day.weekday() < 5 and day not in holidays:
            count += 1
        day += dt.timedelta(days=1)
    return count


def add_business_days(date, days, holidays=()):
    """The date ``days`` business days after ``date`` (before it when negative)."""
    holidays = set(holidays)
    step = 1 if days >= 0 else -1
    remaining = abs(days)
    current = date
    while remaining > 0:
        current += dt.timedelta(days=step)
        if current.weekday() < 5 and current not in holidays:
            remaining -= 1
    return current


def parse_date(text):
    """Parse ``YYYY-MM-DD`` strictly (two-digit month and day, valid calendar date)."""
    match = _DATE.match(text.strip())
    if not match:
        raise ValueError(f"expected YYYY-MM-DD, got {text!r}")
    year, month, day = (int(g) for g in match.groups())
    if not 1 <= day <= days_in_month(year, month):
        raise ValueError(f"day out of range for {year}-{month:02d}: {day}")
    return dt.date(year, month, day)


def week_of_month(date):
    """1-based week of the month, weeks starting on Monday."""
    first = date.replace(day=1)
    return (date.day + first.weekday() - 1) // 7 + 1
