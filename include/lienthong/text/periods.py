"""Dues periods and report months as organisations write them: a month, a quarter or a year.

The landing quarantines a period this cannot read (``unreadable_period``); dbt's
``vn_period_start`` / ``vn_period_months`` read the landed text alike (a test holds the two
together). Read on the text's key (no diacritics, lower case, punctuation as space):

- a month: ``10/2026``, ``10-2026``, ``10.2026``, ``2026-10``, ``2026/10``, ``tháng 10/2026``,
  ``Tháng 10 năm 2026``, ``T10/2026``, and an ISO day ``2026-10-01`` (its month);
- a quarter (three months): ``Quý 4/2026``, ``Q4-2026``, ``quý IV năm 2026``;
- a year (twelve months): ``2026``, ``Năm 2026``.

Reason codes: ``missing_period`` (blank), ``unparseable_period`` (no layout), ``impossible_period``
(month 13, quarter 5, a year before 1900 or after 2100).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from lienthong.text.dates import MAX_YEAR, MIN_YEAR
from lienthong.text.errors import ParseError
from lienthong.text.names import name_key

_QUARTERS = {"1": 1, "2": 2, "3": 3, "4": 4, "i": 1, "ii": 2, "iii": 3, "iv": 4}
_MONTH_YEAR = re.compile(r"(?:thang |t ?)?(\d{1,2}) (?:nam )?(\d{4})")
_YEAR_MONTH = re.compile(r"(\d{4}) (\d{1,2})(?: (\d{1,2}))?")
_QUARTER = re.compile(r"(?:quy |q ?)(\d|i{1,3}|iv) (?:nam )?(\d{4})")
_YEAR = re.compile(r"(?:nam )?(\d{4})")


class PeriodParseError(ParseError):
    """A dues period or report month that cannot be read."""


@dataclass(frozen=True, slots=True)
class Period:
    start: dt.date  # first day of its first month
    months: int     # 1, 3 or 12


def _period(year: int, month: int, months: int, raw: str) -> Period:
    if not (MIN_YEAR <= year <= MAX_YEAR and 1 <= month <= 12):
        raise PeriodParseError("impossible_period", raw)
    return Period(dt.date(year, month, 1), months)


def parse_period(text: str) -> Period:
    key = name_key(text or "")
    if not key:
        raise PeriodParseError("missing_period", text)
    if m := _MONTH_YEAR.fullmatch(key):
        return _period(int(m[2]), int(m[1]), 1, text)
    if m := _YEAR_MONTH.fullmatch(key):
        if m[3] is not None and not 1 <= int(m[3]) <= 31:
            raise PeriodParseError("impossible_period", text)
        return _period(int(m[1]), int(m[2]), 1, text)
    if m := _QUARTER.fullmatch(key):
        if m[1] not in _QUARTERS:
            raise PeriodParseError("impossible_period", text)
        return _period(int(m[2]), 3 * _QUARTERS[m[1]] - 2, 3, text)
    if m := _YEAR.fullmatch(key):
        return _period(int(m[1]), 1, 12, text)
    raise PeriodParseError("unparseable_period", text)
