"""Write what each organisation sends, in its own shape (shapes/<org>.yml): file names, headers,
formats (CSV, XLSX, JSON lines behind an API), encodings, date formats and schedule.

Nothing here knows an organisation by name: a sixth organisation is a sixth YAML file.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import json
import zlib
from dataclasses import dataclass, field
from typing import Callable
from functools import cache
from pathlib import Path

import xlsxwriter
import yaml

from lienthong.sample.memberships import Record, Unit
from lienthong.sample.noise import address_fields, excel_serial, strip_diacritics
from lienthong.text.legacy_encodings import encode

SHAPES_DIR = Path(__file__).parent / "shapes"
_PLAIN_CODECS = {"utf-8", "utf-8-sig"}
_FIXED_CREATED = dt.datetime(2025, 7, 1)  # XLSX metadata: a constant keeps output byte-identical


@cache
def load_shapes() -> dict[str, dict]:
    shapes = {}
    for path in sorted(SHAPES_DIR.glob("*.yml")):
        shape = yaml.safe_load(path.read_text(encoding="utf-8"))
        shapes[shape["org"]] = shape
    return shapes


class Schedule:
    """Which days an organisation sends a full roster, which days only changes."""

    def __init__(self, shape: dict, days: list[dt.date]):
        rules = set(shape["snapshot_days"])
        self.snapshot = {
            d for i, d in enumerate(days)
            if ("first" in rules and i == 0) or ("month_start" in rules and d.day == 1)
            or ("monday" in rules and d.weekday() == 0)
        }
        changes = shape.get("changes_days", "none")
        self.changes = {d for d in days if d not in self.snapshot} if changes == "other" else set()
        self.days = sorted(self.snapshot | self.changes)

    def delivery_day(self, day: dt.date) -> dt.date | None:
        """The delivery that carries an event of ``day``: the first delivery on or after it."""
        i = bisect.bisect_left(self.days, day)
        return self.days[i] if i < len(self.days) else None


class _LegacyText:
    """A text stream that encodes each write with a legacy Vietnamese encoding."""

    def __init__(self, path: Path, encoding: str):
        self._raw = path.open("wb")
        self._encoding = encoding

    def write(self, text: str) -> int:
        self._raw.write(encode(text, self._encoding))
        return len(text)

    def close(self) -> None:
        self._raw.close()


@dataclass
class _Writer:
    path: Path
    spec: dict
    shape: dict
    rows: int = 0
    _handle: object = None
    _csv: object = None
    _sheet: object = None
    _formats: dict = field(default_factory=dict)

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fmt, columns = self.spec["format"], self.spec["columns"]
        if fmt == "csv":
            encoding = self.spec["encoding"]
            if encoding in _PLAIN_CODECS:
                self._handle = self.path.open("w", encoding=encoding, newline="")
            else:
                self._handle = _LegacyText(self.path, encoding)
            self._csv = csv.writer(self._handle, delimiter=self.spec.get("delimiter", ","), lineterminator="\r\n")
            self._csv.writerow([c["header"] for c in columns])
        elif fmt == "xlsx":
            self._handle = xlsxwriter.Workbook(str(self.path), {"constant_memory": True})
            self._handle.set_properties({"created": _FIXED_CREATED, "author": "", "title": self.spec.get("sheet", "")})
            self._sheet = self._handle.add_worksheet(self.spec.get("sheet", "Sheet1")[:31])
            self._formats["date"] = self._handle.add_format({"num_format": "dd/mm/yyyy"})
            self._sheet.write_row(0, 0, [c["header"] for c in columns], self._handle.add_format({"bold": True}))
        elif fmt == "jsonl":
            self._handle = self.path.open("w", encoding="utf-8", newline="\n")
        else:
            raise ValueError(f"unknown format {fmt!r} in shape of {self.shape['org']}")

    def write(self, values: dict) -> None:
        if self._handle is None:
            self.open()
        self.rows += 1
        values["row_number"] = self.rows
        fmt = self.spec["format"]
        rendered = [_render(fmt, self.shape, c["field"], values.get(c["field"])) for c in self.spec["columns"]]
        if fmt == "csv":
            self._csv.writerow(rendered)
        elif fmt == "jsonl":
            keys = (c["key"] for c in self.spec["columns"])
            self._handle.write(json.dumps(dict(zip(keys, rendered)), ensure_ascii=False) + "\n")
        else:
            for col, value in enumerate(rendered):
                if isinstance(value, dt.date):
                    self._sheet.write_datetime(self.rows, col, dt.datetime(value.year, value.month, value.day),
                                               self._formats["date"])
                elif isinstance(value, str):
                    self._sheet.write_string(self.rows, col, value)
                else:
                    self._sheet.write(self.rows, col, value)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


def _render(fmt: str, shape: dict, name: str, value):
    """One field as the organisation's tool writes it."""
    if value is None:
        return "" if fmt != "jsonl" else None
    if name == "birth_date":
        kind, day = value
        if kind == "missing":
            return "" if fmt != "jsonl" else None
        if kind == "year":
            return day.year if fmt == "xlsx" else str(day.year)
        if kind == "serial":
            return excel_serial(day) if fmt == "xlsx" else str(excel_serial(day))
        if kind == "swap":
            return day.strftime(shape["date_format"].replace("%d", "%@").replace("%m", "%d").replace("%@", "%m"))
        value = day
    if name == "sex":
        return shape["values"]["sex"][value]
    if name in ("change_type", "end_reason"):
        return shape["values"][name][value]
    if name == "period":
        return value.strftime(shape.get("period_format", "%m/%Y"))
    if name == "month":
        return value.strftime(shape.get("month_format", "%m/%Y"))
    if isinstance(value, dt.date):
        return value if fmt == "xlsx" else value.strftime(shape["date_format"])
    return value


class Deliveries:
    """Routes every record's rows to the right organisation, day and file."""

    def __init__(self, out: Path, days: list[dt.date], commune_names: dict[str, str],
                 on_roster_row: Callable[[str, str, str, int, str], None], shapes: dict | None = None,
                 provinces: dict[str, str] | None = None, province_in_address: float = 0.0):
        self.out = out
        self.days = days
        self.shapes = shapes or load_shapes()
        self.schedules = {org: Schedule(shape, days) for org, shape in self.shapes.items()}
        self._commune_names = commune_names
        self._writers: dict[tuple[str, dt.date, str], _Writer] = {}
        self._on_roster_row = on_roster_row  # (roll, date, file, row number, record id) for the truth
        # A sample of several provinces: commune code -> its province's name, written after the
        # commune by this share of records (decided per record, from its id: no random draw).
        self._provinces = provinces
        self._province_in_address = province_in_address

    def _writer(self, org: str, day: dt.date, kind: str, roll: str) -> _Writer:
        """The file of ``org``'s shape for ``kind`` on ``day`` in the roll ``roll`` (the organisation's,
        or its provincial branch's)."""
        key = (roll, day, kind)
        writer = self._writers.get(key)
        if writer is None:
            spec = self.shapes[org]["files"][kind]
            writer = _Writer(self.out / "deliveries" / roll / day.isoformat() / spec["name"], spec, self.shapes[org])
            self._writers[key] = writer
        return writer

    def _identity_values(self, record: Record, day: dt.date) -> dict:
        identity, person = record.identity, record.person
        hamlet = identity.hamlet or (record.hamlet_on(day) if not record.fabricated else person.hamlet)
        commune_code = hamlet.code.split("-")[0]
        commune_name = self._commune_names[commune_code]
        hamlet_text, commune_text = address_fields(identity, hamlet, commune_name)
        if self._provinces and zlib.crc32(record.record_id.encode()) % 1000 < 1000 * self._province_in_address:
            province = hamlet.old.province if identity.old_address else self._provinces[commune_code]
            commune_text += ", " + (strip_diacritics(province) if identity.plain_address else province)
        return {
            "record_id": record.record_id,
            "full_name": identity.full_name,
            "family_name": identity.family_name,
            "given_names": identity.given_names,
            "birth_date": identity.birth,
            "sex": person.sex,
            "id_number": identity.id_number,
            "phone": identity.phone,
            "hamlet": hamlet_text,
            "commune": commune_text,
            "address": f"{hamlet_text}, {commune_text}",
            "join_date": None if identity.join_date_blank else record.join,
            "employer": person.employer.name if person.employer else "",
        }

    def _roster_row(self, record: Record, day: dt.date, kind: str, values: dict) -> None:
        writer = self._writer(record.org, day, kind, record.roll)
        writer.write(values)
        self._on_roster_row(record.roll, day.isoformat(), writer.spec["name"], writer.rows, record.record_id)

    def add_record(self, record: Record) -> None:
        org = record.org
        schedule = self.schedules[org]
        for day in sorted(schedule.snapshot):
            if record.on_roll(day):
                unit = record.unit_on(day)
                values = self._identity_values(record, day)
                values.update(unit_name=unit.name, unit_code=unit.code, change_type="snapshot",
                              change_date=max(since for since, _ in record.units if since <= day))
                self._roster_row(record, day, "roster_snapshot", values)
        events = [(record.join, "join", None)] + [(since, "transfer", None) for since, _ in record.units[1:]]
        if record.removed:
            events.append((record.removed, "leave", record.end_reason))
        for when, change, reason in events:
            day = schedule.delivery_day(when)
            if day is None or day not in schedule.changes:
                continue
            unit = record.unit_on(when - dt.timedelta(days=1) if change == "leave" else when)
            values = self._identity_values(record, when)
            values.update(unit_name=unit.name, unit_code=unit.code, change_type=change, change_date=when,
                          end_reason=reason)
            self._roster_row(record, day, "roster_changes", values)
        self._activity_rows(record, schedule)

    def _activity_rows(self, record: Record, schedule: Schedule) -> None:
        identity = record.identity
        for period, amount, paid in record.dues:
            day = schedule.delivery_day(paid)
            if day is not None:
                unit = record.unit_on(paid)
                self._writer(record.org, day, "dues", record.roll).write({
                    "record_id": record.record_id, "full_name": identity.full_name, "birth_date": identity.birth,
                    "unit_name": unit.name, "unit_code": unit.code, "period": period, "amount": amount,
                    "paid_date": paid})
        for held, unit in record.attended:
            day = schedule.delivery_day(held)
            if day is not None:
                self._writer(record.org, day, "attendance", record.roll).write({
                    "record_id": record.record_id, "full_name": identity.full_name, "birth_date": identity.birth,
                    "unit_name": unit.name, "unit_code": unit.code, "session_date": held,
                    "session_title": f"Sinh hoạt định kỳ tháng {held.month:02d}/{held.year}"})

    def add_reported_total(self, unit: Unit, month: dt.date, reported: int, report_day: dt.date) -> None:
        day = self.schedules[unit.org].delivery_day(report_day)
        if day is not None:
            self._writer(unit.org, day, "reported_totals", unit.roll).write({
                "unit_code": unit.code, "unit_name": unit.name, "commune": unit.commune_name, "month": month,
                "reported_count": reported})

    def close(self) -> dict[str, list[dict]]:
        """Close every file; return the manifest's per-organisation file list."""
        files: dict[str, list[dict]] = {org: [] for org in self.shapes}
        for (roll, day, kind), writer in sorted(self._writers.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])):
            writer.close()
            spec = writer.spec
            files.setdefault(roll, []).append({
                "date": day.isoformat(),
                "path": writer.path.relative_to(self.out).as_posix(),
                "kind": kind,
                "format": spec["format"],
                "encoding": spec.get("encoding", "utf-8" if spec["format"] == "jsonl" else "xlsx"),
                "delimiter": spec.get("delimiter"),
                "rows": writer.rows,
            })
        return files
