import datetime as dt

import pytest

from durations import (
    add_business_days,
    add_months,
    business_days_between,
    days_in_month,
    is_leap_year,
    parse_date,
    week_of_month,
)


@pytest.mark.parametrize(
    ("year", "leap"), [(2024, True), (2023, False), (1900, False), (2000, True), (2100, False)]
)
def test_is_leap_year(year, leap):
    assert is_leap_year(year) is leap


def test_days_in_month():
    assert days_in_month(2024, 2) == 29
    assert days_in_month(2023, 2) == 28
    assert days_in_month(2023, 4) == 30
    assert days_in_month(2023, 12) == 31


def test_days_in_month_bad_month():
    with pytest.raises(ValueError):
        days_in_month(2023, 13)


def test_add_months_simple():
    assert add_months(dt.date(2023, 1, 15), 1) == dt.date(2023, 2, 15)


def test_add_months_clamps_day():
    assert add_months(dt.date(2023, 1, 31), 1) == dt.date(2023, 2, 28)
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)


def test_add_months_across_years():
    assert add_months(dt.date(2023, 11, 30), 3) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2023, 1, 10), -1) == dt.date(2022, 12, 10)
    assert add_months(dt.date(2023, 5, 10), -17) == dt.date(2021, 12, 10)


def test_add_months_zero():
    assert add_months(dt.date(2023, 3, 31), 0) == dt.date(2023, 3, 31)


def test_business_days_in_a_week():
    monday = dt.date(2024, 3, 4)
    assert business_days_between(monday, monday + dt.timedelta(days=7)) == 5


def test_business_days_excludes_end():
    monday = dt.date(2024, 3, 4)
    assert business_days_between(monday, dt.date(2024, 3, 5)) == 1
    assert business_days_between(monday, monday) == 0


def test_business_days_with_holiday():
    monday = dt.date(2024, 3, 4)
    holiday = dt.date(2024, 3, 6)
    assert business_days_between(monday, dt.date(2024, 3, 11), [holiday]) == 4


def test_business_days_reversed_is_negative():
    assert business_days_between(dt.date(2024, 3, 11), dt.date(2024, 3, 4)) == -5


def test_add_business_days_skips_weekend():
    friday = dt.date(2024, 3, 8)
    assert add_business_days(friday, 1) == dt.date(2024, 3, 11)
    assert add_business_days(friday, 0) == friday


def test_add_business_days_backwards():
    monday = dt.date(2024, 3, 11)
    assert add_business_days(monday, -1) == dt.date(2024, 3, 8)


def test_add_business_days_skips_holiday():
    friday = dt.date(2024, 3, 8)
    assert add_business_days(friday, 1, holidays=[dt.date(2024, 3, 11)]) == dt.date(2024, 3, 12)


def test_parse_date():
    assert parse_date("2024-02-29") == dt.date(2024, 2, 29)


@pytest.mark.parametrize("text", ["2023-02-29", "2024-2-01", "2024-13-01", "24-01-01", "2024-04-31"])
def test_parse_date_rejects(text):
    with pytest.raises(ValueError):
        parse_date(text)


def test_week_of_month():
    assert week_of_month(dt.date(2024, 3, 1)) == 1  # a Friday
    assert week_of_month(dt.date(2024, 3, 4)) == 2  # the next Monday
    assert week_of_month(dt.date(2024, 4, 7)) == 1  # April 1st 2024 is a Monday
    assert week_of_month(dt.date(2024, 4, 8)) == 2
