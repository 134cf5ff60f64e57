"""Dates as rosters write them: dd/mm/yyyy first, year only, ISO, Excel serial numbers.

Reason codes (``DateParseError.code``):

- ``missing_date``: blank cell;
- ``unparseable_date``: no supported layout;
- ``impossible_date``: a layout matched but no calendar day fits (31/02/1990, month 13);
- ``date_out_of_range``: the year is before 1900 or after 2100, or a birth date is in the future;
- ``incomplete_date``: ``parse_date`` got a year only where a full date is needed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from lienthong.text.errors import DateParseError
from lienthong.text.names import name_key

MIN_YEAR = 1900
MAX_YEAR = 2100
# Excel's 1900 date system counts from 1899-12-30 once past its fictitious 29 Feb 1900.
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_EXCEL_MIN_SERIAL = 61
_EXCEL_MAX_SERIAL = (dt.date(MAX_YEAR, 12, 31) - _EXCEL_EPOCH).days

_NUMBER = re.compile(r"(\d+)(?:\.0+)?")
# A time of day after the date (web exports of payments) is read and dropped.
_TIME = r"(?:[ t]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_DAY_FIRST = re.compile(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})" + _TIME)
_YEAR_FIRST = re.compile(r"(\d{4})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{1,2})" + _TIME)
# "ngày 12 tháng 5 năm 1985", compared after name_key has removed the diacritics.
_WORDS = re.compile(r"ngay (\d{1,2}) thang (\d{1,2}) nam (\d{4})")


@dataclass(frozen=True, slots=True)
class BirthDate:
    """A birth date at day or year precision.

    ``ambiguous_day_month``: the text was dd/mm/yyyy with both numbers ≤ 12 and different, so
    the mm/dd reading is also a valid date; the dd/mm reading is kept (Vietnam's convention).
    ``day_month_swapped``: the dd/mm reading was impossible and only mm/dd fits (a US-format
    export); a file with any such row is probably mm/dd throughout.
    """

    year: int
    month: int | None = None
    day: int | None = None
    precision: Literal["day", "year"] = "year"
    ambiguous_day_month: bool = False
    day_month_swapped: bool = False

    @property
    def date(self) -> dt.date | None:
        """The calendar date, or None at year precision."""
        if self.precision != "day":
            return None
        return dt.date(self.year, self.month, self.day)  # type: ignore[arg-type]


def _text(s: object) -> str:
    if isinstance(s, float) and s.is_integer():
        return str(int(s))
    return str(s).strip()


def _check_year(year: int, raw: object) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise DateParseError("date_out_of_range", raw, f"year {year}")


def _day(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _read_day_first(first: int, second: int, year: int, raw: object) -> BirthDate:
    _check_year(year, raw)
    if _day(year, second, first):
        swap_ok = first != second and first <= 12 and _day(year, first, second) is not None
        return BirthDate(year, second, first, "day", ambiguous_day_month=swap_ok)
    if _day(year, first, second):
        return BirthDate(year, first, second, "day", day_month_swapped=True)
    raise DateParseError("impossible_date", raw)


def _read_year_first(year: int, month: int, day: int, raw: object) -> BirthDate:
    """ISO order; a web export that wrote yyyy-dd-mm ("2006-26-06") is read swapped, as for dd/mm."""
    _check_year(year, raw)
    if _day(year, month, day):
        return BirthDate(year, month, day, "day")
    if _day(year, day, month):
        return BirthDate(year, day, month, "day", day_month_swapped=True)
    raise DateParseError("impossible_date", raw)


def _read_number(number: int, raw: object) -> BirthDate:
    """A number from 1900 to 2100 is a year (as serials those are days of 1905), else a serial."""
    if MIN_YEAR <= number <= MAX_YEAR:
        return BirthDate(number)
    if _EXCEL_MIN_SERIAL <= number <= _EXCEL_MAX_SERIAL:
        day = _EXCEL_EPOCH + dt.timedelta(days=number)
        _check_year(day.year, raw)
        return BirthDate(day.year, day.month, day.day, "day")
    raise DateParseError("date_out_of_range", raw, "number is neither a year nor an Excel serial")


def _parse(s: object) -> BirthDate:
    if isinstance(s, dt.datetime):
        s = s.date()
    if isinstance(s, dt.date):
        _check_year(s.year, s)
        return BirthDate(s.year, s.month, s.day, "day")
    text = _text(s)
    if not text:
        raise DateParseError("missing_date", s)
    if m := _NUMBER.fullmatch(text):
        return _read_number(int(m.group(1)), s)
    if m := _DAY_FIRST.fullmatch(text.lower()):
        return _read_day_first(int(m.group(1)), int(m.group(2)), int(m.group(3)), s)
    if m := _YEAR_FIRST.fullmatch(text.lower()):
        return _read_year_first(int(m.group(1)), int(m.group(2)), int(m.group(3)), s)
    if m := _WORDS.fullmatch(name_key(text)):
        return _read_day_first(int(m.group(1)), int(m.group(2)), int(m.group(3)), s)
    raise DateParseError("unparseable_date", s)


def parse_birth_date(s: object, today: dt.date | None = None) -> BirthDate:
    """Read a birth date: full or year only; a date after ``today`` is out of range.

    Accepts str ("12/05/1985", "1/5/1985", "12-05-1985", "1985-05-12", "1985", "31245",
    "31245.0", "ngày 12 tháng 5 năm 1985"), int/float (a year or an Excel serial) and
    ``datetime.date``. Raises ``DateParseError``.
    """
    parsed = _parse(s)
    limit = today or dt.date.today()
    if parsed.year > limit.year or (parsed.date is not None and parsed.date > limit):
        raise DateParseError("date_out_of_range", s, "birth date in the future")
    return parsed


def parse_date(s: object) -> dt.date:
    """Read a full date (joining, payment, activity); a year alone raises ``incomplete_date``."""
    parsed = _parse(s)
    if parsed.date is None:
        raise DateParseError("incomplete_date", s)
    return parsed.date
