"""Row preparation and checks: what a delivered row looks like when it lands, or why it goes to
quarantine instead.

Before the checks, each row gets the organisation's configured clean-up per field (Excel's leading
apostrophe text marker, thousands separators, surrounding quotes), its constants (``sex: F``) and
the fields derived from a form's split columns (a birth date from day, month and year columns, or
from the men's and women's birth columns with the sex); an ID number always loses a removable
marker. An ID that still cannot be read is set aside: the record lands with ``id_number`` empty and
the text in ``extra`` (``id_number_unreadable``), so the person can still be matched by name, birth
date and place. Never lose a record over one bad field.

A row is quarantined only when a required value is empty or a date or dues period cannot be read at
all (garbage, an impossible day, a birth in the future, month 13). Readable-but-suspect values (a
year-only birth date, an ID of the wrong length) land, and the review flags them: quarantine is for
what nobody could use, not for what needs checking.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from lienthong.config.organisations import BIRTH_BY_SEX, BIRTH_PARTS, EntityConfig
from lienthong.sources.base import Delivery, SourceRow
from lienthong.text.dates import MIN_YEAR, parse_birth_date
from lienthong.text.errors import ParseError
from lienthong.text.ids import parse_person_id
from lienthong.text.periods import parse_period

@dataclass(frozen=True)
class Rejection:
    reason_code: str
    reason: str


# A row check returns None for a good row or the reason it goes to quarantine.
RowCheck = Callable[[SourceRow], Rejection | None]


def storable_text(row: SourceRow) -> Rejection | None:
    """PostgreSQL text holds no NUL character and no lone surrogate (invalid JSON escapes give them)."""
    # One test of all the row's text first (this runs for every delivered row); fields only when it fails.
    text = "".join([v for v in row.values.values() if v] + [v for v in row.extra.values() if v])
    if "\x00" not in text and (text.isascii() or _encodable(text)):
        return None
    bad = []
    for name, value in (*row.values.items(), *row.extra.items()):
        if value and ("\x00" in value or (not value.isascii() and not _encodable(value))):
            bad.append(name)
    if bad:
        return Rejection("unstorable_text", f"field(s) {', '.join(bad)} hold a NUL byte or an invalid character")
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def storable(text: str) -> str:
    """Text made storable for the quarantine's record of what was sent."""
    text = text.replace("\x00", "\ufffd")
    return text if text.isascii() or _encodable(text) else text.encode("utf-8", "replace").decode("utf-8")


# Canonical date fields; a year alone is accepted (old rolls often have only the year).
DATE_FIELDS = ("birth_date", "joined_on", "changed_on", "paid_on", "session_on", "corrected_birth_date", "verified_on")


_PLAIN_DAY = re.compile(r"(\d\d)/(\d\d)/(\d{4})")


@lru_cache(maxsize=65536)  # the same dates recur on every roll
def _date_problem(text: str) -> str | None:
    # Most dates are a plain dd/mm/yyyy of a past day: readable without the full parser (which
    # also reads other layouts, swapped day and month, and words).
    if (plain := _PLAIN_DAY.fullmatch(text)) and MIN_YEAR <= int(plain[3]):
        try:
            day = dt.date(int(plain[3]), int(plain[2]), int(plain[1]))
        except ValueError:
            day = None
        if day is not None and day <= dt.date.today():
            return None
    try:
        parse_birth_date(text)
    except ParseError as err:
        return err.code
    return None


def id_problem(text: str) -> str | None:
    """Why an ID number (cleaned) cannot be read, None when it can (a wrong length lands and is flagged)."""
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


@lru_cache(maxsize=4096)
def _period_problem(text: str) -> str | None:
    try:
        parse_period(text)
    except ParseError as err:
        return err.code
    return None


# Canonical fields a dues period or report month is written in (a month, a quarter, a year).
PERIOD_FIELDS = ("period", "month")
PARSERS: dict[str, Callable[[str], str | None]] = {**dict.fromkeys(DATE_FIELDS, _date_problem),
                                                   **dict.fromkeys(PERIOD_FIELDS, _period_problem)}
# Where an ID that cannot be read goes: the record lands without it, the text is kept here.
ID_SET_ASIDE = "id_number_unreadable"
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:([.,\u00a0 ])\d{3})(?:\1\d{3})*")
_QUOTES = {'"': '"', "'": "'", "\u201c": "\u201d", "\u2018": "\u2019"}


def _strip_excel_marker(text: str) -> str:
    # Excel shows a cell typed '0800… as text and exports the apostrophe with it.
    return text[1:].lstrip() if text[:1] in ("'", "\u2019") else text


def _strip_thousands(text: str) -> str:
    stripped = text.strip()
    return re.sub(r"[.,\u00a0 ]", "", stripped) if _THOUSANDS.fullmatch(stripped) else text


def _strip_quotes(text: str) -> str:
    stripped = text.strip()
    if len(stripped) >= 2 and _QUOTES.get(stripped[0]) == stripped[-1]:
        return stripped[1:-1].strip()
    return text


CLEANERS: dict[str, Callable[[str], str]] = {
    "excel_text_marker": _strip_excel_marker,
    "thousands_separators": _strip_thousands,
    "surrounding_quotes": _strip_quotes,
}
# Every ID number loses these: no ID starts with a quote, so nothing is guessed.
ID_CLEANING = ("surrounding_quotes", "excel_text_marker")
# PostgreSQL patterns matching at least every value a step may change (the set-based landing runs
# the step, in Python, on the distinct values they match only).
CLEAN_CANDIDATES = {
    "excel_text_marker": "^['\u2019]",
    "thousands_separators": "[.,\u00a0 ]",
    "surrounding_quotes": "[\"'\u201c\u2018]",
}


def clean_value(text: str | None, steps) -> str | None:
    """A value after the clean-up steps, in order; empty becomes None."""
    if text is None:
        return None
    for step in steps:
        text = CLEANERS[step](text)
    return text if text and not text.isspace() else None


def clean_chains(entity: EntityConfig) -> dict[str, tuple[str, ...]]:
    """Field -> its clean-up steps in order, for the fields that have any."""
    steps = {field: tuple(entity.clean.get(field, ())) for field in entity.fields}
    if "id_number" in steps:
        steps["id_number"] = tuple(dict.fromkeys([*steps["id_number"], *ID_CLEANING]))
    return {field: chain for field, chain in steps.items() if chain}


def _filled(text: str | None) -> str | None:
    return text.strip() if text and not text.isspace() else None


def _birth_from_parts(values: dict) -> dict:
    # ISO order whatever the organisation's date_order: the parts say which is the day.
    day, month, year = (_filled(values.get(f)) for f in BIRTH_PARTS)
    return {"birth_date": f"{year}-{month}-{day}" if year and month and day else year}


def _birth_by_sex(values: dict) -> dict:
    # A form writes the birth under "Nam" or under "Nữ": the column written in says the sex.
    male, female = (_filled(values.get(f)) for f in BIRTH_BY_SEX)
    return {"birth_date": male or female, "sex": "M" if male else "F" if female else None}


DERIVATIONS = {BIRTH_PARTS: _birth_from_parts, BIRTH_BY_SEX: _birth_by_sex}


def row_preparer(entity: EntityConfig) -> Callable[[SourceRow], SourceRow]:
    """Clean-up, constants, derived fields and the ID set-aside for one entity's rows (see the
    module docstring)."""
    steps = clean_chains(entity)
    constants = dict(entity.constants)
    derive = DERIVATIONS.get(next(iter(entity.derived.values()), ()))

    def prepare(row: SourceRow) -> SourceRow:
        values = dict(row.values)
        for field, chain in steps.items():
            values[field] = clean_value(values.get(field), chain)
        values.update(constants)
        if derive is not None:
            values.update(derive(values))
        extra = row.extra
        if (id_text := values.get("id_number")) and id_problem(id_text):
            values["id_number"] = None
            extra = {**extra, ID_SET_ASIDE: row.values.get("id_number") or id_text}
        return SourceRow(row.row_number, values, extra, row.problem)  # not dataclasses.replace: per row

    return prepare


def prepared(delivery: Delivery) -> Delivery:
    """The delivery whose rows come out prepared for landing (clean-up, constants, ID set-aside)."""
    prepare = row_preparer(delivery.entity)
    return dataclasses.replace(delivery, read=lambda: map(prepare, delivery.rows()))


def required_fields(entity: EntityConfig) -> RowCheck:
    required = tuple(entity.required)

    def check(row: SourceRow) -> Rejection | None:
        missing = [field for field in required if not row.values.get(field)]
        if missing:
            return Rejection("missing_required", f"required value(s) empty: {', '.join(missing)}")
        return None

    return check


def readable_values(entity: EntityConfig) -> RowCheck:
    fields = [(field, PARSERS[field]) for field in entity.fields if field in PARSERS]

    def check(row: SourceRow) -> Rejection | None:
        for field, problem_of in fields:
            value = row.values.get(field)
            if value and (problem := problem_of(value)):
                # The reason names the field, never its value (that stays in the row's `original`).
                return Rejection(f"unreadable_{field}", f"{field} cannot be read ({problem})")
        return None

    return check


def known_outcome(entity: EntityConfig) -> RowCheck:
    """A verification answer is one of the list's outcomes (an empty one is a row not yet answered)."""
    from lienthong.review.outcomes import outcome_code

    def check(row: SourceRow) -> Rejection | None:
        value = row.values.get("outcome")
        if value and outcome_code(value) is None:
            return Rejection("unknown_outcome", "outcome is not one of the verification list's answers; "
                                                "choose one from the list (lienthong.review.outcomes)")
        return None

    return check


def checks_for(entity: EntityConfig) -> tuple[RowCheck, ...]:
    """The checks every row of this entity passes before it lands."""
    checks = (required_fields(entity), readable_values(entity))
    return (*checks, known_outcome(entity)) if entity.kind == "verification_outcomes" else checks
