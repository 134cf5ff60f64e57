"""Evidence against: what two records of one person cannot disagree on unless an ID says they are one.

Splink adds up evidence as if the fields were independent, but in a household or a pair of twins
they are not: the same family and middle name, hamlet, phone and (twins) birth date come together,
and a copied ghost carries a real member's name, hamlet and sometimes phone. So a high match
probability is not enough on its own; these facts stop a link (the pair goes to the review queue
with the reason) unless an ID agrees (the same kind and number on both sides; twins registered
together may hold numbers one digit apart, so a near ID does not override):

- both records have a full date of birth and they differ (other than day and month swapped; a
  01/01 date is a placeholder, read as the year only): two people born apart;
- the given names differ by more than one letter, or by one letter where both spellings are
  names in their own right (each common in the input, not a typo of the other: Tâm / Tân;
  counted as written, marks and all, when both records carry marks: the key "hong" is Hồng's and
  also that of Hơng, a typo of Hương; and both spellings Vietnamese syllables, ``is_syllable``:
  "Khiêmm" is no name however often a roll repeats it), or
  only by a tone or vowel mark where both records are written with marks (Hạnh / Hanh):
  siblings, twins;
- both records have a year of birth and the years differ, where a record without a date takes
  the year its CCCD carries (digits 4-6): a ghost that copies a member's name with an invented
  year or ID, a namesake of another generation (two records of one person agree on the year even
  when one has only the year or a 01/01 placeholder);
- one side has neither a date of birth (not even a year) nor a plausible ID (a CMND, or a CCCD
  whose province, century and year digits fit a living person): the ghost that copies a member's
  name (a real member's record with a blank date still has their ID; an invented one rarely fits);
- the given names are one typo apart and both written with tone marks, but with different tones
  ("Quỳỳnh" / "Quỵnh"): a twin's name with a typo (a typo drops, doubles or swaps letters; it
  does not change the tone);
- both records come from one roll, which lists a member once, and their given names are a letter
  replaced apart ("Vinh" / "Ving"): twins, however typo-shaped one name looks (a dropped or
  doubled letter, "Trag", "Thủủy", is a slip in a member's second entry and still links);
- the records' sexes differ: a brother and sister born together (one person's records agree on
  the sex; a record without one says nothing);
- the given names differ in their first letter only ("Châu" / "Thâu"): a slip keeps a name's first
  letter, so these are two names, twins;
- the given names are a letter apart and the two records carry different phone numbers (neither a
  placeholder): twins with their own phones; a typo is one slip, not a typo and another number;
- both records carry a middle name, neither's words within the other's, more than one letter
  apart ("Bảo" / "Thanh"): siblings (a roll writing one of two middle names, or none, says nothing).

A near ID (the same kind, one typo or transposition apart) lifts the rule on different years of
birth and the one on records with neither a date nor a plausible ID: a typo in an ID's year
digits, or an ID that only looks implausible because of a typo, is still that person's ID. It does not lift the others: twins registered together can hold CCCDs one digit
apart, and so can namesakes of one province, sex and year of birth.

Beyond these pairwise conflicts, ``corroborated`` says whether two records share anything a padded
copy of a member's entry could not take from it (an ID, a date, a year, or each its own plausible
ID); the clusterer refuses a merge where no pair across the two clusters does. A year is weak
corroboration (a made-up date has the member's year one time in fifty): ``year_alone`` says when
it is all a bare entry (``RecordFacts.bare``: name, place and at most a year, on a roll that writes
more for most of its records) shares with a documented record (full date and ID), and the clusterer
refuses a merge with nothing stronger.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np

from lienthong.linking.policy import LinkingPolicy
from lienthong.linking.records import cccd_birth_year
from lienthong.text.names import is_syllable, name_key
from lienthong.text.phones import is_placeholder_phone

ONE_ROLL = "one roll, given names a letter replaced apart"
INITIALS = "given names with different first letters"
OTHER_PHONE = "given names a letter apart, different phones"
OTHER_MIDDLE = "different middle names"
_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")  # huyền, sắc, ngã, hỏi, nặng


def id_edits(a: str, b: str) -> int:
    """Edits between two ids: substitutions, insertions, deletions, adjacent transpositions (OSA distance)."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


# "Thị" is a woman's middle name and "Văn" a man's: a written sex its own name contradicts is a clerical
# slip, or a roll whose sex codes were configured the wrong way round, not a brother beside his sister.
_MIDDLE_NAME_SEX = {"thi": "female", "van": "male"}


def credible_sex(name: object, sex: object) -> str | None:
    """The record's written sex ("male" / "female"), or None when its middle name says the other."""
    if not isinstance(sex, str) or not sex:
        return None
    middle = name_key(name).split()[1:-1] if isinstance(name, str) else []
    said = {_MIDDLE_NAME_SEX[word] for word in middle if word in _MIDDLE_NAME_SEX}
    return None if said and sex not in said else sex


@dataclass(frozen=True, slots=True)
class RecordFacts:
    """What the conflict rules read of one record (from its feature row)."""

    id: str | None = None  # "cccd:digits" / "cmnd:digits"
    birth_date: str | None = None  # ISO, day precision
    birth_year: int | None = None
    given_key: str | None = None  # diacritic-free
    given_marked: str | None = None  # with its marks, lower case; None when the name carries no marks
    id_consistent: bool | None = None  # False when a CCCD's sex or year digits contradict the record's own
    has_phone: bool = False
    source: str | None = None  # the roll (``org_code``): it lists a member once
    sex: str | None = None  # "male" / "female" as the roll writes it, unless the name says the other
    # What the record's roll (its source, ``org_code``) writes for most of its records (``RollHabits``):
    # a missing phone or full date is a tell of a made-up entry only where the others have one.
    roll_phones: bool = True
    roll_full_dates: bool = True
    # The number when it is one someone has (not a placeholder): two records' numbers are compared.
    phone: str | None = None
    middle_key: str | None = None  # diacritic-free, words separated by spaces

    @classmethod
    def from_features(cls, row: dict, habits: dict[str, RollHabits] | None = None) -> RecordFacts:
        """``habits``: per ``org_code``, what its roll writes (``roll_habits``); a source not in it
        (or None) is taken to write phones and full dates."""
        number, kind, name, consistent = row.get("id_number"), row.get("id_kind"), row.get("name"), row.get("id_consistent")
        phone = row.get("phone") if isinstance(row.get("phone"), str) and row.get("phone") else None
        habit = (habits or {}).get(row.get("org_code"), RollHabits())
        try:
            year = int(row.get("birth_year"))
        except (TypeError, ValueError):  # None, NaN, pandas' NA
            year = None
        return cls(
            id=f"{kind}:{number}" if isinstance(number, str) and isinstance(kind, str) else None,
            birth_date=row.get("birth_date") if isinstance(row.get("birth_date"), str) else None,
            birth_year=year,
            given_key=row.get("given_key") if isinstance(row.get("given_key"), str) else None,
            given_marked=given_spelling(name),
            id_consistent=False if isinstance(consistent, (bool, np.bool_)) and not consistent else None,
            has_phone=phone is not None,
            source=row.get("org_code") if isinstance(row.get("org_code"), str) else None,
            sex=credible_sex(name, row.get("sex")),
            roll_phones=habit.phones,
            roll_full_dates=habit.full_dates,
            phone=None if phone is None or is_placeholder_phone(phone) else phone,
            middle_key=row.get("middle_key") if isinstance(row.get("middle_key"), str) and row.get("middle_key") else None,
        )

    @property
    def id_birth_year(self) -> int | None:
        """The year of birth a CCCD carries (digits 4-6) when its province, century and year could
        be a living person's; None for a CMND, no ID or an implausible CCCD (an invented one)."""
        return cccd_birth_year(self.id.partition(":")[2]) if self.id and self.id.startswith("cccd:") else None

    @property
    def plausible_id(self) -> bool:
        """A CMND, or a CCCD whose province, century and year digits could be a living person's and
        do not contradict the record's own sex and year: an invented number (a ghost's) mostly cannot."""
        return (bool(self.id) and self.id_consistent is not False
                and (not self.id.startswith("cccd:") or self.id_birth_year is not None))

    @property
    def year(self) -> int | None:
        """The year of birth as written, else the one the CCCD carries."""
        return self.birth_year if self.birth_year is not None else self.id_birth_year

    @property
    def bare(self) -> bool:
        """An entry with nothing by which the person can be reached or told from a namesake: no
        plausible ID, no phone, no full date (the year at most), on a roll that writes a phone or a
        full date for most of its records. It is what a roll padded with a member's name carries, and
        what this entry shares with the member is what a copy takes. On a roll that writes the year
        alone and no phone for everyone, such an entry is how every member without an ID is written:
        it lacks nothing its roll gives the others, so it is no tell there."""
        return (not self.plausible_id and not self.has_phone and self.full_date is None
                and (self.roll_phones or self.roll_full_dates))

    @property
    def full_date(self) -> str | None:
        """The day-precision date, unless it is the 01/01 placeholder."""
        return None if self.birth_date is None or self.birth_date.endswith("-01-01") else self.birth_date


@dataclass(frozen=True, slots=True)
class RollHabits:
    """What one source's roll writes for most of its records (``roll_habits``)."""

    phones: bool = True
    full_dates: bool = True


def roll_habits(fill_rates: dict[str, tuple[float, float]], policy: LinkingPolicy) -> dict[str, RollHabits]:
    """Per source, from its share of records with a phone and with a full date (``fill_rates``): it
    writes a field when at least ``policy.roll_habit_share`` of its records have it. The shares are
    read from the records themselves, so they hold for any sender without configuration; a roll
    either has the column (most records filled) or has not (none), and a share between tells a
    sloppy roll, which is still one that writes the field."""
    return {org: RollHabits(phones >= policy.roll_habit_share, dates >= policy.roll_habit_share)
            for org, (phones, dates) in fill_rates.items()}


def given_spelling(name: object) -> str | None:
    """The given name as written (lower case, with its marks) when the record's name carries marks,
    else None: a name written without any marks says nothing about them."""
    return name.split()[-1].lower() if isinstance(name, str) and name.strip() and not name.isascii() else None


def ids_agree(a: str | None, b: str | None, max_edits: int) -> bool:
    if not a or not b:
        return False
    (kind_a, _, digits_a), (kind_b, _, digits_b) = a.partition(":"), b.partition(":")
    return kind_a == kind_b and id_edits(digits_a, digits_b) <= max_edits


def _swapped(a: str, b: str) -> bool:
    return a[:4] == b[:4] and a[5:7] == b[8:10] and a[8:10] == b[5:7]


def _one_edit(a: str, b: str) -> bool:
    return id_edits(a, b) <= 1


def _letters(marked: str) -> list[tuple[str, str, str]]:
    """(bare letter, its vowel mark or đ's stroke, its tone) per letter of a marked word."""
    letters: list[tuple[str, str, str]] = []
    for char in unicodedata.normalize("NFD", marked):
        if unicodedata.combining(char) and letters:
            bare, vowel_mark, tone = letters[-1]
            letters[-1] = (bare, vowel_mark, tone + char) if char in _TONE_MARKS else (bare, vowel_mark + char, tone)
        elif char in "đĐ":
            letters.append(("d", "stroke", ""))
        else:
            letters.append((char, "", ""))
    return letters


def _marks_differ_past_a_typo(x: str, y: str) -> str | None:
    """For two spellings one letter apart, both written with marks: how their marks disagree where
    a typo would have kept them, or None. A typo drops, doubles, swaps or replaces letters; the
    letters it does not touch keep their vowel marks (â, ă, ê, ô, ơ, ư, đ), and the syllable keeps
    its tone unless the typo took the very letter that carried it (the tone may move to another
    vowel by the spelling rules, so it is compared per syllable, not per letter)."""
    lx, ly = _letters(x), _letters(y)
    bx, by = [c[0] for c in lx], [c[0] for c in ly]
    prefix = 0
    while prefix < min(len(bx), len(by)) and bx[prefix] == by[prefix]:
        prefix += 1
    suffix = 0
    while suffix < min(len(bx), len(by)) - prefix and bx[-1 - suffix] == by[-1 - suffix]:
        suffix += 1
    untouched = list(zip(lx[:prefix], ly[:prefix])) + list(zip(lx[len(lx) - suffix:], ly[len(ly) - suffix:]))
    if any(a[1] != b[1] for a, b in untouched):
        return "given names one letter apart, different vowel marks"
    tx, ty = {t for c in lx for t in c[2]}, {t for c in ly for t in c[2]}
    if tx == ty:
        return None
    if tx and ty:
        return "given names one letter apart, different tones"
    toned = lx if tx else ly
    carrier = next(i for i, c in enumerate(toned) if c[2])
    if carrier < prefix or carrier >= len(toned) - suffix:  # the letter with the tone is untouched
        return "given names one letter apart, different tones"
    return None


def corroborated(x: RecordFacts, y: RecordFacts, policy: LinkingPolicy) -> bool:
    """Whether two records agree on more than a padded copy can take from a member's entry (name,
    hamlet, phone, sex): an ID up to one typo, a day-precision date of birth (not a 01/01
    placeholder; day and month may be swapped), a year of birth both know, or each its own
    plausible ID (one person's old CMND and new CCCD)."""
    dx, dy = x.full_date, y.full_date
    return (ids_agree(x.id, y.id, policy.near_id_edits) or bool(dx and dy and (dx == dy or _swapped(dx, dy)))
            or (x.year is not None and x.year == y.year) or (x.plausible_id and y.plausible_id))


def year_alone(x: RecordFacts, y: RecordFacts, policy: LinkingPolicy) -> bool:
    """Whether the year is all that corroborates ``x`` and ``y`` (``corroborated``) where one is a bare
    entry and the other a documented record (a full date and a plausible ID): the member's roll knows
    who they are, and this entry agrees with it only on what a made-up date gets right one time in
    fifty. Linked, a copy would pass for the member's entry on another roll (the review reads "on no
    other roll" beside a missing ID as a ghost's tell)."""
    if ids_agree(x.id, y.id, policy.near_id_edits) or x.year is None or x.year != y.year:
        return False
    return any(bare.bare and other.full_date is not None and other.plausible_id for bare, other in ((x, y), (y, x)))


def pair_conflict(x: RecordFacts, y: RecordFacts, name_counts: dict[str, int], policy: LinkingPolicy,
                  spelling_counts: dict[str, int] | None = None) -> str | None:
    """Why ``x`` and ``y`` cannot be one person without an agreeing ID, or None. ``name_counts``:
    records per given-name key; ``spelling_counts``: records per given name as written with its marks
    (``given_spelling``), used when both records carry marks."""
    near_id = ids_agree(x.id, y.id, policy.near_id_edits)
    if not near_id and any(r.birth_year is None and not r.plausible_id for r in (x, y)):
        return "no date of birth and no ID on one side"
    dx, dy = x.full_date, y.full_date
    if dx and dy and dx != dy and not _swapped(dx, dy):
        return "different dates of birth"
    # A brother and sister born together share everything Splink weighs but the sex and a letter of
    # the name; one person's records agree on the sex.
    if x.sex and y.sex and x.sex != y.sex:
        return "different sexes"
    if not near_id and x.year is not None and y.year is not None and x.year != y.year:
        return "different years of birth"
    # Siblings share the family name and often the given name's shape, not the middle name ("Võ Bảo
    # Phút" / "Võ Thanh Phút"). A roll may write one of a person's two middle names ("Thị Ngọc" /
    # "Ngọc"), or none, and a typo is one edit: those say nothing.
    mx, my = x.middle_key, y.middle_key
    if (mx and my and not set(mx.split()) <= set(my.split()) and not set(my.split()) <= set(mx.split())
            and not _one_edit(mx, my)):
        return OTHER_MIDDLE
    gx, gy = x.given_key, y.given_key
    if gx and gy:
        if gx != gy:
            if not _one_edit(gx, gy):
                return "different given names"
            # A roll lists a member once: two of its entries whose given names are a letter replaced
            # apart are twins or siblings, however typo-shaped one spelling looks. One person's second
            # entry on a roll is copied from the same papers, or shares an ID (which lifts this rule),
            # and the slips seen there drop, double or swap letters ("Trag", "Thủủy", "Ạhnh"): those
            # stay typos.
            if (x.source is not None and x.source == y.source and len(gx) == len(gy)
                    and sorted(gx) != sorted(gy)):
                return ONE_ROLL
            # A slip keeps a name's first letter (errors fall on the first letter least: Pollock and
            # Zamora; hence Jaro-Winkler's prefix bonus): "Châu" / "Thâu", "Huệ" / "Cuệ" are two names.
            if len(gx) == len(gy) and gx[0] != gy[0] and gx[1:] == gy[1:]:
                return INITIALS
            # A typo is one slip: a name a letter apart and another number as well are two people
            # (twins, each with their own phone), not one person's record with two differences.
            if x.phone and y.phone and x.phone != y.phone:
                return OTHER_PHONE
            # Written with marks on both sides, a spelling is a name in its own right when it is common
            # as written: a key conflates names ("hong": Hồng, and Hơng, a typo of Hương). And only a
            # spelling that can be a Vietnamese syllable is a name: a doubled or swapped letter makes a
            # word no name is spelt with, however often a sloppy roll repeats it.
            marked = spelling_counts is not None and bool(x.given_marked and y.given_marked)
            sx, sy = (x.given_marked, y.given_marked) if marked else (gx, gy)
            counts = spelling_counts if marked else name_counts
            cx, cy = counts.get(sx, 0), counts.get(sy, 0)
            common = (min(cx, cy) >= policy.name_variant_min_count
                      and min(cx, cy) >= policy.name_variant_min_share * max(cx, cy))
            if common and is_syllable(sx) and is_syllable(sy):
                return "given names one letter apart, both common names"
            if x.given_marked and y.given_marked:
                return _marks_differ_past_a_typo(x.given_marked, y.given_marked)
        elif x.given_marked and y.given_marked and x.given_marked != y.given_marked:
            return "given names differ by a mark"
    return None
