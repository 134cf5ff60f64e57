"""The linker's input contract and the matching features prepared from it.

Input (a PostgreSQL table or query): ``org_code, source_record_key, full_name, birth_date, sex,
id_number, phone, hamlet, commune``, all text as delivered except sex: F / M as staging read it with
the organisation's own sex codes (words such as "Nữ" are still understood). Each record becomes one
row of features built with ``lienthong.text`` (the Vietnamese normalisation lives there, not here):

- names: display form, diacritic-free key, family / middle / given keys;
- birth date: ISO date at day precision and year (a swapped day/month is a comparison level,
  so the reading is never guessed here);
- id: digits and kind (cccd / cmnd) when well-formed, and whether digits 4–6 agree with sex and
  birth year;
- phone: 10-digit national form; sex: male / female;
- address: the new-scheme commune code when exactly one fits; split or ambiguous old communes
  keep every candidate (``commune_candidates``) and no code, so they are never guessed;
  hamlet key ("KP3" = "Khu phố 3").

Parsing is cached per distinct text: names, dates and communes repeat a lot across 1.5M rows.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from functools import lru_cache

import pandas as pd

from lienthong.linking.blocking import commune_area_keys
from lienthong.text import (
    ParseError, name_key, normalise_name, normalise_phone, normalise_sex, parse_birth_date,
    parse_person_id, resolve_commune, split_name,
)
from lienthong.text.addresses import DEFAULT_PROVINCES
from lienthong.text.ids import PROVINCE_CODES

INPUT_COLUMNS = ("org_code", "source_record_key", "full_name", "birth_date", "sex", "id_number", "phone",
                 "hamlet", "commune")
FEATURE_COLUMNS = (
    "record_uid", "org_code", "source_record_key", "content_hash", "name", "name_key", "family_key",
    "middle_key", "given_key", "birth_date", "birth_year", "sex", "id_number",
    "id_kind", "id_consistent", "phone", "commune_code", "commune_candidates", "hamlet_key",
    "commune_area", "commune_area_alt",
)
MAX_AGE = 110  # a CCCD implying an older holder is not taken for a living person's
_HAMLET_ABBREVIATIONS = ((re.compile(r"^(kp|khu pho)\s*"), "kp"), (re.compile(r"^(ap)\s+"), "ap"),
                         (re.compile(r"^(khom)\s+"), "khom"), (re.compile(r"^(to)\s+"), "to"))


def record_uid(org_code: str, source_record_key: str) -> str:
    """The record's key across organisations (Splink's unique id)."""
    return f"{org_code}|{source_record_key}"


def content_hash(row: dict) -> str:
    """Hash of a record's matching inputs: an unchanged record is not relinked by incremental runs.
    The MD5 of the inputs joined by U+001F, as ``content_hash_sql`` computes it in PostgreSQL, where
    a night compares it (a change detector, not a secret)."""
    text = "\x1f".join(row.get(c) or "" for c in INPUT_COLUMNS[2:])
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def content_hash_sql(alias: str) -> str:
    """``content_hash`` of the input row ``alias`` as a PostgreSQL expression."""
    return "md5(concat_ws(chr(31), " + ", ".join(f"coalesce({alias}.{c}::text, '')" for c in INPUT_COLUMNS[2:]) + "))"


@lru_cache(maxsize=500_000)
def name_features(full_name: str) -> tuple[str, str, str, str, str]:
    """(display name, key, family key, middle key, given key)."""
    parts = split_name(full_name)
    return (normalise_name(full_name), name_key(full_name), name_key(parts.family), name_key(parts.middle),
            name_key(parts.given))


@lru_cache(maxsize=200_000)
def birth_features(text: str, today: dt.date) -> tuple[str | None, int | None]:
    """(ISO date at day precision, year)."""
    try:
        parsed = parse_birth_date(text, today=today)
    except ParseError:
        return None, None
    return (parsed.date.isoformat() if parsed.date else None), parsed.year


@lru_cache(maxsize=100_000)
def commune_features(text: str, provinces: tuple[str, ...] = DEFAULT_PROVINCES,
                     home: str | None = None) -> tuple[str | None, str | None]:
    """(new commune code when exactly one fits, sorted candidate codes joined by ' '); ``home``: the
    roll's province (its organisation's config), for a text that names none."""
    try:
        match = resolve_commune(text, province=home if home in provinces else None, provinces=provinces)
    except ParseError:
        return None, None
    codes = sorted({ref.code for ref in match.candidates})
    return match.new_code, (" ".join(codes) or None)


def hamlet_key(text: str | None) -> str | None:
    """'Khu phố 3', 'KP3', 'kp 3' -> 'kp3'; 'Ấp Đình Bàu', 'ap Dinh Bau' -> 'apdinhbau'."""
    key = name_key(text or "")
    if not key:
        return None
    for pattern, short in _HAMLET_ABBREVIATIONS:
        if pattern.match(key):
            key = pattern.sub(short, key, count=1)
            break
    return key.replace(" ", "")


def _sex(text: str | None) -> str | None:
    try:
        return normalise_sex(text)
    except ParseError:
        return None


def _phone(text: str | None) -> str | None:
    try:
        return normalise_phone(text)
    except ParseError:
        return None


def prepare(row: dict, today: dt.date | None = None, provinces: tuple[str, ...] = DEFAULT_PROVINCES,
            homes: dict[str, str] | None = None) -> dict:
    """One input row (mapping of the input columns) to its feature row; its commune among those of
    ``provinces`` (the policy's), in its roll's province (``homes``: organisation code -> the
    province its config says) when the address names none."""
    today = today or dt.date.today()
    display, key, family, middle, given = name_features(row.get("full_name") or "")
    birth, year = birth_features((row.get("birth_date") or "").strip(), today)
    sex = _sex(row.get("sex"))
    id_number = id_kind = id_consistent = None
    try:
        parsed = parse_person_id(row.get("id_number"), sex=sex, birth_year=year)
        id_number, id_kind, id_consistent = parsed.digits, parsed.kind, parsed.consistent
    except ParseError:
        pass
    commune_text = ", ".join(t for t in (row.get("hamlet"), row.get("commune")) if t)
    home = (homes or {}).get(row["org_code"])
    commune_code, candidates = commune_features(commune_text, provinces, home) if commune_text else (None, None)
    area, area_alt = commune_area_keys(commune_code, candidates)
    return {
        "record_uid": record_uid(row["org_code"], row["source_record_key"]),
        "org_code": row["org_code"],
        "source_record_key": row["source_record_key"],
        "content_hash": content_hash(row),
        "name": display or None,
        "name_key": key or None,
        "family_key": family or None,
        "middle_key": middle or None,
        "given_key": given or None,
        "birth_date": birth,
        "birth_year": year,
        "sex": sex,
        "id_number": id_number,
        "id_kind": id_kind,
        "id_consistent": id_consistent,
        "phone": _phone(row.get("phone")),
        "commune_code": commune_code,
        "commune_candidates": candidates,
        "hamlet_key": hamlet_key(row.get("hamlet")),
        "commune_area": area,
        "commune_area_alt": area_alt,
    }


def cccd_birth_year(digits: str) -> int | None:
    """The year of birth a 12-digit CCCD carries (digits 4-6, see ``lienthong.text.ids``) when its
    province code is known and the year could be a living person's, else None (an invented number)."""
    if len(digits) != 12 or not digits.isdigit() or digits[:3] not in PROVINCE_CODES:
        return None
    year = 1900 + 100 * (int(digits[3]) // 2) + int(digits[4:6])
    return year if dt.date.today().year - MAX_AGE <= year <= dt.date.today().year else None


def id_birth_years(features: pd.DataFrame) -> pd.DataFrame:
    """``record_uid, birth_year`` for the records without a year of birth whose CCCD carries one.

    Scoring reads these years as the record's (a year-only record's evidence, and its blocking key):
    a member's record without a date still meets their other records, and a ghost whose invented
    CCCD says another year scores against the member. The stored features keep the date as written."""
    blank = features[features["birth_year"].isna() & (features["id_kind"] == "cccd")]
    years = [cccd_birth_year(n) for n in blank["id_number"]]
    found = pd.DataFrame({"record_uid": blank["record_uid"].to_numpy(), "birth_year": years})
    return found.dropna().astype({"birth_year": "int64"})


def prepare_frame(rows, today: dt.date | None = None, provinces: tuple[str, ...] = DEFAULT_PROVINCES,
                  homes: dict[str, str] | None = None) -> pd.DataFrame:
    """Feature rows for an iterable of input rows, as a DataFrame with ``FEATURE_COLUMNS``."""
    today = today or dt.date.today()
    frame = pd.DataFrame.from_records([prepare(row, today, provinces, homes) for row in rows],
                                      columns=list(FEATURE_COLUMNS))
    frame["birth_year"] = frame["birth_year"].astype("Int64")
    frame["id_consistent"] = frame["id_consistent"].astype("boolean")
    return frame
