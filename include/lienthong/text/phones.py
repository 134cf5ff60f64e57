"""Vietnamese mobile numbers to the 10-digit national form "0xxxxxxxxx".

Accepted: "+84 912 345 678", "84912345678", "0084...", "0912.345.678", "0912-345-678", a number
whose leading 0 an Excel numeric cell dropped ("912345678", "912345678.0"), and the 11-digit
numbers retired in 2018 ("0168 xxx xxxx"), which are rewritten to their new 10-digit prefix.

Reason codes (``PhoneParseError.code``): ``missing_phone``, ``multiple_phones`` (two numbers in
one cell), ``non_digit_phone``, ``landline_phone`` (02x area codes), ``bad_phone_length``,
``bad_mobile_prefix`` (10 digits but not 03/05/07/08/09).
"""

from __future__ import annotations

import re

from lienthong.text.errors import PhoneParseError

MOBILE_PREFIXES = ("03", "05", "07", "08", "09")
# Ministry of Information and Communications' 2018 switch of 11-digit mobile numbers.
_OLD_PREFIXES = {
    "0162": "032", "0163": "033", "0164": "034", "0165": "035", "0166": "036",
    "0167": "037", "0168": "038", "0169": "039",
    "0120": "070", "0121": "079", "0122": "077", "0126": "076", "0128": "078",
    "0123": "083", "0124": "084", "0125": "085", "0127": "081", "0129": "082",
    "0186": "056", "0188": "058", "0199": "059",
}
_SEPARATORS = re.compile(r"[\s.\-()]")
_LIST_SEPARATORS = re.compile(r"[/,;|]")
_EXCEL_FLOAT = re.compile(r"(\d+)\.0+")


def normalise_phone(s: object) -> str:
    """Return the number as 10 digits starting with 0, or raise ``PhoneParseError``."""
    raw = str(s).strip() if s is not None else ""
    if m := _EXCEL_FLOAT.fullmatch(raw):
        raw = m.group(1)
    if not raw:
        raise PhoneParseError("missing_phone", s)
    if len([part for part in _LIST_SEPARATORS.split(raw) if part.strip()]) > 1:
        raise PhoneParseError("multiple_phones", s)
    text = _SEPARATORS.sub("", raw)
    if text.startswith("+"):
        text = text[1:]
    if not text.isdigit() or not text.isascii():
        raise PhoneParseError("non_digit_phone", s)
    # "+84 (0) 912 ..." is a common way of writing it, hence lstrip after the country code.
    if text.startswith("0084"):
        text = "0" + text[4:].lstrip("0")
    elif text.startswith("84") and len(text) in (11, 12, 13):
        text = "0" + text[2:].lstrip("0")
    elif not text.startswith("0") and len(text) in (9, 10):
        text = "0" + text
    if len(text) == 11 and text[:4] in _OLD_PREFIXES:
        text = _OLD_PREFIXES[text[:4]] + text[4:]
    if text.startswith("02") and len(text) == 11:
        raise PhoneParseError("landline_phone", s)
    if len(text) != 10:
        raise PhoneParseError("bad_phone_length", s, f"{len(text)} digits")
    if not text.startswith(MOBILE_PREFIXES):
        raise PhoneParseError("bad_mobile_prefix", s)
    return text


# One digit six times in a row or a run of the keypad: a number written where none is known, which
# many people "have". The review flags the same numbers (dbt's vn_placeholder_phone macro; the two are
# held together by tests/integration/dbt/test_text_macros.py).
_PLACEHOLDER = re.compile(r"(\d)\1{5,}|0123456|1234567|2345678|3456789|9876543|8765432|7654321")


def is_placeholder_phone(phone: str) -> bool:
    """Whether a normalised number is one no one has (``0900000000``, ``0123456789``)."""
    return bool(_PLACEHOLDER.search(phone))
