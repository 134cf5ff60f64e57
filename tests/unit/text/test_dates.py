import datetime as dt

import pytest

from lienthong.text.dates import BirthDate, parse_birth_date, parse_date
from lienthong.text.errors import DateParseError, ParseError


@pytest.mark.parametrize(
    "raw", ["25/05/1985", "25/5/1985", "25-05-1985", "25.05.1985", "1985-05-25", "ngày 25 tháng 5 năm 1985"]
)
def test_day_precision_layouts(raw):
    assert parse_birth_date(raw) == BirthDate(1985, 5, 25, "day")


def test_dd_mm_is_primary_and_swap_is_flagged():
    parsed = parse_birth_date("03/04/1990")
    assert (parsed.day, parsed.month) == (3, 4)
    assert parsed.ambiguous_day_month
    assert not parse_birth_date("04/04/1990").ambiguous_day_month
    assert not parse_birth_date("1990-04-03").ambiguous_day_month


def test_only_mm_dd_valid_is_read_swapped():
    parsed = parse_birth_date("05/25/1985")
    assert (parsed.month, parsed.day, parsed.day_month_swapped) == (5, 25, True)
    assert not parsed.ambiguous_day_month


@pytest.mark.parametrize("raw", ["1985", "1985.0", 1985, 1985.0])
def test_year_only(raw):
    parsed = parse_birth_date(raw)
    assert (parsed.year, parsed.precision, parsed.date) == (1985, "year", None)


@pytest.mark.parametrize("raw", ["31245", "31245.0", 31245, 31245.0])
def test_excel_serial(raw):
    assert parse_birth_date(raw).date == dt.date(1985, 7, 17)


def test_date_objects_pass_through():
    assert parse_birth_date(dt.datetime(1985, 7, 17, 0, 0)).date == dt.date(1985, 7, 17)
    assert parse_date("1985-07-17 00:00:00") == dt.date(1985, 7, 17)
    assert parse_date("2024-03-15T14:22:01.5") == dt.date(2024, 3, 15)
    assert parse_date("15/03/2024 14:22") == dt.date(2024, 3, 15)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "missing_date"),
        ("  ", "missing_date"),
        ("không rõ", "unparseable_date"),
        ("12/05", "unparseable_date"),
        ("31/02/1990", "impossible_date"),
        ("13/13/1990", "impossible_date"),
        ("1990-02-30", "impossible_date"),
        ("12/05/1850", "date_out_of_range"),
        ("0", "date_out_of_range"),
    ],
)
def test_errors_carry_a_code(raw, code):
    with pytest.raises(DateParseError) as info:
        parse_birth_date(raw)
    assert info.value.code == code
    assert isinstance(info.value, ParseError) and isinstance(info.value, ValueError)


def test_birth_date_in_the_future_is_out_of_range():
    with pytest.raises(DateParseError) as info:
        parse_birth_date("01/01/2030", today=dt.date(2026, 1, 1))
    assert info.value.code == "date_out_of_range"
    assert parse_date("01/01/2030") == dt.date(2030, 1, 1)


def test_parse_date_needs_a_full_date():
    assert parse_date("15/03/2024") == dt.date(2024, 3, 15)
    with pytest.raises(DateParseError) as info:
        parse_date("2024")
    assert info.value.code == "incomplete_date"
