"""Hard cases for person linking, at the rates of noise.yml's ``hard_cases`` (off by default).

What real rolls hold and the default mix under-represents: households (a wife and grown children
in the man's hamlet, on his phone, the sons often with his middle name), twins (same birth date,
family and middle name, hamlet, often phone; given names that may differ by one letter or a mark),
ghosts that copy a real member's name onto another organisation's roll, residents in no
organisation padded into a roll, and record-level defects (the old 9-digit CMND of a CCCD holder,
01/01 placeholder or missing birth dates, a dropped middle name, a tone on the wrong vowel, a
roll not updated after a move).

Every draw comes from a per-commune stream of its own, so with ``enabled: false`` nothing is drawn
and every output stays byte-identical per seed. ``truth/hard_cases.csv`` says who is whose
relative, twin or copy; record-level kinds go to the record's ``noise`` in ``truth/records.csv``.
"""
from __future__ import annotations

import datetime as dt
import random
import unicodedata

from lienthong.sample.geography import Commune, Hamlet
from lienthong.sample.memberships import ORGS, Context, Record, org_rules, planted_record
from lienthong.sample.population import Person, all_given_names, given_names, make_name, make_relative, old_cmnd, random_phone
from lienthong.text import name_key, normalise_name

_TONES = "\u0300\u0301\u0303\u0309\u0323"
_VOWELS = set("aeiouyAEIOUY")
_YEAR = 365


def _days(rng: random.Random, low_years: float, high_years: float) -> dt.timedelta:
    return dt.timedelta(days=rng.randint(int(low_years * _YEAR), int(high_years * _YEAR)))


def _edits_at_most_one(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) <= 1
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def _retone(rng: random.Random, word: str) -> str:
    """The same letters with another tone ("Tâm" -> "Tám")."""
    decomposed = unicodedata.normalize("NFD", word)
    base = "".join(c for c in decomposed if c not in _TONES)
    current = next((c for c in decomposed if c in _TONES), "")
    tone = rng.choice([t for t in ("",) + tuple(_TONES) if t != current])
    vowel = next((i for i, c in enumerate(base) if c in _VOWELS), None)
    if vowel is None:
        return word
    # normalise_name puts the tone where the spelling rule says ("Thùân" -> "Thuần"): a name a
    # parent chose is spelt right, and other defects (old tone placement) expect it so.
    return normalise_name(unicodedata.normalize("NFC", _insert_after_letter(base, vowel, tone)))


def _insert_after_letter(text: str, index: int, mark: str) -> str:
    """``mark`` after the letter at ``index`` and its own marks (circumflex, breve, horn), so it composes."""
    end = index + 1
    while end < len(text) and unicodedata.combining(text[end]):
        end += 1
    return text[:end] + mark + text[end:]


def move_tone(word: str) -> str:
    """The tone mark on a neighbouring vowel ("Hoàng" -> "Hòang"); the word as is when it cannot move."""
    decomposed = unicodedata.normalize("NFD", word)
    tones = [i for i, c in enumerate(decomposed) if c in _TONES]
    if len(tones) != 1:
        return word
    at = tones[0]
    base = decomposed[:at] + decomposed[at + 1:]
    vowels = [i for i, c in enumerate(base) if c in _VOWELS]
    carrier = max((i for i in vowels if i < at), default=None)
    others = [i for i in vowels if i != carrier]
    if carrier is None or not others:
        return word
    target = min(others, key=lambda i: abs(i - carrier))
    return unicodedata.normalize("NFC", _insert_after_letter(base, target, decomposed[at]))


class HardCases:
    """Draws the hard cases of one sample (see the module docstring)."""

    def __init__(self, config: dict, seed: int, ctx: Context, all_hamlets: list[Hamlet]):
        self.rates = config or {}
        self.enabled = bool(self.rates.get("enabled"))
        self.seed, self.ctx, self.all_hamlets = seed, ctx, all_hamlets
        self.rng = random.Random()
        self.relations: list[tuple[str, str, str]] = []  # (person id, kind, related person id)

    def start_commune(self, commune: Commune) -> None:
        self.rng = random.Random(f"{self.seed}:{commune.code}:hard_cases")

    def _rate(self, kind: str) -> bool:
        return self.rng.random() < self.rates.get(kind, 0.0)

    def relatives(self, residents: list[Person], first_pid: int) -> list[Person]:
        """Wives, grown children and twins of ``residents``, numbered from ``first_pid``."""
        made: list[Person] = []
        world = self.ctx.world
        end = world.end

        def add(anchor: Person, kind: str, sex: str, birth: dt.date, name: tuple[str, str, str]) -> Person:
            shared = anchor.phone and self._rate("household_shares_phone")
            phone = anchor.phone if shared else (random_phone(self.rng) if self.rng.random() < 0.85 else None)
            person = make_relative(self.rng, world, anchor, f"P{first_pid + len(made):08d}", sex, birth, name, phone)
            made.append(person)
            self.relations.append((person.pid, kind, anchor.pid))
            return person

        for anchor in residents:
            if not anchor.present_on(world.start):
                continue
            age = anchor.age_on(end)
            if anchor.sex == "M" and 40 <= age <= 75 and self._rate("household"):
                wife_birth = anchor.birth + _days(self.rng, -2, 10)
                wife = add(anchor, "spouse", "F", wife_birth, make_name(self.rng, "F", wife_birth.year))
                low, high = self.rates.get("household_children", [0, 2])
                for _ in range(self.rng.randint(low, high)):
                    birth = wife.birth + _days(self.rng, 19, 35)
                    if (end - birth).days < 16 * _YEAR:
                        continue
                    sex = "M" if self.rng.random() < 0.5 else "F"
                    _, middle, given = make_name(self.rng, sex, birth.year)
                    if sex == "M" and self._rate("household_son_same_middle"):
                        middle = anchor.middle
                    add(anchor, "child", sex, birth, (anchor.family, middle, given))
            if age >= 16 and self._rate("twins"):
                sex = anchor.sex if self.rng.random() < 0.6 else ("F" if anchor.sex == "M" else "M")
                _, middle, given = make_name(self.rng, sex, anchor.birth.year)
                middle = anchor.middle if sex == anchor.sex else middle
                add(anchor, "twin", sex, anchor.birth, (anchor.family, middle, self._twin_given(anchor, sex, given)))
        return made

    def _twin_given(self, anchor: Person, sex: str, fallback: str) -> str:
        key = name_key(anchor.given)
        pool = [g for g in given_names(sex, anchor.birth.year) if g != anchor.given]
        if self._rate("twin_given_one_letter"):
            near = [g for g in all_given_names() if name_key(g) != key and _edits_at_most_one(name_key(g), key)]
            if near:
                return self.rng.choice(near)
            return _retone(self.rng, anchor.given)  # no name one letter away: one a mark away
        if self._rate("twin_given_tone_only"):
            same = [g for g in all_given_names() if name_key(g) == key and g != anchor.given]
            return self.rng.choice(same) if same else _retone(self.rng, anchor.given)
        return fallback if fallback != anchor.given else self.rng.choice(pool)

    def extra_records(self, person: Person, records: list[Record]) -> list[Record]:
        """Ghosts planted next to ``person``'s records, after the record-level defects of all of them."""
        ctx, world = self.ctx, self.ctx.world
        extra: list[Record] = []
        for record in records:
            if record.fabricated:
                continue
            self._record_defects(record)
            if self._rate("ghost_copy"):
                extra.append(self._ghost_copy(record))
        if (not records and person.age_on(world.end) >= 18 and person.present_on(world.end)
                and self._rate("ghost_non_member")):
            org = self._org_for(person.sex, exclude=None)
            join = world.start + _days(self.rng, 0, 0.9)
            extra.append(planted_record(self.rng, ctx, person, org, ctx.units.territorial(org, person.hamlet_on(join)),
                                        join, ("non_member",), fabricated=False))
            self._record_defects(extra[-1])
        return extra

    def _org_for(self, sex: str, exclude: str | None) -> str:
        options = [o for o in ORGS if o != exclude and "territorial" in org_rules()[o]["units"]
                   and org_rules()[o]["eligibility"].get("sex", sex) == sex]
        return self.rng.choice(options)

    def _ghost_copy(self, record: Record) -> Record:
        """A made-up member carrying a real member's name, in the member's hamlet, on another roll."""
        ctx, world, member = self.ctx, self.ctx.world, record.person
        missing_birth = self.rng.random() < 0.5
        birth = dt.date(1990, 1, 1) if missing_birth else world.end - _days(self.rng, 18, 70)
        cccd = None if self.rng.random() < 0.7 else f"0{self.rng.randrange(10**11):011d}"
        phone = member.phone if self._rate("ghost_copy_phone") else None
        ctx.fabricated += 1
        hamlet = member.hamlet_on(world.end)
        ghost = Person(f"G{ctx.fabricated:08d}", member.sex, birth, member.family, member.middle, member.given,
                       cccd, None, phone, member.commune, hamlet, "other")
        org = self._org_for(member.sex, exclude=record.org)
        join = world.start + _days(self.rng, -2, 0.9)
        copy = planted_record(self.rng, ctx, ghost, org, ctx.units.territorial(org, hamlet), join, ("ghost_copy",),
                              fabricated=True)
        if missing_birth:
            copy.identity.birth = ("missing", birth)
        self.relations.append((ghost.pid, "ghost_copy", member.pid))
        return copy

    def _record_defects(self, record: Record) -> None:
        identity, person = record.identity, record.person
        kinds = list(identity.kinds)
        if (person.cccd and person.birth.year < 2000 and identity.id_number and self._rate("old_cmnd")):
            identity.id_number = old_cmnd(person)
            kinds.append("old_cmnd")
        if identity.birth[0] == "full" and self._rate("birth_placeholder"):
            identity.birth = ("full", dt.date(identity.birth[1].year, 1, 1))
            kinds.append("birth_placeholder")
        elif self._rate("birth_missing"):
            identity.birth = ("missing", identity.birth[1])
            kinds.append("birth_missing")
        words = identity.full_name.split()
        changed = False
        if len(words) >= 3 and self._rate("name_dropped_middle"):
            words = [words[0], words[-1]]
            kinds.append("name_dropped_middle")
            changed = True
        if self._rate("name_tone_other_vowel"):
            moved = move_tone(words[-1])
            if moved != words[-1]:
                words[-1] = moved
                kinds.append("name_tone_other_vowel")
                changed = True
        if changed:
            identity.full_name, identity.family_name, identity.given_names = (
                " ".join(words), words[0], " ".join(words[1:]))
        if self._rate("stale_address"):
            home = person.hamlet.code.split("-")[0]
            identity.hamlet = self.rng.choice([h for h in self.all_hamlets if h.code.split("-")[0] != home]
                                              or self.all_hamlets)
            kinds.append("stale_address")
        identity.kinds = tuple(kinds)
