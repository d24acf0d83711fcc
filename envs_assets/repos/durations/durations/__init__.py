"""Durations ("1h30m", "PT1H30M") and calendar helpers."""

from durations.calendar import (
    add_business_days,
    add_months,
    business_days_between,
    days_in_month,
    is_leap_year,
    parse_date,
    week_of_month,
)
from durations.duration import UNITS, Duration, parse, parse_iso

__all__ = [
    "UNITS",
    "Duration",
    "add_business_days",
    "add_months",
    "business_days_between",
    "days_in_month",
    "is_leap_year",
    "parse",
    "parse_date",
    "parse_iso",
    "week_of_month",
]
__version__ = "2.0.1"
