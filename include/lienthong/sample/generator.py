"""The sample province, end to end: people, memberships, deliveries, ground truth, manifest.

Streams commune by commune: only one commune's people and records are in memory at a time, plus
small per-unit counters for reported totals and per-combination overlap counts.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from lienthong.sample import geography
from lienthong.sample.branch_configs import write_branch_configs
from lienthong.sample.deliveries import Deliveries, load_shapes
from lienthong.sample.hard_cases import HardCases
from lienthong.sample.memberships import ORGS, Context, Units, month_starts, org_rules, person_records
from lienthong.sample.noise import load_noise
from lienthong.sample.population import World, commune_sizes, make_former_residents, make_people, make_world
from lienthong.sample.truth import Truth, month_end

VERSION = "1"
DEFAULT_END = dt.date(2026, 11, 27)
FORMER_RESIDENT_SHARE = 0.05  # died or left 1-5 years before the history; some linger on rolls


def scales() -> dict:
    return yaml.safe_load((Path(__file__).parent / "scales.yml").read_text(encoding="utf-8"))


def _provinces(config: dict) -> tuple[geography.Commune, ...]:
    """Every commune of the scale's provinces (``provinces:``, keys of the package; Tây Ninh by default)."""
    return tuple(c for key in config.get("provinces", [geography.NEW_PROVINCE_KEY]) for c in geography.communes(key))


def _pick_communes(everything: tuple[geography.Commune, ...], how) -> tuple[geography.Commune, ...]:
    if how == "all":
        return everything
    # Spread over the code range: both old provinces, wards and rural communes.
    step = len(everything) / how
    return tuple(everything[int(i * step)] for i in range(how))


def generate(scale: str, seed: int, out: Path, end: dt.date | None = None, days: int | None = None,
             people: int | None = None, noise_config: Path | None = None) -> dict:
    """Write the sample province under ``out``; return a summary of counts.

    ``scale`` is tiny, demo, province or custom (custom needs ``people``); ``people`` also overrides
    the size of a named scale. ``noise_config`` replaces noise.yml.
    """
    config, people = _scale(scale, people)
    end = end or DEFAULT_END
    days = days or config["days"]
    out = _cleared(Path(out))
    everything = _provinces(config)
    communes = _pick_communes(everything, config["communes"])
    months = month_starts(end)
    delivery_days = [end - dt.timedelta(days=days - 1 - i) for i in range(days)]
    noise = load_noise(noise_config)

    province = _Province.make(seed, people, communes, months, end, noise, out, delivery_days, everything,
                              _Provinces.of(config, communes))
    residents, persons_written = province.populate(seed)
    totals = _reported_totals(seed, noise, province.units, months, province.truth, province.deliveries)
    files = province.deliveries.close()
    summary = province.truth.close()
    overlaps = province.truth.write_overlaps()
    province.truth.write_units(province.units.by_code.values())
    province.truth.write_reference(communes)
    population_changes = province.truth.write_population_changes()
    _write_manifest(out, seed, scale, people, communes, months, delivery_days, files, province.provinces)
    if province.provinces:
        write_branch_configs(out / "configs", ORGS, province.provinces.keys, province.provinces.names)
    return {
        "scale": scale,
        "seed": seed,
        "people": residents,
        "persons_written": persons_written,
        "fabricated_persons": province.ctx.fabricated,
        "records": dict(province.ctx.counters),
        "roster_records": sum(province.ctx.counters.values()),
        "units": len(province.units.by_code),
        "reported_totals": totals,
        "files": sum(len(v) for v in files.values()),
        "rows": sum(f["rows"] for v in files.values() for f in v),
        "overlaps": overlaps,
        "population_changes": population_changes,
        **summary,
    }


def _scale(scale: str, people: int | None) -> tuple[dict, int]:
    """The named scale's settings and the number of people to make."""
    settings = scales()
    if scale not in settings:
        raise ValueError(f"unknown scale {scale!r}; choose from {', '.join(settings)}")
    config = settings[scale]
    people = people or config.get("people")
    if not people:
        raise ValueError("a custom scale needs a number of people")
    return config, people


def _cleared(out: Path) -> Path:
    """``out`` without an earlier sample's parts (other files in it are left alone)."""
    for part in ("deliveries", "truth", "reference", "manifest.json"):
        target = out / part
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    out.mkdir(parents=True, exist_ok=True)
    return out


@dataclass(frozen=True)
class _Provinces:
    """A sample of the provinces a scale names (``provinces:``; one or several): each organisation's
    branch per province keeps its own roll and has its own config saying its province, a share of
    moves goes to another province (``moves_between_provinces``) and addresses name their province
    (``province_in_address``: the share of records that write it)."""

    names: dict[str, str]  # province code -> name
    moves_between: float
    in_address: float
    keys: dict[str, str]  # province code -> its key in the package (what a config's ``province:`` says)

    @classmethod
    def of(cls, config: dict, communes) -> _Provinces | None:
        """The scale's provinces, or None for a scale that names none (the default deployment's
        province: it draws and writes as before, for the bundled configs). A scale naming one
        province writes its branches' configs too, as a deployment there is configured."""
        if not config.get("provinces"):
            return None
        return cls({c.province_code: c.province for c in communes}, config.get("moves_between_provinces", 0.0),
                   config.get("province_in_address", 1.0),
                   {geography.communes(key)[0].province_code: key for key in config["provinces"]})


@dataclass
class _Province:
    """The province's people and the writers their records go to, commune by commune."""

    communes: tuple[geography.Commune, ...]
    sizes: list[int]
    world: World  # names, dates and families to draw people from
    ctx: Context
    units: Units
    truth: Truth
    deliveries: Deliveries
    hard: HardCases
    all_hamlets: list
    home_hamlets: dict  # province code -> its hamlets: where a move within the province goes
    provinces: _Provinces | None

    @classmethod
    def make(cls, seed, people, communes, months, end, noise, out, delivery_days, everything,
             provinces: _Provinces | None) -> _Province:
        all_hamlets = [h for c in communes for h in c.hamlets]
        home_hamlets: dict[str, list] = {}
        for commune in communes:
            home_hamlets.setdefault(commune.province_code, []).extend(commune.hamlets)
        master = random.Random(f"{seed}:world")
        world = make_world(master, people, months[0], end, communes)
        if provinces:
            world.moves_between = provinces.moves_between
            world.other_hamlets = {p: [h for q, hs in home_hamlets.items() if q != p for h in hs] for p in home_hamlets}
        sizes = commune_sizes(master, communes, people)
        communes_by_code = {c.code: c for c in everything}
        units = Units(communes_by_code, branches=provinces is not None)
        ctx = Context(world, units, noise, all_hamlets, months)
        registry = noise.get("registry", {})
        truth = Truth(out, end, months, noise["ghosts"]["no_dues_months"],
                      registry_rng=random.Random(f"{seed}:population_changes"),
                      registry_coverage={"died": registry.get("died_coverage", 1.0),
                                         "moved_away": registry.get("moved_away_coverage", 1.0)})
        deliveries = Deliveries(out, delivery_days, {c.code: c.name for c in everything}, truth.roster_row,
                                provinces={c.code: c.province for c in everything} if provinces else None,
                                province_in_address=provinces.in_address if provinces else 0.0)
        hard = HardCases(noise.get("hard_cases"), seed, ctx, all_hamlets)
        return cls(communes, sizes, world, ctx, units, truth, deliveries, hard, all_hamlets, home_hamlets, provinces)

    def populate(self, seed: int) -> tuple[int, int]:
        """Every commune's residents (and former residents, and the hard cases' relatives) with
        their records, written as they are made. Returns residents and persons written."""
        next_pid, residents = 1, 0
        for commune, size in zip(self.communes, self.sizes):
            rng = random.Random(f"{seed}:{commune.code}")
            home = self.home_hamlets[commune.province_code]
            residents_here = make_people(rng, self.world, commune, size, next_pid, home)
            next_pid += size
            former = make_former_residents(rng, self.world, commune, round(size * FORMER_RESIDENT_SHARE), next_pid,
                                           home)
            next_pid += len(former)
            residents += size
            relatives = []
            if self.hard.enabled:
                self.hard.start_commune(commune)
                relatives = self.hard.relatives(residents_here, next_pid)
                next_pid += len(relatives)
                residents += len(relatives)
            # Relatives draw their memberships from the hard cases' stream: the others' stay as they were.
            for person, draw in [(p, rng) for p in residents_here + former] + [(p, self.hard.rng) for p in relatives]:
                self._write_person(person, draw)
            self.truth.flush_people()
        if self.hard.enabled:
            self.truth.write_hard_cases(self.hard.relations)
        return residents, next_pid - 1

    def _write_person(self, person, draw: random.Random) -> None:
        self.truth.add_person(person)
        records = person_records(draw, self.ctx, person)
        if self.hard.enabled:
            records += self.hard.extra_records(person, records)
        for record in records:
            if record.fabricated:
                self.truth.add_person(record.person, fabricated=True)
            self.deliveries.add_record(record)
            self.truth.add_record(record)


def _write_manifest(out: Path, seed: int, scale: str, people: int, communes, months, delivery_days,
                    files: dict, provinces: _Provinces | None) -> None:
    """manifest.json: what was generated, and each organisation's transport and files."""
    shapes = load_shapes()
    manifest = {
        "generator": "lienthong.sample",
        "version": VERSION,
        "seed": seed,
        "scale": scale,
        "people": people,
        "communes": [c.code for c in communes],
        "history": {"from": months[0].isoformat(), "to": delivery_days[-1].isoformat()},
        "deliveries": {"from": delivery_days[0].isoformat(), "to": delivery_days[-1].isoformat(),
                       "days": len(delivery_days)},
        "organisations": {
            roll: {
                "name": org_rules()[org]["name"],
                # A province's branch: the organisation whose delivery shape it sends.
                **({"organisation": org, "province_code": roll[len(org) + 1:]} if provinces else {}),
                "transport": shapes[org]["transport"],
                **({"api": shapes[org]["api"]} if "api" in shapes[org] else {}),
                "files": files.get(roll, []),
            }
            for org in ORGS
            for roll in ([f"{org}_{code}" for code in sorted(provinces.names)] if provinces else [org])
        },
    }
    if provinces:
        manifest["provinces"] = provinces.names
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _reported_totals(seed, noise, units, months, truth, deliveries) -> int:
    """Each unit's monthly count as reported upwards; a share of units inflate theirs."""
    rows = []
    rate = noise["ghosts"]["inflated_unit_totals"]
    for code in sorted(units.by_code):
        unit = units.by_code[code]
        draw = random.Random(f"{seed}:{code}:report")
        inflation = draw.uniform(0.05, 0.4) if draw.random() < rate else 0.0
        for month in months[:-1]:
            named = truth.unit_month[(code, month)]
            if not named:
                continue
            reported = max(named + 1, math.ceil(named * (1 + inflation))) if inflation else named
            rows.append((unit.roll, code, month, named, reported))
            deliveries.add_reported_total(unit, month, reported, month_end(month) + dt.timedelta(days=1))
    truth.write_reported_totals(rows)
    return len(rows)
