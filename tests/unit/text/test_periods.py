import datetime as dt

import pytest

from lienthong.text.errors import ParseError
from lienthong.text.periods import parse_period


@pytest.mark.parametrize("text, start, months", [
    ("10/2026", "2026-10", 1), ("2026-10", "2026-10", 1), ("tháng 10/2026", "2026-10", 1),
    ("Tháng 10 năm 2026", "2026-10", 1), ("T3/2026", "2026-03", 1), ("2026-10-01", "2026-10", 1),
    ("Quý 4/2026", "2026-10", 3), ("Q2-2026", "2026-04", 3), ("quý III năm 2026", "2026-07", 3),
    ("2026", "2026-01", 12), ("Năm 2026", "2026-01", 12),
])
def test_months_quarters_and_years_as_organisations_write_them(text, start, months):
    period = parse_period(text)
    assert (period.start, period.months) == (dt.date.fromisoformat(start + "-01"), months)


@pytest.mark.parametrize("text, code", [
    ("", "missing_period"), ("abc", "unparseable_period"), ("10/26", "unparseable_period"),
    ("13/2026", "impossible_period"), ("Q5/2026", "impossible_period"), ("1899", "impossible_period"),
])
def test_what_no_period_can_be_is_refused_with_its_reason(text, code):
    with pytest.raises(ParseError) as err:
        parse_period(text)
    assert err.value.code == code
