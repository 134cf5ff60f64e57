"""Row checks: why a delivered row goes to quarantine instead of the raw table.

A row is quarantined when a required value is empty or a value cannot be read at all: a date that
is no date (garbage, an impossible day, a birth in the future) or an ID number with letters in it.
Readable-but-suspect values (a year-only birth date, an ID of the wrong length) land, and the
review flags them: quarantine is for what nobody could use, not for what needs checking.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from lienthong.config.organisations import EntityConfig
from lienthong.landing.raw import Rejection, RowCheck
from lienthong.sources.base import SourceRow
from lienthong.text.dates import parse_birth_date
from lienthong.text.errors import ParseError
from lienthong.text.ids import parse_person_id

# Canonical date fields; a year alone is accepted (old rolls often have only the year).
DATE_FIELDS = ("birth_date", "joined_on", "changed_on", "paid_on", "session_on")


@lru_cache(maxsize=65536)  # the same dates recur on every roll
def _date_problem(text: str) -> str | None:
    try:
        parse_birth_date(text)
    except ParseError as err:
        return err.code
    return None


def _id_problem(text: str) -> str | None:
    if text.isdigit() and text.isascii():  # the usual ID: nothing to parse (and every one differs)
        return None
    return _odd_id_problem(text)


@lru_cache(maxsize=65536)
def _odd_id_problem(text: str) -> str | None:
    try:
        parse_person_id(text)
    except ParseError as err:
        return err.code if err.code == "non_digit_id" else None  # wrong lengths land and get flagged
    return None


PARSERS: dict[str, Callable[[str], str | None]] = {
    **dict.fromkeys(DATE_FIELDS, _date_problem),
    "id_number": _id_problem,
}


def required_fields(entity: EntityConfig) -> RowCheck:
    required = tuple(entity.required)

    def check(row: SourceRow) -> Rejection | None:
        missing = [field for field in required if not row.values.get(field)]
        if missing:
            return Rejection("missing_required", f"required value(s) empty: {', '.join(missing)}")
        return None

    return check


def readable_values(entity: EntityConfig) -> RowCheck:
    fields = [(field, PARSERS[field]) for field in dict.fromkeys(entity.columns.values()) if field in PARSERS]

    def check(row: SourceRow) -> Rejection | None:
        for field, problem_of in fields:
            value = row.values.get(field)
            if value and (problem := problem_of(value)):
                # The reason names the field, never its value (that stays in the row's `original`).
                return Rejection(f"unreadable_{field}", f"{field} cannot be read ({problem})")
        return None

    return check


def checks_for(entity: EntityConfig) -> tuple[RowCheck, ...]:
    """The checks every row of this entity passes before it lands."""
    return (required_fields(entity), readable_values(entity))
