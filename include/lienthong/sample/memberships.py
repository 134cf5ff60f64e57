"""Who is a member of which organisation, in which unit, since when, until when; dues and attendance;
and the planted ghosts. Rules and rates come from organisations.yml and the ghosts part of noise.yml.
"""

from __future__ import annotations

import datetime as dt
import random
import zlib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from lienthong.sample.geography import Commune, Hamlet
from lienthong.sample.noise import NoisyIdentity, noisy_identity, rates_for
from lienthong.sample.population import Employer, Person, World, make_name, random_phone

ORGS = ("doan_tn", "hoi_lhpn", "hoi_nd", "hoi_ccb", "cong_doan")


@cache
def org_rules() -> dict:
    return yaml.safe_load((Path(__file__).parent / "organisations.yml").read_text(encoding="utf-8"))


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def month_starts(end: dt.date) -> list[dt.date]:
    """The first days of the twelve months of history, the last one being ``end``'s month."""
    months = []
    year, month = end.year, end.month
    for _ in range(12):
        months.append(dt.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


@dataclass(frozen=True)
class Unit:
    code: str
    org: str
    name: str
    commune_code: str
    commune_name: str
    kind: str  # territorial | student | employer
    province_code: str = ""
    roll: str = ""  # the roll holding the unit: the organisation, or its branch in the unit's province

    @property
    def session_day(self) -> int:
        return 3 + zlib.crc32(self.code.encode()) % 24


@dataclass(slots=True)
class Record:
    record_id: str
    org: str
    person: Person
    identity: NoisyIdentity
    join: dt.date
    units: list[tuple[dt.date, Unit]]
    removed: dt.date | None = None
    end_reason: str | None = None
    fabricated: bool = False
    duplicate_of: str | None = None
    planted: tuple[str, ...] = ()
    dues: list[tuple[dt.date, int, dt.date]] = field(default_factory=list)  # (period start, amount, paid on)
    attended: list[tuple[dt.date, Unit]] = field(default_factory=list)
    moved_in: Record | None = None  # the record another province's branch opened when the member moved there

    @property
    def roll(self) -> str:
        return self.units[0][1].roll

    def unit_on(self, day: dt.date) -> Unit:
        current = self.units[0][1]
        for since, unit in self.units:
            if since <= day:
                current = unit
        return current

    def on_roll(self, day: dt.date) -> bool:
        return self.join <= day and (self.removed is None or self.removed > day)

    def hamlet_on(self, day: dt.date) -> Hamlet:
        hamlet = self.person.hamlet_on(day)
        # A province's roll knows no address in another: a member who moved there keeps the old one.
        return hamlet if hamlet.province_code == self.units[0][1].province_code else self.person.hamlet


class Units:
    """All units met so far, by code: the registry behind reported totals and truth/units.csv.

    ``branches``: each organisation keeps one roll per province (``<org>_<province code>``), as its
    provincial branches do; otherwise one roll per organisation."""

    def __init__(self, communes_by_code: dict[str, Commune], branches: bool = False):
        self.by_code: dict[str, Unit] = {}
        self._communes = communes_by_code
        self._branches = branches

    def _get(self, code: str, org: str, name: str, commune_code: str, kind: str) -> Unit:
        unit = self.by_code.get(code)
        if unit is None:
            commune = self._communes.get(commune_code)
            province = commune.province_code if commune else ""
            unit = Unit(code, org, name, commune_code, commune.name if commune else "", kind, province,
                        f"{org}_{province}" if self._branches else org)
            self.by_code[code] = unit
        return unit

    def territorial(self, org: str, hamlet: Hamlet) -> Unit:
        commune_code = hamlet.code.split("-")[0]
        label = hamlet.name if hamlet.name.startswith("Khu") else "ấp " + hamlet.name[len("Ấp "):]
        name = org_rules()[org]["units"]["territorial"].format(hamlet=label)
        return self._get(f"{org}-{hamlet.code}", org, name, commune_code, "territorial")

    def student(self, org: str, commune: Commune) -> Unit:
        name = org_rules()[org]["units"]["student"].format(commune=commune.short)
        return self._get(f"{org}-THPT{commune.code}", org, name, commune.code, "student")

    def employer(self, org: str, employer: Employer) -> Unit:
        name = org_rules()[org]["units"]["employer"].format(employer=employer.name)
        return self._get(f"{org}-{employer.code}", org, name, employer.commune_code, "employer")


@dataclass
class Context:
    world: World
    units: Units
    noise: dict
    all_hamlets: list[Hamlet]
    months: list[dt.date]
    counters: dict[str, int] = field(default_factory=lambda: {org: 0 for org in ORGS})
    fabricated: int = 0

    def next_id(self, org: str) -> str:
        self.counters[org] += 1
        return f"{org_rules()[org]['record_prefix']}{self.counters[org]:08d}"


def eligible_span(person: Person, rule: dict) -> tuple[dt.date, dt.date] | None:
    """First and last day the person may be a member, from the organisation's rule; None if never."""
    if rule.get("sex") and person.sex != rule["sex"]:
        return None
    if rule.get("occupation") and person.occupation != rule["occupation"]:
        return None
    if rule.get("veteran") and not person.veteran:
        return None
    first = add_years(person.birth, rule.get("min_age", 0))
    last = add_years(person.birth, rule["max_age"] + 1) - dt.timedelta(days=1) if "max_age" in rule else dt.date(9999, 1, 1)
    if rule.get("employed"):
        if not person.employer or person.occupation not in ("worker", "official"):
            return None
        first = max(first, person.employed_since)
    return (first, last) if first <= last else None


def person_records(rng: random.Random, ctx: Context, person: Person) -> list[Record]:
    """All roster records of one person (plus the fabricated ghosts planted next to them)."""
    records = []
    for org in ORGS:
        rule = org_rules()[org]
        span = eligible_span(person, rule["eligibility"])
        planted: tuple[str, ...] = ()
        if span is None:
            span, planted = _ineligible_span(rng, ctx, person, org)
            if span is None:
                continue
        elif rng.random() >= min(0.97, rule["member_rate"] * person.activism):
            continue
        record = _membership(rng, ctx, person, org, span, planted)
        if record is None:
            continue
        records.append(record)
        if record.moved_in:
            records.append(record.moved_in)
        ghosts = ctx.noise["ghosts"]
        if rng.random() < ctx.noise["defaults"]["duplicate_same_unit"]:
            records.append(_duplicate(rng, ctx, record, same_unit=True))
        if rng.random() < ghosts["duplicate_other_unit"]:
            records.append(_duplicate(rng, ctx, record, same_unit=False))
        if rng.random() < ghosts["fabricated"]:
            records.append(_fabricated(rng, ctx, record))
    return records


def _ineligible_span(rng, ctx, person, org):
    """Members who should not be: Youth Union members past 30, Women's Union men or girls under 18."""
    ghosts = ctx.noise["ghosts"]
    age = person.age_on(ctx.world.end)
    if org == "doan_tn" and 31 <= age <= 40 and rng.random() < ghosts["ineligible_age"] * 8:
        return (add_years(person.birth, 18), dt.date(9999, 1, 1)), ("ineligible_age",)
    if org == "hoi_lhpn":
        if person.sex == "M" and age >= 18 and rng.random() < ghosts["ineligible_sex"]:
            return (add_years(person.birth, 18), dt.date(9999, 1, 1)), ("ineligible_sex",)
        if person.sex == "F" and 16 <= age < 18 and rng.random() < ghosts["ineligible_age"] * 8:
            return (add_years(person.birth, 16), dt.date(9999, 1, 1)), ("ineligible_age",)
    return None, ()


def _first_unit(rng: random.Random, ctx: Context, person: Person, org: str, day: dt.date) -> Unit:
    units = org_rules()[org]["units"]
    if "employer" in units and person.employer and ("territorial" not in units or rng.random() < 0.6):
        return ctx.units.employer(org, person.employer)
    if "student" in units and person.occupation == "student":
        return ctx.units.student(org, person.commune)
    return ctx.units.territorial(org, person.hamlet_on(day))


def _membership(rng, ctx, person, org, span, planted) -> Record | None:
    rule = org_rules()[org]
    world = ctx.world
    gone = min(d for d in (person.died, person.moved_away, world.end + dt.timedelta(days=1)) if d)
    join = span[0] + dt.timedelta(days=int(rng.expovariate(1 / (rule["join_lag_years"] * 365))))
    if planted:
        join = max(span[0], world.start - dt.timedelta(days=rng.randint(200, 2500)))
    if join >= gone or join > span[1]:
        return None
    removed, reason = _removal(rng, ctx, person, org, span, join, planted)
    if removed is not None and removed <= world.start:
        return None  # left the roll before the history starts
    unit = _first_unit(rng, ctx, person, org, join)
    record = Record(ctx.next_id(org), org, person, noisy_identity(rng, rates_for(ctx.noise, org), person), join,
                    [(join, unit)], removed, reason, planted=planted)
    if person.moved_on and unit.kind == "territorial" and person.moved_on > join:
        transfer = person.moved_on + dt.timedelta(days=rng.randint(7, 60))
        if transfer <= world.end and (removed is None or transfer < removed):
            moved = ctx.units.territorial(org, person.moved_to)
            if moved.roll == unit.roll:
                record.units.append((transfer, moved))
            else:
                record.moved_in = _moved_in(rng, ctx, record, transfer, moved)
    _activity(rng, ctx, record)
    return record


def _moved_in(rng, ctx, record: Record, transfer: dt.date, unit: Unit) -> Record:
    """A member moved to another province: its branch opens a record of its own (a new entry, with
    its own typos); the old branch closes theirs if it notices the move, else keeps it with the old
    address."""
    org, person = record.org, record.person
    moved = Record(ctx.next_id(org), org, person, noisy_identity(rng, rates_for(ctx.noise, org), person), transfer,
                   [(transfer, unit)], record.removed, record.end_reason)
    if rng.random() < org_rules()[org]["remove_after_move"]:
        record.removed, record.end_reason = transfer, "moved_away"
    _activity(rng, ctx, moved)
    return moved


def _removal(rng, ctx, person, org, span, join, planted) -> tuple[dt.date | None, str | None]:
    rule, ghosts, world = org_rules()[org], ctx.noise["ghosts"], ctx.world
    events = []
    if person.died:
        keep = ghosts["deceased_before_window"] if person.died < world.start else 1 - rule["remove_after_death"]
        events.append((person.died, "died", 1 - keep))
    if person.moved_away:
        keep = ghosts["moved_before_window"] if person.moved_away < world.start else 1 - rule["remove_after_move"]
        events.append((person.moved_away, "moved_away", 1 - keep))
    if span[1] < world.end and not planted:
        reason = "left_job" if rule["eligibility"].get("employed") else "aged_out"
        lapsed = span[1] < world.start  # rolls are cleaned up eventually: few linger from past years
        chance = 1 - ghosts["ineligible_before_window"] if lapsed else rule.get("remove_when_ineligible", 1.0)
        events.append((span[1] + dt.timedelta(days=1), reason, chance))
    if rng.random() < rule["leave_rate_per_year"]:
        events.append((_between(rng, max(join, world.start), world.end), "left", 1.0))
    for day, reason, chance in sorted(events, key=lambda e: e[0]):
        if day < join:
            continue
        if rng.random() < chance:
            lag = 0 if reason == "left" else int(rng.expovariate(1 / rule["removal_lag_days"]))
            return day + dt.timedelta(days=lag), reason
    return None, None


def _between(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    return first + dt.timedelta(days=rng.randint(0, max(0, (last - first).days)))


def _duplicate(rng, ctx, record: Record, same_unit: bool) -> Record:
    """The same person entered a second time: in the same unit (a clerk's slip) or in another one."""
    person, org = record.person, record.org
    if same_unit:
        unit = record.units[0][1]
    elif record.units[0][1].kind == "employer":
        unit = ctx.units.employer(org, ctx.world.enterprises[rng.randrange(len(ctx.world.enterprises))])
    else:
        unit = ctx.units.territorial(org, rng.choice(person.commune.hamlets))
    join = _between(rng, record.join, ctx.world.end)
    duplicate = Record(ctx.next_id(org), org, person, noisy_identity(rng, rates_for(ctx.noise, org), person), join,
                       [(join, unit)], record.removed if same_unit else None, record.end_reason if same_unit else None,
                       duplicate_of=record.record_id, planted=("duplicate",))
    _activity(rng, ctx, duplicate)
    return duplicate


def _fabricated(rng, ctx, beside: Record) -> Record:
    """A member who is only a name, put on the roll of ``beside``'s unit. Which tells give it away is
    drawn per ghost from the ghost_* rates of noise.yml: no ID (else one whose century/sex and year
    digits contradict the record), an age no organisation admits, a placeholder phone, a hamlet the
    commune does not have, the name of the real member beside it (with another birth date, no ID)."""
    world, org, ghosts = ctx.world, beside.org, ctx.noise["ghosts"]
    # The main stream's draws stay as they were (the rest of the sample keeps its bytes per seed);
    # the tells come from a stream of this ghost's own, seeded by what the main stream drew.
    sex = "F" if org == "hoi_lhpn" or rng.random() < 0.5 else "M"
    drawn_age = rng.choice([rng.randint(18, 60), rng.randint(95, 110), rng.randint(2, 12)])
    birth = world.end - dt.timedelta(days=drawn_age * 365 + rng.randint(0, 364))
    placeholder_birth = rng.random() < 0.3
    if placeholder_birth:
        birth = dt.date(birth.year, 1, 1)
    family, middle, given = make_name(rng, sex, birth.year)
    ctx.fabricated += 1
    drawn_id = (f"0{rng.randint(10, 96):02d}{rng.randint(4, 9)}{rng.randrange(100):02d}{rng.randrange(10**6):06d}"
                if rng.random() < 0.4 else "")
    drawn_phone = random_phone(rng) if rng.random() < 0.2 else None
    tells = random.Random(f"ghost:{ctx.fabricated}:{birth}:{family}{middle}{given}:{drawn_id}:{drawn_phone}")
    planted = ["fabricated"]
    odd_age = tells.random() < ghosts["ghost_odd_age"]
    age = tells.choice([tells.randint(95, 110), tells.randint(2, 12)]) if odd_age else tells.randint(18, 60)
    birth = world.end - dt.timedelta(days=age * 365 + tells.randint(0, 364))
    if placeholder_birth:
        birth = dt.date(birth.year, 1, 1)
    if odd_age:
        planted.append("odd_age")
    digits = tells.randrange(10**11)
    cccd = None
    if tells.random() >= ghosts["ghost_no_id"]:  # an ID whose century/sex and year digits contradict the record
        cccd = drawn_id or f"0{digits:011d}"
    if tells.random() < ghosts["ghost_copies_unit_name"]:
        member = beside.person  # a real member of the same unit: same name, another birth date, no ID
        sex, family, middle, given, cccd = member.sex, member.family, member.middle, member.given, None
        if birth.year == member.birth.year:
            birth = dt.date(birth.year - tells.randint(1, 9), birth.month, min(birth.day, 28))
        planted.append("name_copy")
    hamlet = beside.hamlet_on(beside.join)
    if tells.random() < ghosts["ghost_unknown_hamlet"]:
        # A hamlet name the commune does not have (one that exists in another commune).
        here = {h.name for h in beside.person.commune.hamlets}
        elsewhere = sorted({h.name for h in ctx.all_hamlets} - here)
        if elsewhere:
            hamlet = Hamlet(hamlet.code, tells.choice(elsewhere), hamlet.old)
            planted.append("unknown_hamlet")
    phone = drawn_phone
    if tells.random() < ghosts["ghost_placeholder_phone"]:
        phone = placeholder_phone(tells)
        planted.append("placeholder_phone")
    ghost = Person(f"G{ctx.fabricated:08d}", sex, birth, family, middle, given, cccd, None,
                   phone, beside.person.commune, hamlet, "other")
    unit = beside.units[0][1]
    join = _between(rng, world.start - dt.timedelta(days=900), world.end)
    return planted_record(rng, ctx, ghost, org, unit, join, tuple(planted), fabricated=True)


def placeholder_phone(rng: random.Random) -> str:
    """What a clerk types when the form wants a phone: a sequence, a prefix padded with zeros, one digit."""
    return rng.choice([
        "0123456789", "0987654321", "0912345678",
        rng.choice(["09", "03", "08"]) + f"{rng.randint(0, 9)}" + "0" * 7,
        "0" + str(rng.randint(1, 9)) * 9,
        "0000000000",
    ])


def planted_record(rng, ctx, person: Person, org: str, unit: Unit, join: dt.date, planted: tuple[str, ...],
                   fabricated: bool) -> Record:
    """A record put on a roll that no real membership stands behind (with its noise and activity)."""
    record = Record(ctx.next_id(org), org, person, noisy_identity(rng, rates_for(ctx.noise, org), person), join,
                    [(join, unit)], fabricated=fabricated, planted=planted)
    _activity(rng, ctx, record)
    return record


def _activity(rng: random.Random, ctx: Context, record: Record) -> None:
    """Dues paid and sessions attended during the twelve months of history."""
    ghosts, rule, world = ctx.noise["ghosts"], org_rules()[record.org], ctx.world
    person = record.person
    draw = rng.random()
    if record.fabricated:
        pay_chance, lapse = (0.9 if draw < 0.4 else 0.0), 99
    elif draw < ghosts["lapsed_dues"]:
        pay_chance, lapse = 0.95, rng.randint(-3, 11)
    elif draw < ghosts["lapsed_dues"] + ghosts["irregular_dues"]:
        pay_chance, lapse = 0.65, 99
    else:
        pay_chance, lapse = 0.97, 99
    dues = rule["dues"]
    if "salary_share" in dues:
        amount = max(10_000, round(person.salary * dues["salary_share"], -3))
    elif person.employer and "salaried_amount" in dues:
        amount = dues["salaried_amount"]
    else:
        amount = dues["amount"]
    periods = ctx.months if dues["period"] == "month" else sorted({dt.date(m.year, 1, 1) for m in ctx.months})
    for index, period in enumerate(periods):
        first = max(period, world.start, record.join)
        if index >= lapse or not record.on_roll(first) or not person.present_on(first) and not record.fabricated:
            continue
        if rng.random() >= pay_chance:
            continue
        paid = first + dt.timedelta(days=rng.randint(0, 27 if dues["period"] == "month" else 100))
        if paid <= world.end and (record.removed is None or paid < record.removed):
            record.dues.append((period, amount, paid))

    draw = rng.random()
    attend = 0.0 if record.fabricated or draw < ghosts["never_attends"] else 0.45 if draw < 0.25 else 0.85
    step = 12 // rule["sessions_per_year"]
    for index, month in enumerate(ctx.months):
        if (len(ctx.months) - 1 - index) % step:
            continue
        unit = record.unit_on(month)
        day = month.replace(day=unit.session_day)
        if day > world.end or day < world.start or not record.on_roll(day) or not person.present_on(day):
            continue
        if rng.random() < attend:
            record.attended.append((day, record.unit_on(day)))


def ghost_kinds(record: Record, end: dt.date, months: list[dt.date], no_dues_months: int) -> list[tuple[str, str]]:
    """(kind, detail) of every ghost pattern the record shows on ``end``; empty for a sound member."""
    if not record.on_roll(end):
        return []
    kinds = []
    person = record.person
    if record.fabricated:
        kinds.append(("fabricated", "no real person"))
    if "non_member" in record.planted:
        kinds.append(("non_member", "a resident who joined no organisation"))
    if record.duplicate_of:
        kinds.append(("duplicate", record.duplicate_of))
    if not record.fabricated and person.died and person.died <= end:
        kinds.append(("deceased", person.died.isoformat()))
    if not record.fabricated and person.moved_away and person.moved_away <= end:
        kinds.append(("moved_away", person.moved_away.isoformat()))
    rule = org_rules()[record.org]["eligibility"]
    if not record.fabricated and person.present_on(end):
        age = person.age_on(end)
        if ("min_age" in rule and age < rule["min_age"]) or ("max_age" in rule and age > rule["max_age"]):
            kinds.append(("ineligible_age", str(age)))
        if rule.get("sex") and person.sex != rule["sex"]:
            kinds.append(("ineligible_sex", person.sex))
    recent = months[-no_dues_months]
    yearly = org_rules()[record.org]["dues"]["period"] == "year"
    # A monthly payment covers its month, a yearly one its calendar year.
    if record.join < recent and not any(period >= recent or yearly and period.year >= recent.year
                                        for period, _, _ in record.dues):
        kinds.append(("no_dues", f"none since {recent.isoformat()}"))
    if record.join < months[-3] and not record.attended:
        kinds.append(("never_attends", "no attendance in the window"))
    return kinds
