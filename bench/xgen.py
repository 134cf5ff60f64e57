"""An independent second generator of membership rolls, for measuring the linker and the review on
data they were never tuned on (issues #13 and #20).

    uv run python bench/xgen.py --out DIR --seed S --people N [--roll-only] [--spec bench/xgen_spec.yml]

Written from docs/domain.md, the issues' descriptions of the held-out rolls and the onboarding
contract (docs/onboarding.md, the truth files the benches read), without reading the project's own
generator (include/lienthong/sample/): its own names, households, noise, ghosts and senders. The
senders, their layouts and every rate are in ``xgen_spec.yml``; each sender's organisation config is
written into ``DIR/configs/`` (the pipeline onboards them by configuration alone):

    DIR/configs/<code>.yml                  one organisation config per sender
    DIR/deliveries/<code>/<day>/<file>      full roll on the first day (+ a year of dues and meetings
                                            unless --roll-only); changes on the second day
    DIR/reference/                          population.csv, hamlets.csv, population_changes.csv
    DIR/truth/                              persons, records, delivery_rows, ghosts, hard_cases, units
    DIR/manifest.json                       seed, people, days, senders' files and rows, the rates

Same seed, people and spec give the same files (stdlib ``random`` only, XLSX with a fixed date).
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import random
import sys
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SPEC = Path(__file__).with_name("xgen_spec.yml")

# --- names (southern Vietnam; family names by rough frequency) -------------------------------------
FAMILY = {"Nguyễn": 31, "Trần": 11, "Lê": 9, "Phạm": 5, "Huỳnh": 5, "Võ": 5, "Phan": 4, "Trương": 2,
          "Bùi": 2, "Đặng": 2, "Đỗ": 2, "Ngô": 2, "Hồ": 2, "Dương": 2, "Đinh": 1, "Lâm": 1, "Mai": 1,
          "Tô": 1, "Lý": 1, "Châu": 1, "Cao": 1, "Thái": 1, "Hà": 1, "Đoàn": 1, "Lưu": 1, "Thạch": 1,
          "Sơn": 1, "Kim": 1, "Danh": 1, "Quách": 1}
MIDDLE_M = ["Văn", "Minh", "Hoàng", "Quốc", "Thanh", "Hữu", "Đức", "Công", "Tấn", "Thành", "Ngọc", "Trọng",
            "Phước", "Duy", "Gia", "Hoài"]
MIDDLE_F = ["Thị", "Ngọc", "Thanh", "Kim", "Thu", "Mỹ", "Bích", "Hồng", "Phương", "Ánh", "Tuyết", "Diễm",
            "Hoài", "Bảo", "Minh", "Cẩm"]
GIVEN_M = ["An", "Bình", "Cường", "Dũng", "Đức", "Hải", "Hùng", "Hưng", "Khoa", "Lâm", "Long", "Minh", "Nam",
           "Nghĩa", "Phát", "Phúc", "Quang", "Sang", "Sơn", "Tài", "Tâm", "Tân", "Thắng", "Thành", "Thịnh",
           "Toàn", "Trung", "Tuấn", "Vinh", "Hòa", "Huy", "Khang", "Lộc", "Lợi", "Tùng", "Tú", "Kiệt", "Hậu",
           "Nhân", "Thuận", "Phong", "Hiếu", "Quý", "Bảo", "Danh", "Đạt", "Hoàng", "Trí", "Tín", "Nhựt",
           "Lực", "Mạnh", "Thiện", "Khải", "Vũ", "Định", "Chiến", "Hiền", "Thủy", "Tuệ"]
GIVEN_F = ["Anh", "Châu", "Diễm", "Dung", "Duyên", "Giang", "Hà", "Hạnh", "Hằng", "Hiền", "Hoa", "Hồng",
           "Huệ", "Hương", "Lan", "Liên", "Linh", "Loan", "Mai", "My", "Nga", "Ngọc", "Nhung", "Oanh",
           "Phượng", "Quyên", "Tâm", "Thảo", "Thúy", "Trang", "Trinh", "Tuyết", "Uyên", "Vân", "Xuân",
           "Yến", "Hòa", "Thủy", "Nhi", "Vy", "Thơ", "Ngân", "Kiều", "Lệ", "Mỹ", "Nhàn", "Sương", "Thắm",
           "Tươi", "Út", "Cúc", "Lài", "Đào", "Hậu", "Phúc", "Khuê", "Huyền", "Quỳnh", "Ly", "Xoàn"]
HAMLET_WORDS = ["Bình Hòa", "Long Thạnh", "Tân Phú", "Phước Lợi", "Hòa Bình", "Trường Lưu", "Cây Dương",
                "Bến Đình", "Suối Ngô", "Thạnh Lộc", "Tân Lập", "An Hòa", "Phước Hưng", "Long Khánh",
                "Bàu Sen", "Rạch Tràm", "Cầu Tre", "Gò Nổi", "Hiệp Thành", "Thuận An", "Mỹ Lộc", "Tân Định",
                "Bình Thủy", "Lộc Trung", "Phú Mỹ", "Tân Thuận", "Xóm Mới", "Chánh", "Trà Cao", "Bàu Vừng",
                "Ninh Phước", "Trâm Vàng", "Cẩm An", "Giồng Cát", "Láng", "Bình Quới", "Vĩnh Phong",
                "Long Hưng", "Hòa Thạnh", "Đông", "Tây", "Nam", "Bắc", "Bàu Tràm", "Cây Me"]
PHONE_PREFIXES = ["032", "033", "034", "035", "036", "037", "038", "039", "070", "076", "077", "078", "079",
                  "081", "082", "083", "084", "085", "086", "088", "089", "090", "091", "093", "094", "096",
                  "097", "098"]
PLACEHOLDER_PHONES = ["0000000000", "0123456789", "0999999999", "0900000000", "1111111111"]
BIRTH_PROVINCES = {"072": 62, "080": 26, "079": 4, "074": 2, "070": 2, "086": 1, "087": 1, "089": 1, "038": 1}
SESSION_TITLES = ["Sinh hoạt định kỳ", "Họp chi hội", "Tuyên truyền pháp luật", "Ra quân vệ sinh môi trường",
                  "Sinh hoạt chuyên đề", "Tổng kết quý"]

TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
VOWELS = set("aeiouy")


def strip_marks(text: str) -> str:
    """Every diacritic off, đ -> d (a clerk typing without Vietnamese input)."""
    plain = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", plain.replace("đ", "d").replace("Đ", "D"))


def _letters(word: str) -> list[tuple[str, str]]:
    """Each letter as (letter without its tone, tone mark or '')."""
    out = []
    for ch in unicodedata.normalize("NFC", word):
        parts = unicodedata.normalize("NFD", ch)
        tone = "".join(c for c in parts if c in TONE_MARKS)
        out.append((unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONE_MARKS)), tone))
    return out


def _join(letters: list[tuple[str, str]]) -> str:
    return unicodedata.normalize("NFC", "".join(base + tone for base, tone in letters))


def move_tone(word: str) -> str:
    """The tone mark on the neighbouring vowel ('Hòa' -> 'Hoà', 'Thủy' -> 'Thuỷ'); unchanged without one."""
    letters = _letters(word)
    vowels = [i for i, (b, _) in enumerate(letters) if strip_marks(b).lower() in VOWELS]
    toned = [i for i in vowels if letters[i][1]]
    if not toned or len(vowels) < 2:
        return word
    i = toned[0]
    j = next((v for v in vowels if v == i + 1), next((v for v in vowels if v == i - 1), None))
    if j is None:
        return word
    letters[j], letters[i] = (letters[j][0], letters[i][1]), (letters[i][0], "")
    return _join(letters)


def tone_variant(word: str, rng: random.Random) -> str:
    """Another tone on the same letters ('Hạnh' -> 'Hanh', 'Tâm' -> 'Tấm')."""
    letters = _letters(word)
    vowels = [i for i, (b, _) in enumerate(letters) if strip_marks(b).lower() in VOWELS]
    i = next((v for v in vowels if letters[v][1]), vowels[-1] if vowels else None)
    if i is None:
        return word + "h"
    tone = rng.choice(sorted(({""} | TONE_MARKS) - {letters[i][1]}))
    letters[i] = (letters[i][0], tone)
    return _join(letters)


_FINAL_SWAP = {"ng": "nh", "nh": "ng", "m": "n", "n": "m", "t": "c", "c": "t", "p": "t"}


def one_letter_variant(word: str, rng: random.Random) -> str:
    """A name one letter away ('Tâm' -> 'Tân', 'Hùng' -> 'Hùnh'... else another first consonant)."""
    for final, other in _FINAL_SWAP.items():
        if word.endswith(final) and len(word) > len(final) + 1:
            return word[: -len(final)] + other
    first = rng.choice([c for c in "BCDGHKLMNPTV" if c != word[0]])
    return first + word[1:]


def typo(word: str, rng: random.Random) -> str:
    """One letter dropped, doubled or replaced."""
    if len(word) < 3:
        return word + word[-1]
    i = rng.randrange(1, len(word))
    kind = rng.choice(("drop", "double", "replace"))
    if kind == "drop":
        return word[:i] + word[i + 1:]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    return word[:i] + rng.choice("aeinoptu") + word[i + 1:]


# --- places ------------------------------------------------------------------------------------------
@dataclass
class OldCommune:
    code: str
    name: str
    district: str


@dataclass
class Hamlet:
    code: str
    name: str
    commune: "Commune"
    old: OldCommune


@dataclass
class Commune:
    code: str
    name: str
    olds: list[OldCommune]
    hamlets: list[Hamlet] = field(default_factory=list)

    @property
    def rural(self) -> bool:
        return self.name.startswith("Xã")


def load_communes(rng: random.Random, count: int) -> list[Commune]:
    """``count`` new communes of the default deployment's province, Tây Ninh (the public crosswalk the
    warehouse's reference seeds are rendered from, ``lienthong.text.addresses.crosswalk``), with
    their unsplit old communes, and made-up hamlets (each in one old commune)."""
    from lienthong.text.addresses import CommuneRef, crosswalk

    olds: dict[CommuneRef, list[OldCommune]] = defaultdict(list)
    for old, news in crosswalk():
        if len(news) == 1:
            olds[news[0]].append(OldCommune(old.code, old.name, old.district or ""))
    keys = sorted(olds, key=lambda unit: unit.key)
    chosen = sorted(rng.sample(keys, min(count, len(keys))), key=lambda unit: unit.key)
    communes = []
    for unit in chosen:
        commune = Commune(unit.code, unit.name, olds[unit])
        n = rng.randint(8, 14)
        words = rng.sample(HAMLET_WORDS, n)
        for i in range(n):
            name = f"Ấp {words[i]}" if commune.rural else f"Khu phố {i + 1}"
            commune.hamlets.append(Hamlet(f"{commune.code}-{i + 1:02d}", name, commune, rng.choice(commune.olds)))
        communes.append(commune)
    return communes


# --- people ------------------------------------------------------------------------------------------
@dataclass
class Person:
    pid: str
    family: str
    middle: str
    given: str
    sex: str
    birth: dt.date | None
    hamlet: Hamlet
    cccd: str = ""
    cmnd: str = ""
    phone: str = ""               # the phone the person gives on rolls
    farmer: bool = False
    prev_hamlet: Hamlet | None = None
    died_on: dt.date | None = None
    fabricated: bool = False

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.family, self.middle, self.given) if p)

    def age(self, on: dt.date) -> int:
        return on.year - self.birth.year - ((on.month, on.day) < (self.birth.month, self.birth.day))


def _weighted(rng: random.Random, table: dict[str, int]) -> str:
    return rng.choices(list(table), weights=list(table.values()))[0]


def _birth(rng: random.Random, age: int, on: dt.date) -> dt.date:
    return on - dt.timedelta(days=age * 365 + rng.randrange(365))


def _phone(rng: random.Random) -> str:
    return rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10 ** 7):07d}"


def _cccd(rng: random.Random, sex: str, birth: dt.date, used: set[str]) -> str:
    while True:
        century = (0 if birth.year < 2000 else 2) + (sex == "F")
        number = f"{_weighted(rng, BIRTH_PROVINCES)}{century}{birth.year % 100:02d}{rng.randrange(10 ** 6):06d}"
        if number not in used:
            used.add(number)
            return number


class World:
    """The communes' people, households and relations."""

    def __init__(self, rng: random.Random, spec: dict, people: int):
        self.rng, self.spec, self.day = rng, spec, spec["first_day"]
        self.pop = spec["population"]
        self.communes = load_communes(rng, max(3, people // spec["people_per_commune"]))
        self.persons: list[Person] = []
        self.relations: list[tuple[str, str, str]] = []  # (person, kind, related person)
        self._ids: set[str] = set()
        per_commune = people / len(self.communes)
        for commune in self.communes:
            target = len(self.persons) + per_commune
            while len(self.persons) < target:
                self._household(rng.choice(commune.hamlets))
        self._moves_and_deaths()

    def _new(self, family, middle, given, sex, age, hamlet, phone="") -> Person:
        rng, pop = self.rng, self.pop
        birth = _birth(rng, age, self.day)
        p = Person(f"X{len(self.persons) + 1:07d}", family, middle, given, sex, birth, hamlet)
        if age >= 14 and rng.random() >= pop["no_id"]:
            p.cccd = _cccd(rng, sex, birth, self._ids)
            if birth.year < 1985 and rng.random() < pop["cmnd_holder"]:
                p.cmnd = f"{rng.choice(('27', '28', '29', '30', '31'))}{rng.randrange(10 ** 7):07d}"
        p.phone = phone or (_phone(rng) if age >= 16 and rng.random() < pop["own_phone"] else "")
        p.farmer = hamlet.commune.rural and rng.random() < 0.6
        self.persons.append(p)
        return p

    def _middle(self, sex: str, age: int) -> str:
        traditional = 0.75 if age >= 45 else 0.4 if age >= 25 else 0.2
        if self.rng.random() < traditional:
            return "Văn" if sex == "M" else "Thị"
        return self.rng.choice(MIDDLE_M[1:] if sex == "M" else MIDDLE_F[1:])

    def _given(self, sex: str) -> str:
        return self.rng.choice(GIVEN_M if sex == "M" else GIVEN_F)

    def _household(self, hamlet: Hamlet) -> None:
        rng, pop = self.rng, self.pop
        if rng.random() >= pop["household_couple"]:
            elder = rng.random() < pop["lone_elder"]
            age = rng.randint(60, 92) if elder else rng.randint(18, 35)
            sex = "F" if rng.random() < (0.65 if elder else 0.5) else "M"
            self._new(_weighted(rng, FAMILY), self._middle(sex, age), self._given(sex), sex, age, hamlet)
            return
        age = int(rng.triangular(24, 85, 40))
        family = _weighted(rng, FAMILY)
        father = self._new(family, self._middle("M", age), self._given("M"), "M", age, hamlet)
        father.phone = father.phone or _phone(rng)
        mother_age = max(20, age - rng.randint(-2, 7))
        if rng.random() < pop["wife_present"]:
            wife = self._new(_weighted(rng, FAMILY), self._middle("F", mother_age), self._given("F"), "F",
                             mother_age, hamlet)
            if rng.random() < pop["wife_on_household_phone"]:
                wife.phone = father.phone
            self.relations.append((wife.pid, "spouse", father.pid))
        children = []
        for _ in range(rng.randint(*pop["children"])):
            child_age = mother_age - rng.randint(20, 40)
            if child_age >= 0:
                children.append(child_age)
        if children and rng.random() < pop["twins"]:
            children.append(children[0])
        twin_of: dict[int, Person] = {}
        for child_age in children:
            sex = rng.choice("FM")
            middle = father.middle if sex == "M" and rng.random() < pop["son_same_middle"] else self._middle(sex, child_age)
            twin = twin_of.get(child_age)
            given = self._given(sex)
            if twin:
                middle, draw = (twin.middle if twin.sex == sex else middle), rng.random()
                if draw < pop["twin_one_letter"]:
                    given = one_letter_variant(twin.given, rng)
                elif draw < pop["twin_one_letter"] + pop["twin_tone_only"]:
                    given = tone_variant(twin.given, rng)
            phone = father.phone if child_age >= 16 and rng.random() < pop["child_on_household_phone"] else ""
            child = self._new(family, middle, given, sex, child_age, hamlet, phone)
            if twin:
                child.birth = twin.birth
                self.relations.append((child.pid, "twin", twin.pid))
            twin_of.setdefault(child_age, child)
            self.relations.append((child.pid, "child", father.pid))

    def _moves_and_deaths(self) -> None:
        rng, pop = self.rng, self.pop
        for p in self.persons:
            age = p.age(self.day)
            if age >= 18 and len(self.communes) > 1 and rng.random() < pop["moved"]:
                other = rng.choice([c for c in self.communes if c is not p.hamlet.commune])
                p.prev_hamlet, p.hamlet = p.hamlet, rng.choice(other.hamlets)
            weight = 8 if age >= 75 else 3 if age >= 60 else 0.3 if age >= 18 else 0
            if rng.random() < pop["died"] * weight:
                p.died_on = self.day - dt.timedelta(days=rng.randrange(1, 365))


# --- records -----------------------------------------------------------------------------------------
@dataclass
class Record:
    record_id: str
    sender: str
    person: Person
    hamlet: Hamlet                # where the roll has the member (a stale one for some who moved)
    joined: dt.date
    noise: list[str] = field(default_factory=list)
    planted: list[str] = field(default_factory=list)
    duplicate_of: str = ""
    removed_on: dt.date | None = None
    ghost_kinds: list[tuple[str, str]] = field(default_factory=list)  # (kind, detail)
    values: dict = field(default_factory=dict)  # the written fields (decided once)
    habit_dues: str = "regular"
    habit_attend: str = "regular"


class Rolls:
    """Every sender's records, their written values, the planted ghosts and the truth."""

    def __init__(self, world: World, spec: dict, rng: random.Random):
        self.world, self.spec, self.rng = world, spec, rng
        self.day, self.day2 = spec["first_day"], spec["second_day"]
        self.senders = spec["senders"]
        self.records: dict[str, list[Record]] = {code: [] for code in self.senders}
        self.joins: dict[str, list[Record]] = {code: [] for code in self.senders}
        self.leaves: dict[str, list[Record]] = {code: [] for code in self.senders}
        self._counters = Counter()
        self._ghost_ids = 0
        for code, sender in self.senders.items():
            for p in world.persons:  # the dead of the year too: their records were never removed
                rate = self._join_rate(sender, p)
                if rate and rng.random() < rate:
                    self._add(code, p, self._roll_hamlet(p))
        self._duplicates()
        real = sum(len(v) for v in self.records.values())
        self._fabricated()
        self._copies(round(spec["ghosts"]["copy"] * real))
        self._non_members(round(spec["ghosts"]["non_member"] * real))
        self._changes()
        for code, records in self.records.items():
            for r in [*records, *self.joins[code]]:
                r.values = self._written(code, r)

    # who joins
    def _join_rate(self, sender: dict, p: Person) -> float:
        rule, age = sender["eligible"], p.age(self.day)
        if rule.get("sex") and p.sex != rule["sex"]:
            return 0.0
        if rule.get("rural") and not p.farmer:
            return 0.0
        if age < rule.get("min_age", 0):
            return 0.0
        top = rule.get("max_age")
        if top is not None and age > top:
            return sender["join"] * self.spec["ghosts"]["aged_out"] if age <= top + 4 else 0.0
        return sender["join"]

    def _roll_hamlet(self, p: Person) -> Hamlet:
        stale = p.prev_hamlet and self.rng.random() < self.spec["noise"]["stale_address"]
        return p.prev_hamlet if stale else p.hamlet

    def _record_id(self, code: str, hamlet: Hamlet) -> str:
        self._counters[code] += 1
        rid = self.senders[code]["record_id"]
        if rid is None:
            return f"{self.senders[code]['truth_prefix']}{self._counters[code]:06d}"
        return rid["format"].format(commune=hamlet.commune.code, n=self._counters[code])

    def _add(self, code: str, p: Person, hamlet: Hamlet, joined: dt.date | None = None, into: list | None = None) -> Record:
        rng = self.rng
        if joined is None:
            start = max(dt.date(2005, 1, 1), dt.date(p.birth.year + 16, 1, 1) if p.birth else dt.date(2005, 1, 1))
            span = max(1, (self.day - dt.timedelta(days=30) - start).days)
            joined = start + dt.timedelta(days=rng.randrange(span))
        r = Record(self._record_id(code, hamlet), code, p, hamlet, joined)
        if p.prev_hamlet and hamlet is p.prev_hamlet:
            r.noise.append("stale_address")
        dues, attend = self.spec["dues"], self.spec["attendance"]
        draw = rng.random()
        r.habit_dues = "regular" if draw < dues["regular"] else "irregular" if draw < dues["regular"] + dues["irregular"] else "lapsed"
        draw = rng.random()
        r.habit_attend = ("never" if draw < attend["never"] else
                          "irregular" if draw < attend["never"] + attend["irregular_share"] else "regular")
        (self.records[code] if into is None else into).append(r)
        age = p.age(self.day) if p.birth else None
        top = self.senders[code]["eligible"].get("max_age")
        if not p.fabricated and top is not None and age is not None and age > top:
            r.ghost_kinds.append(("ineligible_age", ""))
        if p.died_on:
            r.ghost_kinds.append(("deceased", p.died_on.isoformat()))
        return r

    def _duplicates(self) -> None:
        rate = self.spec["noise"]["duplicate_other_unit"]
        for code, records in self.records.items():
            per = self.senders[code]["unit"]["per"]
            for r in list(records):
                if self.rng.random() < rate:
                    hamlets = [h for h in r.hamlet.commune.hamlets if h is not r.hamlet] if per == "hamlet" else \
                        [h for c in self.world.communes if c is not r.hamlet.commune for h in c.hamlets]
                    twin = self._add(code, r.person, self.rng.choice(hamlets))
                    twin.duplicate_of = r.record_id
                    twin.ghost_kinds.append(("duplicate", r.record_id))

    def _ghost_person(self, **values) -> Person:
        self._ghost_ids += 1
        p = Person(f"G{self._ghost_ids:06d}", fabricated=True, **values)
        self.world.persons.append(p)
        return p

    def _fabricated(self) -> None:
        """Invented members padded into a unit: a neighbour of a real record, with its tells."""
        g, rng = self.spec["ghosts"], self.rng
        for code, records in self.records.items():
            rule = self.senders[code]["eligible"]
            for beside in rng.sample(records, round(g["fabricated"] * len(records))):
                tells = []
                sex = rule.get("sex") or rng.choice("FM")
                real = beside.person
                if rng.random() < g["fabricated_odd_age"]:
                    age = rng.choice((rng.randint(3, 14), rng.randint(96, 112)))
                    tells.append("odd_age")
                else:
                    age = rng.randint(rule.get("min_age", 18), rule.get("max_age") or 80)
                if rng.random() < g["fabricated_copies_name"]:
                    family, middle, given, sex = real.family, real.middle, real.given, real.sex
                    if "odd_age" not in tells:
                        age = max(rule.get("min_age", 18), real.age(self.day) + rng.choice((-1, 1)) * rng.randint(1, 15))
                    tells.append("name_copy")
                else:
                    family = _weighted(rng, FAMILY)
                    middle, given = self.world._middle(sex, age), self.world._given(sex)
                hamlet = beside.hamlet
                p = self._ghost_person(family=family, middle=middle, given=given, sex=sex,
                                       birth=_birth(rng, age, self.day), hamlet=hamlet)
                if "name_copy" not in tells and rng.random() >= g["fabricated_no_id"]:
                    p.cccd = f"{rng.randrange(10 ** 12):012d}"
                else:
                    tells.append("no_id")
                if rng.random() < g["fabricated_placeholder_phone"]:
                    p.phone = rng.choice(PLACEHOLDER_PHONES)
                    tells.append("placeholder_phone")
                elif rng.random() < 0.5:
                    p.phone = _phone(rng)
                r = self._add(code, p, hamlet, joined=self.day - dt.timedelta(days=rng.randrange(60, 900)))
                if rng.random() < g["fabricated_unknown_hamlet"]:
                    r.values["unknown_hamlet"] = (f"Ấp {rng.choice(HAMLET_WORDS)} {rng.randint(2, 5)}"
                                                  if hamlet.commune.rural else f"Khu phố {rng.randint(20, 40)}")
                    tells.append("unknown_hamlet")
                r.planted = ["fabricated", *tells]
                r.ghost_kinds = [("fabricated", beside.record_id if "name_copy" in tells else "")]
                r.habit_dues = "irregular" if rng.random() < 0.5 else "lapsed"
                r.habit_attend = "never" if rng.random() < 0.5 else "irregular"

    def _fits(self, code: str, p: Person) -> bool:
        sex = self.senders[code]["eligible"].get("sex")
        return not sex or p.sex == sex

    def _copies(self, count: int) -> None:
        """A real member's name (sometimes phone, unit's place) on another sender's roll, with an
        invented or missing birth date and ID (issue #13's padded ghosts)."""
        g, rng = self.spec["ghosts"], self.rng
        pool = [r for records in self.records.values() for r in records if not r.person.fabricated]
        for real in rng.sample(pool, min(count, len(pool))):
            p = real.person
            others = [c for c in self.senders if c != real.sender and self._fits(c, p)]
            if not others:
                continue
            code = rng.choice(others)
            rule = self.senders[code]["eligible"]
            birth = None if rng.random() < g["copy_birth_missing"] else \
                _birth(rng, rng.randint(rule.get("min_age", 18), rule.get("max_age") or 75), self.day)
            ghost = self._ghost_person(family=p.family, middle=p.middle, given=p.given, sex=p.sex, birth=birth,
                                       hamlet=real.hamlet)
            if rng.random() < g["copy_invented_id"]:
                ghost.cccd = f"{rng.randrange(10 ** 12):012d}"
            ghost.phone = p.phone if rng.random() < g["copy_phone"] else ""
            r = self._add(code, ghost, real.hamlet, joined=self.day - dt.timedelta(days=rng.randrange(60, 900)))
            r.planted = ["ghost_copy"]
            r.ghost_kinds = [("fabricated", real.record_id)]
            r.habit_dues = "irregular" if rng.random() < 0.5 else "lapsed"
            r.habit_attend = "never" if rng.random() < 0.5 else "irregular"
            self.world.relations.append((ghost.pid, "ghost_copy", p.pid))

    def _non_members(self, count: int) -> None:
        """Adults of the communes on no roll, padded into one with their real identity."""
        rng = self.rng
        on_rolls = {r.person.pid for records in self.records.values() for r in records}
        pool = [p for p in self.world.persons if not p.fabricated and p.pid not in on_rolls and not p.died_on
                and p.age(self.day) >= 18]
        for p in rng.sample(pool, min(count, len(pool))):
            code = rng.choice([c for c in self.senders if self._fits(c, p)])
            r = self._add(code, p, p.hamlet, joined=self.day - dt.timedelta(days=rng.randrange(60, 900)))
            r.planted = ["non_member"]
            r.ghost_kinds = [("non_member", "")]
            r.habit_dues = "lapsed"
            r.habit_attend = "never" if rng.random() < 0.7 else "irregular"

    def _changes(self) -> None:
        """Second day: new members and leavers of the senders that send changes."""
        rng = self.rng
        for code, sender in self.senders.items():
            if "changes" not in sender:
                continue
            records = self.records[code]
            members = {r.person.pid for r in records}
            pool = [p for p in self.world.persons if p.pid not in members and not p.fabricated and not p.died_on
                    and self._join_rate(sender, p) > 0 and p.age(self.day) <= (sender["eligible"].get("max_age") or 200)]
            for p in rng.sample(pool, min(len(pool), round(self.spec["joins_second_day"] * len(records)))):
                self._add(code, p, p.hamlet, joined=self.day2, into=self.joins[code])
            for r in rng.sample(records, round(self.spec["leaves_second_day"] * len(records))):
                r.removed_on = self.day2
                self.leaves[code].append(r)

    # how a record is written (decided once per record)
    def _rate(self, code: str, kind: str) -> float:
        return self.senders[code].get("noise", {}).get(kind, self.spec["noise"][kind])

    def _written(self, code: str, r: Record) -> dict:
        rng, p, layout = self.rng, r.person, self.senders[code]["roster"]
        hit = lambda kind: rng.random() < self._rate(code, kind)  # noqa: E731
        noise = r.noise
        # name
        given, middle = p.given, p.middle
        if hit("name_given_typo"):
            given = typo(given, rng)
            noise.append("name_given_typo")
        if hit("name_tone_other_vowel") and move_tone(given) != given:
            given = move_tone(given)
            noise.append("name_tone_other_vowel")
        if hit("name_dropped_middle") and middle:
            middle = ""
            noise.append("name_dropped_middle")
        name = " ".join(x for x in (p.family, middle, given) if x)
        if hit("name_no_tones"):
            name = strip_marks(name)
            noise.append("name_no_tones")
        if hit("name_caps"):
            name = name.upper()
            noise.append("name_caps")
        if hit("name_extra_space"):
            name = rng.choice((" " + name, name + " ", name.replace(" ", "  ", 1)))
            noise.append("name_extra_space")
        utf8 = layout["format"] == "csv" and layout.get("encoding", "utf-8").startswith("utf")
        if utf8 and hit("name_nfd"):
            name = unicodedata.normalize("NFD", name)
            noise.append("name_nfd")
        # birth: (year, month, day) or None; year-only as (year, None, None)
        birth = None if p.birth is None else (p.birth.year, p.birth.month, p.birth.day)
        if birth and hit("birth_missing"):
            birth = None
            noise.append("birth_missing")
        elif birth and hit("birth_year_only"):
            birth = (birth[0], None, None)
            noise.append("birth_year_only")
        elif birth and hit("birth_placeholder"):
            birth = (birth[0], 1, 1)
            noise.append("birth_placeholder")
        elif birth and birth[2] <= 12 and birth[1] != birth[2] and hit("birth_day_month_swap"):
            birth = (birth[0], birth[2], birth[1])
            noise.append("birth_day_month_swap")
        # ID
        number = p.cccd
        if p.cmnd and hit("id_old_cmnd"):
            number = p.cmnd
            noise.append("id_old_cmnd")
        if number and not p.fabricated and hit("id_missing"):
            number = ""
            noise.append("id_missing")
        if number and hit("id_typo"):
            i = rng.randrange(3, len(number))
            number = number[:i] + rng.choice([d for d in "0123456789" if d != number[i]]) + number[i + 1:]
            noise.append("id_typo")
        elif number and hit("id_swap"):
            i = rng.randrange(3, len(number) - 1)
            if number[i] != number[i + 1]:
                number = number[:i] + number[i + 1] + number[i] + number[i + 2:]
                noise.append("id_swap")
        if number and isinstance(layout.get("id"), dict) and rng.random() < layout["id"].get("excel_marker", 0):
            number = "'" + number
        # phone
        phone = p.phone
        if phone and phone not in PLACEHOLDER_PHONES:
            if hit("phone_missing"):
                phone = ""
                noise.append("phone_missing")
            elif hit("phone_styled"):
                style = rng.randrange(3)
                phone = (f"+84 {phone[1:4]} {phone[4:7]} {phone[7:]}" if style == 0 else
                         f"{phone[:4]}.{phone[4:7]}.{phone[7:]}" if style == 1 else f"{phone[:4]} {phone[4:7]} {phone[7:]}")
        # place
        h = r.hamlet
        hamlet = r.values.get("unknown_hamlet") or h.name
        old = hit("old_commune_name")
        commune, district = (h.old.name, h.old.district) if old else (h.commune.name, "")
        if old and h.old.name != h.commune.name:
            noise.append("old_commune_name")
        if hit("address_abbreviated"):
            hamlet = (hamlet.replace("Khu phố ", rng.choice(("KP", "KP ", "kp.")))
                      .replace("Ấp ", rng.choice(("ấp ", "Ấp. ", "ap "))))
            commune = commune.replace("Xã ", "X. ").replace("Phường ", "P. ").replace("Thị trấn ", "TT. ")
            district = (district.replace("Huyện ", "H. ").replace("Thị xã ", "TX. ").replace("Thành phố ", "TP. "))
            noise.append("address_abbreviated")
        if hit("address_no_tones"):
            hamlet, commune, district = strip_marks(hamlet), strip_marks(commune), strip_marks(district)
            noise.append("address_no_tones")
        unit = self.senders[code]["unit"]
        unit_name = unit["name"].format(hamlet=h.name, commune=h.commune.name)
        return {"name": name, "birth": birth, "id": number, "phone": phone, "hamlet": hamlet, "commune": commune,
                "district": district if old and rng.random() < 0.5 else "", "unit": unit_name,
                "unit_code": f"{code}:{h.code if unit['per'] == 'hamlet' else h.commune.code}"}


# --- writing -----------------------------------------------------------------------------------------
def _birth_text(birth, style: str):
    if birth is None:
        return ""
    year, month, day = birth
    if month is None or style == "year":
        return str(year)
    if style == "date_cell":
        return dt.datetime(year, month, day)
    return f"{day:02d}.{month:02d}.{year}" if style == "dmy_dots" else f"{day:02d}/{month:02d}/{year}"


def _roster_columns(sender: dict, changes: bool) -> list[tuple[str, str]]:
    """(header, canonical field) in file order."""
    layout = sender["roster"]
    cols = []
    if layout.get("row_no"):
        cols.append((layout["row_no"], "source_row_no"))
    if sender["record_id"]:
        cols.append((sender["record_id"]["header"], "member_code"))
    if "full" in layout["name"]:
        cols.append((layout["name"]["full"], "full_name"))
    else:
        cols += list(zip(layout["name"]["split"], ("family_name", "given_names")))
    cols.append((layout["birth"]["header"], "birth_year" if layout["birth"]["style"] == "year" else "birth_date"))
    if "header" in layout["sex"]:
        cols.append((layout["sex"]["header"], "sex"))
    id_header = layout["id"]["header"] if isinstance(layout["id"], dict) else layout["id"]
    cols.append((id_header, "id_number"))
    if layout.get("phone"):
        cols.append((layout["phone"], "phone"))
    place = layout["place"]
    cols += [(place["address"], "address")] if "address" in place else [(place["hamlet"], "hamlet"), (place["commune"], "commune")]
    cols.append((layout["unit"], "unit_name"))
    if layout.get("joined"):
        cols.append((layout["joined"], "joined_on"))
    if changes:
        cols += [(sender["changes"]["type"], "change_type"), (sender["changes"]["date"], "changed_on")]
    return cols


def _sex_text(sender: dict, sex: str) -> str:
    codes = sender["roster"]["sex"].get("codes", {})
    return next((k for k, v in codes.items() if v == sex), sex)


def _roster_row(sender: dict, r: Record, number: int, cols, change: tuple[str, dt.date] | None = None) -> list:
    v, layout = r.values, sender["roster"]
    style = layout["birth"]["style"]
    out = []
    for _, canonical in cols:
        if canonical == "source_row_no":
            out.append(number)
        elif canonical == "member_code":
            out.append(r.record_id)
        elif canonical == "full_name":
            out.append(v["name"])
        elif canonical == "family_name":
            out.append(v["name"].strip().split(" ", 1)[0])
        elif canonical == "given_names":
            out.append(v["name"].strip().split(" ", 1)[1] if " " in v["name"].strip() else "")
        elif canonical in ("birth_date", "birth_year"):
            out.append(_birth_text(v["birth"], style))
        elif canonical == "sex":
            out.append(_sex_text(sender, r.person.sex))
        elif canonical == "id_number":
            out.append(v["id"])
        elif canonical == "phone":
            out.append(v["phone"])
        elif canonical == "address":
            out.append(", ".join(x for x in (v["hamlet"], v["commune"], v["district"]) if x))
        elif canonical == "hamlet":
            out.append(v["hamlet"])
        elif canonical == "commune":
            out.append(v["commune"])
        elif canonical == "unit_name":
            out.append(v["unit"])
        elif canonical == "joined_on":
            out.append(_date_text(r.joined, style))
        elif canonical == "change_type":
            out.append(change[0])
        elif canonical == "changed_on":
            out.append(_date_text(change[1], style))
    return out


def _date_text(day: dt.date, style: str):
    if style == "date_cell":
        return dt.datetime(day.year, day.month, day.day)
    return day.strftime("%d.%m.%Y" if style == "dmy_dots" else "%d/%m/%Y")


def _write_csv(path: Path, header: list[str], rows: list[list], encoding: str, delimiter: str) -> None:
    from lienthong.text.legacy_encodings import encode

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = buffer.getvalue()
    data = text.encode(encoding) if encoding.startswith("utf") else encode(text, encoding)
    path.write_bytes(data)


def _write_xlsx(path: Path, sheet: str, title: list[str], header: list[str], rows: list[list]) -> None:
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path))
    book.set_properties({"created": dt.datetime(2026, 1, 1)})  # same bytes for the same seed
    ws = book.add_worksheet(sheet)
    date_format = book.add_format({"num_format": "dd/mm/yyyy"})
    for i, line in enumerate(title):
        ws.write(i, 0, line)
    top = len(title)
    ws.write_row(top, 0, header)
    for i, row in enumerate(rows, start=top + 1):
        for j, value in enumerate(row):
            if isinstance(value, dt.datetime):
                ws.write_datetime(i, j, value, date_format)
            elif isinstance(value, str):
                if value:
                    ws.write_string(i, j, value)  # IDs and phones keep their leading zeros
            else:
                ws.write_number(i, j, value)
    book.close()


class Writer:
    def __init__(self, out: Path, world: World, rolls: Rolls, spec: dict, roll_only: bool, seed: int):
        self.out, self.world, self.rolls, self.spec = out, world, rolls, spec
        self.roll_only, self.seed = roll_only, seed
        self.delivery_rows: list[list] = []
        self.files: dict[str, list[dict]] = defaultdict(list)
        self.rng = random.Random(f"{seed}-activity")  # dues and meetings: a stream of their own

    def write(self) -> dict:
        spec, day, day2 = self.spec, self.spec["first_day"], self.spec["second_day"]
        for code, sender in spec["senders"].items():
            self._config(code, sender)
            records = sorted(self.rolls.records[code], key=lambda r: (r.values["unit_code"], r.record_id))
            self._roster(code, sender, day, sender["roster"]["file"], records, None)
            if "changes" in sender and (self.rolls.joins[code] or self.rolls.leaves[code]):
                changes = [(r, "join") for r in self.rolls.joins[code]] + [(r, "leave") for r in self.rolls.leaves[code]]
                self._roster(code, sender, day2, sender["changes"]["file"], [r for r, _ in changes],
                             [self._change_word(sender, kind) for _, kind in changes])
            if not self.roll_only:
                if "dues" in sender:
                    self._dues(code, sender, records)
                if "activities" in sender:
                    self._activities(code, sender, records)
        return self._truth()

    @staticmethod
    def _change_word(sender: dict, kind: str) -> str:
        return next(k for k, v in sender["changes"]["kinds"].items() if v == kind)

    def _roster(self, code, sender, day, name, records, kinds) -> None:
        layout = sender["roster"]
        cols = _roster_columns(sender, kinds is not None)
        rows = [_roster_row(sender, r, i, cols, (kinds[i - 1], self.spec["second_day"]) if kinds else None)
                for i, r in enumerate(records, start=1)]
        path = self.out / "deliveries" / code / day.isoformat() / name
        header = [h for h, _ in cols]
        if layout["format"] == "xlsx":
            sheet = layout["sheet"] if kinds is None else "Biến động"
            _write_xlsx(path, sheet, layout.get("title", []) if kinds is None else [], header, rows)
        else:
            _write_csv(path, header, rows, layout["encoding"], layout["delimiter"])
        for i, r in enumerate(records, start=1):
            self.delivery_rows.append([code, day.isoformat(), name, i, r.record_id])
        self.files[code].append({"date": day.isoformat(), "file": name, "rows": len(rows)})

    def _entity_file(self, code, entity, header, rows) -> None:
        path = self.out / "deliveries" / code / self.spec["first_day"].isoformat() / entity["file"]
        _write_csv(path, header, rows, entity["encoding"], entity["delimiter"])
        self.files[code].append({"date": self.spec["first_day"].isoformat(), "file": entity["file"], "rows": len(rows)})

    def _months(self) -> list[dt.date]:
        first = self.spec["first_day"].replace(day=1)
        months = []
        for back in range(self.spec["history_months"]):
            y, m = divmod(first.year * 12 + first.month - 1 - back, 12)
            months.append(dt.date(y, m + 1, 1))
        return months[::-1]

    @staticmethod
    def _member_values(r: Record, style: str) -> dict:
        """The roster's own text of the member, which dues and meeting rows repeat."""
        return {"member_code": r.record_id, "full_name": r.values["name"], "unit_name": r.values["unit"],
                "birth_date": _birth_text(r.values["birth"], style) if style != "date_cell" else ""}

    def _dues(self, code, sender, records) -> None:
        entity, rng, day = sender["dues"], self.rng, self.spec["first_day"]
        headers = entity["headers"]
        style = sender["roster"]["birth"]["style"]
        rows, months = [], self._months()
        recent = months[-6:]
        for r in records:
            paid = []
            alive_until = r.person.died_on or day
            if "yearly" in entity:
                for year in sorted({m.year for m in months}):
                    due = dt.date(year, 3, 1)
                    if due < r.joined.replace(day=1) or due > alive_until or due > day:
                        continue
                    if self._pays(r, year == day.year):
                        paid.append((str(year), entity["yearly"], due + dt.timedelta(days=rng.randrange(0, 60))))
            else:
                for m in months:
                    if m < r.joined.replace(day=1) or m > alive_until:
                        continue
                    if self._pays(r, m in recent):
                        text = f"{m.month:02d}/{m.year}" if entity["period_style"] == "mm/yyyy" else f"{m.year}-{m.month:02d}"
                        paid.append((text, entity["monthly"], min(day, m + dt.timedelta(days=rng.randrange(3, 27)))))
            base = self._member_values(r, style)
            for period, amount, on in paid:
                amount_text = f"{amount:,}".replace(",", ".")
                values = {**base, "period": period, "amount": amount_text,
                          "paid_on": on.isoformat() if style == "date_cell" else on.strftime("%d/%m/%Y")}
                rows.append([values[f] for f in headers])
            if not any(self._recent_period(p, recent) for p, _, _ in paid):
                r.ghost_kinds.append(("no_dues", ""))
        self._entity_file(code, entity, list(headers.values()), rows)

    @staticmethod
    def _recent_period(period: str, recent: list[dt.date]) -> bool:
        if len(period) == 4:
            return int(period) == recent[-1].year
        return any(period in (f"{m.month:02d}/{m.year}", f"{m.year}-{m.month:02d}") for m in recent)

    def _pays(self, r: Record, recent: bool) -> bool:
        if r.habit_dues == "regular":
            return True
        if r.habit_dues == "irregular":
            return self.rng.random() < 0.5
        return not recent and self.rng.random() < 0.7

    def _activities(self, code, sender, records) -> None:
        entity, rng, day = sender["activities"], self.rng, self.spec["first_day"]
        headers = entity["headers"]
        style = sender["roster"]["birth"]["style"]
        by_unit: dict[str, list[Record]] = defaultdict(list)
        for r in records:
            by_unit[r.values["unit_code"]].append(r)
        rows = []
        attended: Counter = Counter()
        for unit_code, members in sorted(by_unit.items()):
            meet_day = rng.randint(5, 25)
            title = rng.choice(SESSION_TITLES)
            for m in self._months()[::entity["every_months"]]:
                session = m.replace(day=meet_day)
                if session > day:
                    continue
                for r in members:
                    if session < r.joined or (r.person.died_on and session > r.person.died_on):
                        continue
                    chance = 0.0 if r.habit_attend == "never" else self.spec["attendance"][r.habit_attend]
                    if rng.random() < chance:
                        attended[r.record_id] += 1
                        values = {**self._member_values(r, style),
                                  "session_on": session.isoformat() if style == "date_cell" else session.strftime("%d/%m/%Y"),
                                  "session_title": title}
                        rows.append([values[f] for f in headers])
        for r in records:
            if not attended[r.record_id]:
                r.ghost_kinds.append(("never_attends", ""))
        self._entity_file(code, entity, list(headers.values()), rows)

    def _config(self, code: str, sender: dict) -> None:
        layout = sender["roster"]
        roster_path = f"{code}/{{date}}/{layout['file']}"

        def connector(path: str, fmt: str, encoding: str | None, delimiter: str | None, sheet: str | None) -> dict:
            c = {"type": "file", "path": path, "format": fmt}
            if fmt == "csv":
                c |= {"encoding": encoding, "delimiter": delimiter}
            elif sheet:
                c["sheet"] = sheet
            return c

        def roster_entity(kind: str, changes: bool) -> dict:
            cols = _roster_columns(sender, changes)
            entity = {"kind": kind,
                      "connector": connector(roster_path if not changes else f"{code}/{{date}}/{sender['changes']['file']}",
                                             layout["format"], layout.get("encoding"), layout.get("delimiter"),
                                             (layout.get("sheet") if not changes else "Biến động")),
                      "columns": {h: f for h, f in cols if f != "member_code"}}
            if sender["record_id"]:
                entity["record_id"] = sender["record_id"]["header"]
            if "constant" in layout["sex"]:
                entity["constants"] = {"sex": layout["sex"]["constant"]}
            entity["required"] = ["full_name" if "full" in layout["name"] else "given_names"]
            return entity

        entities = [roster_entity("roster", False)]
        if "changes" in sender:
            entities.append(roster_entity("roster_changes", True))
        if not self.roll_only:
            for kind in ("dues", "activities"):
                if kind in sender:
                    e = sender[kind]
                    entity = {"kind": kind, "connector": connector(f"{code}/{{date}}/{e['file']}", "csv", e["encoding"],
                                                                   e["delimiter"], None),
                              "columns": {h: f for f, h in e["headers"].items() if f != "member_code"}}
                    if "member_code" in e["headers"]:
                        entity["record_id"] = e["headers"]["member_code"]
                    entities.append(entity)
        config = {"code": code, "name": sender["name"], "short_name": sender["short_name"],
                  "member_word": sender["member_word"], "owner": f"{code}_data",
                  "eligibility": sender["eligibility"], "entities": entities}
        if "codes" in layout["sex"]:
            config["sex_codes"] = layout["sex"]["codes"]
        if "changes" in sender:
            config["change_kinds"] = sender["changes"]["kinds"]
        path = self.out / "configs" / f"{code}.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("# Written by bench/xgen.py from bench/xgen_spec.yml\n"
                        + yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")

    # truth and reference
    def _csv(self, path: Path, header: list[str], rows) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)

    def _truth(self) -> dict:
        out, world, rolls, day = self.out, self.world, self.rolls, self.spec["first_day"]
        iso = lambda d: d.isoformat() if d else ""  # noqa: E731
        all_records = [r for code in rolls.senders for r in (*rolls.records[code], *rolls.joins[code])]
        self._csv(out / "truth" / "persons.csv",
                  ["person_id", "fabricated", "family_name", "middle_name", "given_name", "full_name", "sex",
                   "birth_date", "cccd", "cmnd", "phone", "commune_code", "hamlet_code", "old_commune_code",
                   "occupation", "employer_code", "veteran", "died_on", "moved_away_on", "moved_on", "moved_to_hamlet"],
                  ([p.pid, int(p.fabricated), p.family, p.middle, p.given, p.full_name, p.sex, iso(p.birth), p.cccd,
                    p.cmnd, p.phone, p.hamlet.commune.code, p.hamlet.code, p.hamlet.old.code,
                    "farmer" if p.farmer else "", "", "", iso(p.died_on), "", "", p.hamlet.code if p.prev_hamlet else ""]
                   for p in world.persons))
        self._csv(out / "truth" / "records.csv",
                  ["record_id", "org", "person_id", "unit_code", "unit_code_at_end", "join_date", "removed_on",
                   "end_reason", "on_roll_at_end", "duplicate_of", "noise", "planted"],
                  ([r.record_id, r.sender, r.person.pid, r.values["unit_code"], r.values["unit_code"], iso(r.joined),
                    iso(r.removed_on), "leave" if r.removed_on else "", int(not r.removed_on), r.duplicate_of,
                    ";".join(r.noise), ";".join(r.planted)] for r in all_records))
        self._csv(out / "truth" / "delivery_rows.csv", ["org", "date", "file", "row", "record_id"], self.delivery_rows)
        ghosts = [[r.record_id, r.sender, kind, detail] for r in all_records if r.joined <= day
                  for kind, detail in r.ghost_kinds]
        self._csv(out / "truth" / "ghosts.csv", ["record_id", "org", "kind", "detail"], ghosts)
        self._csv(out / "truth" / "hard_cases.csv", ["person_id", "kind", "related_person_id"], world.relations)
        units = sorted({(r.values["unit_code"], r.sender, r.values["unit"], r.hamlet.commune.code) for r in all_records})
        self._csv(out / "truth" / "units.csv", ["unit_code", "org", "name", "kind", "commune_code"],
                  ([u, o, n, "territorial", c] for u, o, n, c in units))
        # reference: what a statistics office and the population database would publish
        population = Counter()
        for p in world.persons:
            if not p.fabricated and not p.died_on:
                population[(p.hamlet.commune.code, p.sex, min(17, p.age(day) // 5))] += 1
        self._csv(out / "reference" / "population.csv", ["commune_code", "commune_name", "sex", "age_band", "people"],
                  ([c.code, c.name, sex, f"{b * 5}-{b * 5 + 4}" if b < 17 else "85+", population[(c.code, sex, b)]]
                   for c in world.communes for sex in "FM" for b in range(18)))
        self._csv(out / "reference" / "hamlets.csv",
                  ["hamlet_code", "hamlet_name", "commune_code", "commune_name", "old_commune_code", "old_commune_name",
                   "old_district_name", "old_province_name", "old_commune_split"],
                  ([h.code, h.name, c.code, c.name, h.old.code, h.old.name, h.old.district, "", 0]
                   for c in world.communes for h in c.hamlets))
        registry = random.Random(f"{self.seed}-registry")
        changes = sorted([p.cccd, p.full_name, iso(p.birth), p.sex, "died", iso(p.died_on), p.hamlet.commune.code]
                         for p in world.persons if p.died_on and p.cccd
                         and registry.random() < self.spec["population"]["death_registered"])
        self._csv(out / "reference" / "population_changes.csv",
                  ["citizen_id", "full_name", "birth_date", "sex", "change_kind", "changed_on", "commune_code"], changes)
        kinds = Counter(kind for _, _, kind, _ in ghosts)
        roster = [r for code in rolls.senders for r in rolls.records[code]]
        return {"records_first_day": len(roster), "records_total": len(all_records),
                "records_without_id_first_day": sum(1 for r in roster if not r.values["id"]),
                "ghosts": dict(sorted(kinds.items())),
                "people": sum(1 for p in world.persons if not p.fabricated)}


def _json_safe(value):
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value.isoformat() if isinstance(value, dt.date) else value


def generate(out: Path, seed: int, people: int, roll_only: bool = False, spec_path: Path = SPEC) -> dict:
    """Write the sample into ``out`` (replacing nothing outside it); return the manifest."""
    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    rng = random.Random(seed)
    world = World(rng, spec, people)
    rolls = Rolls(world, spec, rng)
    out.mkdir(parents=True, exist_ok=True)
    writer = Writer(out, world, rolls, spec, roll_only, seed)
    summary = writer.write()
    manifest = {"generator": "bench/xgen.py", "seed": seed, "people_asked": people, "roll_only": roll_only,
                "deliveries": {"from": spec["first_day"].isoformat(), "to": spec["second_day"].isoformat()},
                "communes": [c.code for c in world.communes], **summary,
                "senders": {code: {"records_first_day": len(rolls.records[code]), "files": writer.files[code]}
                            for code in spec["senders"]},
                "rates": _json_safe({k: spec[k] for k in ("population", "noise", "ghosts", "dues", "attendance",
                                                          "joins_second_day", "leaves_second_day")}),
                "sender_noise": {code: s.get("noise", {}) for code, s in spec["senders"].items()}}
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return manifest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--people", type=int, required=True)
    parser.add_argument("--roll-only", action="store_true", help="rolls only: no dues, no meetings")
    parser.add_argument("--spec", type=Path, default=SPEC)
    args = parser.parse_args()
    manifest = generate(args.out, args.seed, args.people, args.roll_only, args.spec)
    print(json.dumps({k: manifest[k] for k in ("seed", "people", "records_first_day", "records_total",
                                               "records_without_id_first_day", "ghosts")}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
