"""Realistic defects in delivered records, with the rates of noise.yml.

Each defect is decided once per roster record (an organisation's roll keeps its typos from one
delivery to the next) and named, so the truth files can list what every record got.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import unicodedata
import zlib
from dataclasses import dataclass
from pathlib import Path

import yaml

from lienthong.sample.geography import Hamlet
from lienthong.sample.population import Person

DEFAULT_CONFIG = Path(__file__).parent / "noise.yml"
_TONES = "\u0300\u0301\u0303\u0309\u0323"
# Open syllables where the old and new styles place the tone differently: "hòa"/"hoà", "thúy"/"thuý".
_TONE_PLACEMENT = re.compile(rf"([oOuU])([{_TONES}])([aAeEyY])(?![\w])")
_KIND_SHORT = {"Xã": "X.", "Phường": "P.", "Thị trấn": "TT.", "Huyện": "H.", "Thị xã": "TX.", "Thành phố": "TP."}
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def load_noise(path: Path | None = None) -> dict:
    return yaml.safe_load((path or DEFAULT_CONFIG).read_text(encoding="utf-8"))


def rates_for(config: dict, org: str) -> dict[str, float]:
    return {**config["defaults"], **config.get("organisations", {}).get(org, {})}


def strip_diacritics(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def old_tone_placement(text: str) -> str:
    """Move the tone of oa/oe/uy in open syllables to the second vowel ("Hòa" -> "Hoà")."""
    moved = _TONE_PLACEMENT.sub(r"\1\3\2", unicodedata.normalize("NFD", text))
    return unicodedata.normalize("NFC", moved)


def excel_serial(day: dt.date) -> int:
    return (day - _EXCEL_EPOCH).days


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 3:
        return word + word[-1]
    i = rng.randrange(1, len(word) - 1)
    operation = rng.randrange(3)
    if operation == 0:
        return word[:i] + word[i + 1:]
    if operation == 1:
        return word[:i] + word[i] + word[i:]
    return word[:i - 1] + word[i] + word[i - 1] + word[i + 1:]


def _digit_typo(rng: random.Random, number: str) -> str:
    i = rng.randrange(len(number))
    return number[:i] + str((int(number[i]) + rng.randrange(1, 10)) % 10) + number[i + 1:]


def _transpose(rng: random.Random, number: str) -> str:
    for _ in range(5):
        i = rng.randrange(len(number) - 1)
        if number[i] != number[i + 1]:
            return number[:i] + number[i + 1] + number[i] + number[i + 2:]
    return _digit_typo(rng, number)


def _phone(rng: random.Random, phone: str, style: str) -> str:
    if style == "plus84":
        return f"+84 {phone[1:4]} {phone[4:7]} {phone[7:]}"
    separator = rng.choice([" ", "."])
    return f"{phone[:4]}{separator}{phone[4:7]}{separator}{phone[7:]}"


def commune_label(hamlet: Hamlet, new_name: str, old: bool, short: bool) -> str:
    """The commune as a clerk writes it: the new name, or the old commune with its district."""
    if not old:
        return _shorten(new_name) if short else new_name
    unit = hamlet.old
    if short:
        district = f"{_KIND_SHORT.get(unit.district_kind, '')} {unit.district_short}".strip()
        return f"{_shorten(unit.name)}, {district}"
    return f"{unit.name}, {unit.district}"


def _shorten(name: str) -> str:
    for word, short in _KIND_SHORT.items():
        if name.startswith(word + " "):
            rest = name[len(word) + 1:]
            return f"{short}{rest}" if rest.isdigit() else f"{short} {rest}"
    return name


def hamlet_label(name: str, short: bool) -> str:
    if not short:
        return name
    if name.startswith("Khu phố "):
        return "KP" + name[len("Khu phố "):]
    return "ấp " + name[len("Ấp "):]


@dataclass(slots=True)
class NoisyIdentity:
    """What an organisation's roll says about a person, defects included."""

    full_name: str
    family_name: str
    given_names: str
    birth: tuple[str, dt.date]  # (full | year | serial | swap | missing, date)
    id_number: str
    phone: str
    old_address: bool
    short_address: bool
    plain_address: bool
    kinds: tuple[str, ...]
    hamlet: Hamlet | None = None  # where the roll says the person lives, when not where they do
    join_date_blank: bool = False  # the roll leaves the join date empty (join_date_missing)


def noisy_identity(rng: random.Random, rates: dict[str, float], person: Person) -> NoisyIdentity:
    kinds: list[str] = []

    def hit(kind: str) -> bool:
        if rng.random() < rates.get(kind, 0.0):
            kinds.append(kind)
            return True
        return False

    family, middle, given = person.family, person.middle, person.given
    if hit("given_name_typo"):
        given = _typo(rng, given)
    parts = [family, middle, given]
    if _TONE_PLACEMENT.search(unicodedata.normalize("NFD", " ".join(parts))) and hit("name_old_tone_placement"):
        parts = [old_tone_placement(p) for p in parts]
    if hit("name_no_diacritics"):
        parts = [strip_diacritics(p) for p in parts]
    if hit("name_all_caps"):
        parts = [p.upper() for p in parts]
    full = " ".join(parts)
    given_names = " ".join(parts[1:])
    if hit("name_extra_spaces"):
        full = rng.choice([full.replace(" ", "  ", 1), f" {full}", f"{full} ", full.replace(" ", "  ")])
    if hit("name_nfd"):
        full, family_name, given_names = (unicodedata.normalize("NFD", t) for t in (full, parts[0], given_names))
    else:
        family_name = parts[0]

    birth_kind = "full"
    for kind, label in (("birth_year_only", "year"), ("birth_excel_serial", "serial"), ("birth_day_month_swap", "swap")):
        if hit(kind):
            birth_kind = label
            break

    number = person.cccd or person.cmnd or ""
    if number and hit("id_missing"):
        number = ""
    elif number and hit("id_digit_typo"):
        number = _digit_typo(rng, number)
    elif number and hit("id_transposition"):
        number = _transpose(rng, number)

    phone = person.phone or ""
    if phone and hit("phone_missing"):
        phone = ""
    elif phone and hit("phone_plus84"):
        phone = _phone(rng, phone, "plus84")
    elif phone and hit("phone_spaces"):
        phone = _phone(rng, phone, "spaces")

    old = hit("address_old_commune")
    short = hit("address_abbreviated")
    plain = hit("address_no_diacritics")
    # Decided from the person and name, not drawn from rng: a sample without the defect (rate 0, the
    # default) keeps its bytes per seed.
    join_blank = _decided(rates.get("join_date_missing", 0.0), f"join:{person.pid}:{full}")
    if join_blank:
        kinds.append("join_date_missing")
    return NoisyIdentity(full, family_name, given_names, (birth_kind, person.birth), number, phone,
                         old, short, plain, tuple(kinds), join_date_blank=join_blank)


def _decided(rate: float, key: str) -> bool:
    """True for a share ``rate`` of keys, from a hash of the key (no random draw)."""
    return rate >= 1.0 or (rate > 0.0 and zlib.crc32(key.encode()) % 1_000_000 < rate * 1_000_000)


def address_fields(identity: NoisyIdentity, hamlet: Hamlet, commune_name: str) -> tuple[str, str]:
    """(hamlet, commune) labels for a record living in ``hamlet`` of the commune ``commune_name``."""
    hamlet_text = hamlet_label(hamlet.name, identity.short_address)
    commune_text = commune_label(hamlet, commune_name, identity.old_address, identity.short_address)
    if identity.plain_address:
        return strip_diacritics(hamlet_text), strip_diacritics(commune_text)
    return hamlet_text, commune_text
