"""The people of the sample province: names, birth dates, identity numbers, phones, work, life events.

People are made commune by commune from a per-commune random stream, so a commune's people do not
depend on how many communes come before it and the whole province never sits in memory.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import itertools
import random
import zlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from lienthong.sample.geography import Commune, Hamlet

_HERE = Path(__file__).parent

# Age pyramid (5-year bands up to 85, then 85-99), relative weights, Vietnam mid-2020s.
_AGE_BANDS = [7.0, 7.8, 7.9, 7.0, 6.8, 7.3, 8.2, 8.0, 7.4, 6.6, 6.0, 5.4, 4.6, 3.6, 2.5, 1.6, 1.1, 1.0]
# Annual death probability by age threshold.
_MORTALITY = [(50, 0.002), (65, 0.008), (75, 0.02), (85, 0.05), (200, 0.14)]
# Birth-registration provinces of people living here other than the two home provinces (CCCD codes):
# Hồ Chí Minh, Bình Dương, Bình Phước, Đồng Nai, Tiền Giang, Bến Tre, Đồng Tháp, An Giang, Cần Thơ,
# Hà Nội, Thanh Hóa, Nghệ An, Quảng Ngãi.
_OTHER_BIRTH_PROVINCES = ["079", "074", "070", "075", "082", "083", "087", "089", "092", "001", "038", "040", "051"]
_OLD_CMND_PREFIX = {"072": "29", "080": "30"}
_PHONE_PREFIXES = ["032", "033", "034", "035", "036", "037", "038", "039", "056", "058", "070", "076", "077",
                   "078", "079", "081", "082", "083", "084", "085", "086", "088", "089", "090", "091", "093",
                   "094", "096", "097", "098"]
_ENTERPRISE_WORDS = ("Hưng Thịnh Phú Mỹ Việt Tín Tân Hoàng Gia An Phát Minh Long Kim Sơn Đại Lộc Thành "
                     "Công Vĩnh Tiến Nam Á Sao Mai Bình Dương Phước").split()
_ENTERPRISE_TRADES = ["May mặc", "Giày da", "Cao su", "Chế biến thực phẩm", "Bao bì", "Điện tử", "Cơ khí",
                      "Gỗ", "Nhựa", "Dệt", "Thức ăn chăn nuôi", "Mì", "Linh kiện"]
_ZONES = ["KCN Trảng Bàng", "KCN Phước Đông", "KCN Thành Thành Công", "KCN Chà Là", "KCN Long Hậu",
          "KCN Tân Đức", "KCN Đức Hòa III", "KCN Xuyên Á", "KCN Cầu Tràm", "KCN Phúc Long", "KCN Thuận Đạo",
          "KCN Nhựt Chánh", "KCN Hựu Thạnh", "KCN Thạnh Đức"]
_PROVINCIAL_AGENCIES = ["Sở Giáo dục và Đào tạo", "Sở Y tế", "Sở Nông nghiệp và Môi trường", "Sở Tài chính",
                        "Bệnh viện Đa khoa tỉnh", "Công an tỉnh", "Kho bạc Nhà nước khu vực", "Điện lực Tây Ninh"]


@dataclass(frozen=True)
class Employer:
    code: str
    name: str
    commune_code: str
    salaried_public: bool


@dataclass(slots=True)
class Person:
    pid: str
    sex: str  # "F" | "M"
    birth: dt.date
    family: str
    middle: str
    given: str
    cccd: str | None
    cmnd: str | None
    phone: str | None
    commune: Commune
    hamlet: Hamlet
    occupation: str  # child | student | farmer | worker | official | other | retired
    employer: Employer | None = None
    employed_since: dt.date | None = None
    salary: int = 0
    veteran: bool = False
    activism: float = 1.0
    died: dt.date | None = None
    moved_away: dt.date | None = None
    moved_to: Hamlet | None = None  # within the province (or to another of a two-province sample)
    moved_on: dt.date | None = None

    @property
    def full_name(self) -> str:
        return f"{self.family} {self.middle} {self.given}"

    def age_on(self, day: dt.date) -> int:
        return day.year - self.birth.year - ((day.month, day.day) < (self.birth.month, self.birth.day))

    def hamlet_on(self, day: dt.date) -> Hamlet:
        return self.moved_to if self.moved_on and day >= self.moved_on else self.hamlet

    def present_on(self, day: dt.date) -> bool:
        return not (self.died and self.died <= day) and not (self.moved_away and self.moved_away <= day)


class _Weighted:
    """Weighted choice over a fixed table, with cumulative weights computed once."""

    def __init__(self, table: dict):
        self.items = list(table)
        self.cum = list(itertools.accumulate(table.values()))

    def pick(self, rng: random.Random):
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.cum[-1])]


@cache
def _names():
    data = yaml.safe_load((_HERE / "names.yml").read_text(encoding="utf-8"))
    return {
        "family": _Weighted(data["family"]),
        "middle": {(s, g): _Weighted(t) for s, gens in data["middle"].items() for g, t in gens.items()},
        "given": {(s, g): _Weighted(t) for s, gens in data["given"].items() for g, t in gens.items()},
        "double": data["double_middle_F"],
        "second": _Weighted(data["double_middle_second"]),
    }


def _generation(birth_year: int) -> str:
    return "old" if birth_year < 1975 else "mid" if birth_year < 1995 else "young"


def family_name_shares() -> dict[str, float]:
    table = _names()["family"]
    total = table.cum[-1]
    previous = 0.0
    shares = {}
    for item, cum in zip(table.items, table.cum):
        shares[item] = (cum - previous) / total
        previous = cum
    return shares


class IdentityMint:
    """Hands out unique CCCD and CMND numbers.

    Digits 7-12 of a CCCD are a serial within (province, century/sex, year), spread by a bijection
    of 0..999999 so numbers look random yet never collide.
    """

    def __init__(self):
        self._serials: dict[str, int] = {}

    def _next(self, key: str, space: int) -> int:
        serial = self._serials.get(key, 0)
        self._serials[key] = serial + 1
        # 7654321 is coprime with 10**k, so this is a bijection of 0..space-1 for each key.
        return (serial * 7_654_321 + zlib.crc32(key.encode()) * 7919) % space

    def cccd(self, province: str, sex: str, birth_year: int) -> str:
        century = 0 if birth_year < 2000 else 2
        digit = century + (1 if sex == "F" else 0)
        prefix = f"{province}{digit}{birth_year % 100:02d}"
        return f"{prefix}{self._next(prefix, 1_000_000):06d}"

    def cmnd(self, province: str) -> str:
        prefix = _OLD_CMND_PREFIX.get(province, "02")
        return f"{prefix}{self._next('cmnd' + prefix, 10_000_000):07d}"


@dataclass
class World:
    """Things shared by all communes: the period, employers and the ID mint."""

    start: dt.date  # first day of the twelve-month history
    end: dt.date
    enterprises: list[Employer]
    enterprise_weights: list[float]
    provincial: list[Employer]
    mint: IdentityMint
    # A two-province sample: the share of moves that go to another province, and the hamlets there
    # (by the mover's province).
    moves_between: float = 0.0
    other_hamlets: dict[str, list[Hamlet]] = dataclasses.field(default_factory=dict)


def make_world(rng: random.Random, people: int, start: dt.date, end: dt.date, communes: tuple[Commune, ...]) -> World:
    count = max(8, people // 1500)
    enterprises, weights = [], []
    for i in range(count):
        words = rng.sample(_ENTERPRISE_WORDS, 2)
        trade = rng.choice(_ENTERPRISE_TRADES)
        commune = rng.choice(communes)
        name = f"Công ty TNHH {trade} {' '.join(words)} ({rng.choice(_ZONES)})"
        enterprises.append(Employer(f"DN{i + 1:05d}", name, commune.code, False))
        weights.append(rng.paretovariate(1.3))
    provincial = [Employer(f"CQ{i + 1:03d}", name, communes[0].code, True) for i, name in enumerate(_PROVINCIAL_AGENCIES)]
    return World(start, end, enterprises, list(itertools.accumulate(weights)), provincial, IdentityMint())


def commune_agencies(commune: Commune) -> list[Employer]:
    kind = commune.kind.lower()
    names = [f"UBND {kind} {commune.short}", f"Trường Tiểu học {commune.short}", f"Trường THCS {commune.short}",
             f"Trạm Y tế {kind} {commune.short}", f"Trường Mầm non {commune.short}"]
    return [Employer(f"CQ{commune.code}-{i}", name, commune.code, True) for i, name in enumerate(names)]


def commune_sizes(rng: random.Random, communes: tuple[Commune, ...], people: int) -> list[int]:
    """Split the population over communes: urban wards denser, with random spread."""
    weights = [(c.area_km2 ** 0.4) * (2.5 if c.urban else 1.0) * rng.lognormvariate(0, 0.3) for c in communes]
    total = sum(weights)
    raw = [people * w / total for w in weights]
    sizes = [int(r) for r in raw]
    # Largest remainders first, ties by commune order, so the sizes add up exactly.
    for i in sorted(range(len(raw)), key=lambda i: (sizes[i] - raw[i], i))[: people - sum(sizes)]:
        sizes[i] += 1
    return sizes


def _random_date(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    return first + dt.timedelta(days=rng.randint(0, max(0, (last - first).days)))


def _birth_date(rng: random.Random, end: dt.date) -> dt.date:
    band = bisect.bisect_right(_AGE_CUM, rng.random() * _AGE_CUM[-1])
    years = band * 5 + rng.random() * (15 if band == len(_AGE_BANDS) - 1 else 5)
    return end - dt.timedelta(days=int(years * 365.25))


_AGE_CUM = list(itertools.accumulate(_AGE_BANDS))


def random_phone(rng: random.Random) -> str:
    return rng.choice(_PHONE_PREFIXES) + f"{rng.randrange(10_000_000):07d}"


def make_name(rng: random.Random, sex: str, birth_year: int) -> tuple[str, str, str]:
    names = _names()
    generation = _generation(birth_year)
    middle = names["middle"][(sex, generation)].pick(rng)
    if sex == "F" and middle == "Thị" and rng.random() < names["double"][generation]:
        middle = f"Thị {names['second'].pick(rng)}"
    return names["family"].pick(rng), middle, names["given"][(sex, generation)].pick(rng)


def make_people(rng: random.Random, world: World, commune: Commune, count: int, first_pid: int,
                all_hamlets: list[Hamlet]) -> list[Person]:
    """The commune's residents at the start of the history, with what happens to them during it,
    plus former residents who died or left before it (they may linger on rolls)."""
    agencies = commune_agencies(commune)
    people = []
    for i in range(count):
        people.append(_person(rng, world, commune, f"P{first_pid + i:08d}", agencies, all_hamlets))
    return people


def _person(rng: random.Random, world: World, commune: Commune, pid: str, agencies: list[Employer],
            all_hamlets: list[Hamlet]) -> Person:
    end = world.end
    sex = "F" if rng.random() < 0.505 else "M"
    birth = _birth_date(rng, end)
    family, middle, given = make_name(rng, sex, birth.year)
    hamlet = rng.choice(commune.hamlets)
    age = end.year - birth.year
    cccd, cmnd = _id_numbers(rng, world, hamlet, sex, birth, age)
    phone = random_phone(rng) if age >= 15 and rng.random() < (0.92 if age < 70 else 0.6) else None
    person = Person(pid, sex, birth, family, middle, given, cccd, cmnd, phone, commune, hamlet, "other",
                    activism=rng.lognormvariate(0, 0.45))
    _occupation(rng, world, person, age, agencies)
    person.veteran = (sex == "M" and age >= 24 and rng.random() < (0.14 if age >= 55 else 0.06)) or (
        sex == "F" and age >= 30 and rng.random() < 0.006)
    _life_events(rng, world, person, age, all_hamlets)
    return person


def _id_numbers(rng: random.Random, world: World, hamlet: Hamlet, sex: str, birth: dt.date,
                age: int) -> tuple[str | None, str | None]:
    """(CCCD, CMND): most adults hold a CCCD, some older people still only the 9-digit CMND."""
    province = hamlet.old.cccd_province if rng.random() < 0.86 else rng.choice(_OTHER_BIRTH_PROVINCES)
    cccd = cmnd = None
    roll = rng.random()
    if age >= 14 or roll < 0.3:
        if birth.year < 1982 and roll < 0.10:
            cmnd = world.mint.cmnd(province)
        elif roll < 0.975:
            cccd = world.mint.cccd(province, sex, birth.year)
    return cccd, cmnd


def old_cmnd(person: Person) -> str:
    """The 9-digit CMND a CCCD holder had before (fixed per person, not drawn from the mint)."""
    prefix = _OLD_CMND_PREFIX.get((person.cccd or "")[:3], "02")
    return f"{prefix}{zlib.crc32(person.pid.encode()) % 10_000_000:07d}"


def given_names(sex: str, birth_year: int) -> list[str]:
    """The given names of the sample's name table for this sex and generation."""
    return list(_names()["given"][(sex, _generation(birth_year))].items)


def all_given_names() -> list[str]:
    """Every given name of the sample's name table, sorted."""
    return sorted({name for table in _names()["given"].values() for name in table.items})


def make_relative(rng: random.Random, world: World, anchor: Person, pid: str, sex: str, birth: dt.date,
                  name: tuple[str, str, str], phone: str | None) -> Person:
    """A relative living in ``anchor``'s hamlet: own ID and work, the given name and phone as decided."""
    age = world.end.year - birth.year
    cccd, cmnd = _id_numbers(rng, world, anchor.hamlet, sex, birth, age)
    person = Person(pid, sex, birth, *name, cccd, cmnd, phone, anchor.commune, anchor.hamlet, "other",
                    activism=rng.lognormvariate(0, 0.45))
    _occupation(rng, world, person, age, commune_agencies(anchor.commune))
    person.veteran = sex == "M" and age >= 24 and rng.random() < (0.14 if age >= 55 else 0.06)
    return person


def _occupation(rng: random.Random, world: World, person: Person, age: int, agencies: list[Employer]) -> None:
    if age < 6:
        person.occupation = "child"
        return
    if age < 18 or (age < 23 and rng.random() < 0.35):
        person.occupation = "student"
        return
    if age >= 62 or (age >= 57 and rng.random() < 0.5):
        person.occupation = "retired" if rng.random() < 0.5 else ("farmer" if not person.commune.urban else "other")
        return
    r = rng.random()
    farmer, worker, official = (0.05, 0.42, 0.12) if person.commune.urban else (0.42, 0.28, 0.05)
    if r < farmer:
        person.occupation = "farmer"
    elif r < farmer + worker:
        person.occupation = "worker"
        index = bisect.bisect_right(world.enterprise_weights, rng.random() * world.enterprise_weights[-1])
        person.employer = world.enterprises[index]
        person.salary = rng.randrange(5_500_000, 14_000_000, 50_000)
    elif r < farmer + worker + official:
        person.occupation = "official"
        person.employer = rng.choice(agencies) if rng.random() < 0.8 else rng.choice(world.provincial)
        person.salary = rng.randrange(5_000_000, 16_000_000, 50_000)
    else:
        person.occupation = "other"
    if person.employer:
        # Employment start: after age 18, often years ago, sometimes within the history.
        earliest = person.birth + dt.timedelta(days=18 * 365)
        person.employed_since = max(earliest, world.end - dt.timedelta(days=int(rng.expovariate(1 / 2500))))


def _life_events(rng: random.Random, world: World, person: Person, age: int, all_hamlets: list[Hamlet]) -> None:
    mortality = next(p for limit, p in _MORTALITY if age < limit)
    r = rng.random()
    if r < mortality:
        person.died = _random_date(rng, world.start, world.end)
    elif r < mortality + (0.015 if 18 <= age <= 40 else 0.004):
        person.moved_away = _random_date(rng, world.start, world.end)
    elif r < mortality + 0.035 and age >= 16:
        person.moved_on = _random_date(rng, world.start, world.end)
        person.moved_to = rng.choice(person.commune.hamlets if rng.random() < 0.5 else all_hamlets)
        # Drawn only in a sample of several provinces: the others' draws stay as they were.
        if world.moves_between and rng.random() < world.moves_between:
            person.moved_to = rng.choice(world.other_hamlets[person.commune.province_code])


def make_former_residents(rng: random.Random, world: World, commune: Commune, count: int, first_pid: int,
                          all_hamlets: list[Hamlet]) -> list[Person]:
    """People who died or left the province one to five years before the history starts."""
    agencies = commune_agencies(commune)
    former = []
    for i in range(count):
        person = _person(rng, world, commune, f"P{first_pid + i:08d}", agencies, all_hamlets)
        person.moved_to = person.moved_on = None
        gone = world.start - dt.timedelta(days=rng.randint(365, 5 * 365))
        if rng.random() < 0.5:
            person.died, person.moved_away = gone, None
        else:
            person.moved_away, person.died = gone, None
        former.append(person)
    return former
