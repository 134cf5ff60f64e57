"""Ground truth and reference statistics, written apart from the deliveries.

``truth/`` is for tests and benchmarks only (the pipeline never reads it). ``reference/`` is what a
statistics office publishes (population by commune, sex and age; the units of the new scheme and
their old names) and the national population database's extract of population changes (deaths and
moves out of the province); the pipeline may read it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import random
from collections import Counter
from pathlib import Path

from lienthong.sample.geography import Commune
from lienthong.sample.memberships import ORGS, Record, ghost_kinds
from lienthong.sample.population import Person

_PERSON_HEADER = ["person_id", "fabricated", "family_name", "middle_name", "given_name", "full_name", "sex",
                  "birth_date", "cccd", "cmnd", "phone", "commune_code", "hamlet_code", "old_commune_code",
                  "occupation", "employer_code", "veteran", "died_on", "moved_away_on", "moved_on", "moved_to_hamlet"]
_CHANGE_HEADER = ["citizen_id", "full_name", "birth_date", "sex", "change_kind", "changed_on", "commune_code"]
_RECORD_HEADER = ["record_id", "org", "person_id", "unit_code", "unit_code_at_end", "join_date", "removed_on",
                  "end_reason", "on_roll_at_end", "duplicate_of", "noise", "planted"]


def _csv(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("w", encoding="utf-8", newline="")
    return handle, csv.writer(handle, lineterminator="\n")


def _iso(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


class Truth:
    def __init__(self, out: Path, end: dt.date, months: list[dt.date], no_dues_months: int,
                 registry_rng: random.Random, registry_coverage: dict[str, float]):
        self.end, self.months, self.no_dues_months = end, months, no_dues_months
        self._files = {}
        for name, header in (("persons", _PERSON_HEADER), ("records", _RECORD_HEADER),
                             ("ghosts", ["record_id", "org", "kind", "detail"]),
                             ("delivery_rows", ["org", "date", "file", "row", "record_id"])):
            handle, writer = _csv(out / "truth" / f"{name}.csv")
            writer.writerow(header)
            self._files[name] = (handle, writer)
        self.out = out
        self.population = Counter()  # (commune code, sex, age band) -> residents at end
        self.unit_month = Counter()  # (unit code, month) -> records on the named roll at month end
        self.ghost_counts = Counter()  # (org, kind)
        self._person_orgs: dict[str, set[str]] = {}
        self._overlaps = Counter()  # "org+org" -> persons on exactly those rolls at end
        # The population database's changes: its own random stream (drawn only for people with a
        # death or a move away), so every other output is the same with or without it.
        self._registry_rng = registry_rng
        self._registry_coverage = registry_coverage  # change kind -> share registered
        self._changes: list[str] = []  # CSV lines, starting with the citizen ID (the sort key)

    def roster_row(self, org: str, date: str, file: str, row: int, record_id: str) -> None:
        self._files["delivery_rows"][1].writerow([org, date, file, row, record_id])

    def add_person(self, person: Person, fabricated: bool = False) -> None:
        employer = person.employer.code if person.employer else ""
        self._files["persons"][1].writerow([
            person.pid, int(fabricated), person.family, person.middle, person.given, person.full_name, person.sex,
            person.birth.isoformat(), person.cccd or "", person.cmnd or "", person.phone or "",
            person.commune.code, person.hamlet.code, person.hamlet.old.code, person.occupation, employer,
            int(person.veteran), _iso(person.died), _iso(person.moved_away), _iso(person.moved_on),
            person.moved_to.code if person.moved_to else ""])
        if not fabricated and person.present_on(self.end):
            hamlet = person.hamlet_on(self.end)
            band = min(person.age_on(self.end) // 5, 17)
            self.population[(hamlet.code.split("-")[0], person.sex, band)] += 1
        if not fabricated:
            self._population_change(person)

    def _population_change(self, person: Person) -> None:
        """A death or a move out of the province, as the population database registered it.

        Only a share is registered (coverage). Only people with a 12-digit ID are in the extract: the
        sample never mints one for a 9-digit CMND holder, and no roll could carry it. A former
        resident's departure drawn before their birth (a quirk of the generator) is no registration.
        """
        for kind, day in (("died", person.died), ("moved_away", person.moved_away)):
            if day is None or day > self.end:
                continue
            registered = self._registry_rng.random() < self._registry_coverage[kind]
            if not registered or not person.cccd or day < person.birth:
                continue
            line = io.StringIO()
            csv.writer(line, lineterminator="\n").writerow([
                person.cccd, person.full_name, person.birth.isoformat(), person.sex, kind, day.isoformat(),
                person.hamlet_on(day).code.split("-")[0]])
            self._changes.append(line.getvalue())

    def add_record(self, record: Record) -> None:
        end = self.end
        on_roll = record.on_roll(end)
        self._files["records"][1].writerow([
            record.record_id, record.roll, record.person.pid, record.units[0][1].code, record.unit_on(end).code,
            record.join.isoformat(), _iso(record.removed), record.end_reason or "", int(on_roll),
            record.duplicate_of or "", ";".join(record.identity.kinds), ";".join(record.planted)])
        for kind, detail in ghost_kinds(record, end, self.months, self.no_dues_months):
            self._files["ghosts"][1].writerow([record.record_id, record.roll, kind, detail])
            self.ghost_counts[(record.roll, kind)] += 1
        for month in self.months[:-1]:
            month_end_day = month_end(month)
            if record.on_roll(month_end_day):
                self.unit_month[(record.unit_on(month_end_day).code, month)] += 1
        if on_roll and not record.fabricated and record.person.present_on(end):
            self._person_orgs.setdefault(record.person.pid, set()).add(record.org)

    def flush_people(self) -> None:
        """Fold the finished commune's people into the overlap counts (keeps memory per commune)."""
        for orgs in self._person_orgs.values():
            self._overlaps["+".join(o for o in ORGS if o in orgs)] += 1
        self._person_orgs.clear()

    def write_hard_cases(self, relations: list[tuple[str, str, str]]) -> None:
        """truth/hard_cases.csv: relatives, twins and name-copying ghosts, each with the person they relate to."""
        handle, writer = _csv(self.out / "truth" / "hard_cases.csv")
        writer.writerow(["person_id", "kind", "related_person_id"])
        writer.writerows(relations)
        handle.close()

    def close(self) -> dict:
        for handle, _ in self._files.values():
            handle.close()
        return {"ghosts": {f"{org}:{kind}": n for (org, kind), n in sorted(self.ghost_counts.items())}}

    def write_overlaps(self) -> dict[str, int]:
        handle, writer = _csv(self.out / "truth" / "overlaps.csv")
        writer.writerow(["kind", "orgs", "persons"])
        combos = dict(sorted(self._overlaps.items()))
        for combo, n in combos.items():
            writer.writerow(["exact_combination", combo, n])
        for size in (1, 2):
            for group in itertools.combinations(ORGS, size):
                n = sum(v for k, v in combos.items() if set(group) <= set(k.split("+")))
                writer.writerow(["members" if size == 1 else "pair", "+".join(group), n])
        handle.close()
        return combos

    def write_reported_totals(self, rows: list[tuple[str, str, dt.date, int, int]]) -> None:
        handle, writer = _csv(self.out / "truth" / "reported_totals.csv")
        writer.writerow(["org", "unit_code", "month", "named_count", "reported_count", "inflated"])
        for org, code, month, named, reported in rows:
            writer.writerow([org, code, month.strftime("%Y-%m"), named, reported, int(reported > named)])
        handle.close()

    def write_units(self, units) -> None:
        handle, writer = _csv(self.out / "truth" / "units.csv")
        writer.writerow(["unit_code", "org", "name", "kind", "commune_code"])
        for unit in sorted(units, key=lambda u: u.code):
            writer.writerow([unit.code, unit.roll, unit.name, unit.kind, unit.commune_code])
        handle.close()

    def write_reference(self, communes: tuple[Commune, ...]) -> None:
        handle, writer = _csv(self.out / "reference" / "population.csv")
        writer.writerow(["commune_code", "commune_name", "sex", "age_band", "people"])
        for commune in communes:
            for sex in ("F", "M"):
                for band in range(18):
                    label = f"{band * 5}-{band * 5 + 4}" if band < 17 else "85+"
                    writer.writerow([commune.code, commune.name, sex, label, self.population[(commune.code, sex, band)]])
        handle.close()
        handle, writer = _csv(self.out / "reference" / "hamlets.csv")
        writer.writerow(["hamlet_code", "hamlet_name", "commune_code", "commune_name", "old_commune_code",
                         "old_commune_name", "old_district_name", "old_province_name", "old_commune_split"])
        for commune in communes:
            for h in commune.hamlets:
                writer.writerow([h.code, h.name, commune.code, commune.name, h.old.code, h.old.name, h.old.district,
                                 h.old.province, int(h.old.split)])
        handle.close()

    def write_population_changes(self) -> int:
        """reference/population_changes.csv: the population database's deaths and moves out of the
        province up to the end date, by citizen ID; returns the rows written."""
        handle, writer = _csv(self.out / "reference" / "population_changes.csv")
        writer.writerow(_CHANGE_HEADER)
        for line in sorted(self._changes):
            handle.write(line)
        handle.close()
        return len(self._changes)


def month_end(month: dt.date) -> dt.date:
    following = dt.date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return following - dt.timedelta(days=1)
