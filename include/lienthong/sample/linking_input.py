"""The linker's input built from a generated sample's roster deliveries (benchmarks and tests only).

The production input comes from dbt staging; this reader exists so that the linker can be scored
against the generator's ground truth without the ingestion pipeline. It is generic: it knows only
the shape YAMLs (headers, encodings, formats) and the legacy encodings, never an organisation by
name. Values stay as delivered (noisy text); only the transport is undone (encodings, XLSX cells,
JSON lines).

Source record keys: the member code where the organisation sends one. The Women's Union sends no
member code, so its key is the generator's record id found through ``truth/delivery_rows.csv``;
that stands in for the stable key the caller must provide (the record id says nothing about the
person, so no truth leaks into the features).

A sample that brings its own senders (``bench/xgen.py`` writes their organisation configs into the
sample) is read through those configs instead, with the pipeline's own file reader and row
preparation (``config_dir``): the shapes describe only this package's generator.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import yaml

from lienthong.text.legacy_encodings import decode

SHAPES_DIR = Path(__file__).resolve().parent / "shapes"
ROSTER_FILES = ("roster_snapshot", "roster_changes")
INPUT_COLUMNS = ("org_code", "source_record_key", "full_name", "birth_date", "sex", "id_number", "phone",
                 "hamlet", "commune")
# A hamlet's word, written out or abbreviated with a dot ("Ấp. Bắc", "kp.12"), as staging reads it.
_HAMLET_START = re.compile(r"^\s*(kp\.?\s*\d|(khu phố|khu pho|ấp|ap|tổ|to|khóm|khom)(\.\s*|\s))", re.IGNORECASE)
_LEGACY = {"tcvn3", "vni", "cp1258"}


def load_shapes() -> dict[str, dict]:
    return {shape["org"]: shape for shape in
            (yaml.safe_load(path.read_text(encoding="utf-8")) for path in sorted(SHAPES_DIR.glob("*.yml")))}


def _cell(value: object) -> str:
    """A spreadsheet or JSON value as the text a clerk would see."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    return str(value)


def split_address(address: str) -> tuple[str, str]:
    """'Khu phố 24, Phường Tân Ninh' -> ('Khu phố 24', 'Phường Tân Ninh'), 'kp.12, P. Long Thành Trung' ->
    ('kp.12', 'P. Long Thành Trung'); no hamlet part -> ('', text)."""
    head, _, rest = address.partition(",")
    if rest and _HAMLET_START.match(head):
        return head.strip(), rest.strip()
    return "", address.strip()


def _read_rows(path: Path, spec: dict) -> Iterator[dict[str, str]]:
    """One file's rows as {field: text}, in file order."""
    fields = {col.get("header") or col.get("key"): col["field"] for col in spec["columns"]}
    if spec["format"] == "jsonl":
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield {fields[k]: _cell(v) for k, v in json.loads(line).items() if k in fields}
    elif spec["format"] == "xlsx":
        from python_calamine import CalamineWorkbook

        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(spec["sheet"]).to_python()
        header = [str(h) for h in rows[0]]
        for row in rows[1:]:
            yield {fields[h]: _cell(v) for h, v in zip(header, row) if h in fields}
    else:
        encoding = spec.get("encoding", "utf-8")
        data = path.read_bytes()
        text = decode(data, encoding) if encoding in _LEGACY else data.decode(encoding)
        reader = csv.reader(io.StringIO(text), delimiter=spec.get("delimiter", ","))
        header = next(reader)
        for row in reader:
            yield {fields[h]: v for h, v in zip(header, row) if h in fields}


def _delivery_keys(sample_dir: Path) -> dict[tuple[str, str, str, str], str]:
    with (sample_dir / "truth" / "delivery_rows.csv").open(encoding="utf-8") as handle:
        return {(r["org"], r["date"], r["file"], r["row"]): r["record_id"] for r in csv.DictReader(handle)}


def delivery_dates(sample_dir: Path) -> list[str]:
    return sorted({p.name for p in (Path(sample_dir) / "deliveries").glob("*/*") if p.is_dir()})


def _input_row(org: str, key: str, row: dict[str, str], sex: str, day: str) -> dict[str, str]:
    """Linker input from a row's fields: a split name joined, an address split into hamlet and commune."""
    name = row["full_name"] if "full_name" in row else f"{row.get('family_name', '')} {row.get('given_names', '')}"
    hamlet, commune = (row.get("hamlet", ""), row.get("commune", ""))
    if "address" in row:
        hamlet, commune = split_address(row["address"])
    return {"org_code": org, "source_record_key": key, "full_name": name, "birth_date": row.get("birth_date", ""),
            "sex": sex, "id_number": row.get("id_number", ""), "phone": row.get("phone", ""),
            "hamlet": hamlet, "commune": commune, "delivered_on": day}


def config_roster_rows(sample_dir: Path, config_dir: Path, until: str | None = None,
                       only: str | None = None) -> Iterator[dict[str, str]]:
    """Like :func:`roster_rows`, for the organisations configured in ``config_dir`` (file connectors),
    each file read and prepared as the nightly ingest reads it; rows the connector already refuses
    (a line cut short) are left out, as the ingest quarantines them."""
    from lienthong.config.organisations import load_organisations
    from lienthong.landing.checks import prepared
    from lienthong.pipeline.dbt_generated import vn_key
    from lienthong.sources.files import open_file

    sample_dir = Path(sample_dir)
    keys: dict | None = None
    for org in load_organisations(config_dir):
        sex_codes = {"f": "F", "m": "M", **{vn_key(k): v for k, v in org.sex_codes.items()}}
        entities = [org.entity(kind) for kind in ("roster", "roster_changes") if org.sends(kind)]
        for day_dir in sorted((sample_dir / "deliveries" / org.code).glob("*")):
            day = day_dir.name
            if (until and day > until) or (only and day != only):
                continue
            for entity in entities:
                path = sample_dir / "deliveries" / entity.connector.path.format(date=day)
                if not path.exists():
                    continue
                for source in prepared(open_file(path, entity)).rows():
                    if source.problem:
                        continue
                    row = {k: v for k, v in source.values.items() if v is not None}
                    key = row.get("member_code")
                    if not key:  # truth's row is the line after a header on line 1, as review scoring reads it
                        keys = keys if keys is not None else _delivery_keys(sample_dir)
                        key = keys[(org.code, day, path.name, str(source.row_number - 1))]
                    written = row.get("sex", "")
                    birth = {"birth_date": row.get("birth_date") or row.get("birth_year", "")}
                    yield _input_row(org.code, key, {**row, **birth}, sex_codes.get(vn_key(written), written), day)


def rolls(sample_dir: Path) -> list[tuple[str, str]]:
    """(roll, organisation whose shape it sends): each organisation's own roll, or in a sample of
    several provinces its provincial branches' (the manifest names their organisation)."""
    manifest = json.loads((Path(sample_dir) / "manifest.json").read_text(encoding="utf-8"))
    return [(roll, entry.get("organisation", roll)) for roll, entry in manifest["organisations"].items()]


def roster_rows(sample_dir: Path, until: str | None = None, only: str | None = None) -> Iterator[dict[str, str]]:
    """Every roster row delivered up to ``until`` (or on ``only``), in delivery order, as linker input
    plus ``delivered_on``; ``org_code`` is the roll (a provincial branch's in a sample of several)."""
    sample_dir = Path(sample_dir)
    keys: dict | None = None
    shapes = load_shapes()
    branches = rolls(sample_dir)
    for org, shape in ((roll, shape) for shape_org, shape in shapes.items()
                       for roll, of in branches if of == shape_org):
        # Coded sexes (the Trade Union's 0 / 1) back to the shape's F / M; words pass through.
        sex_codes = {str(v): k for k, v in shape.get("values", {}).get("sex", {}).items()}
        for day_dir in sorted((sample_dir / "deliveries" / org).glob("*")):
            day = day_dir.name
            if (until and day > until) or (only and day != only):
                continue
            for kind in ROSTER_FILES:
                spec = shape["files"].get(kind)
                if not spec or not (day_dir / spec["name"]).exists():
                    continue
                for number, row in enumerate(_read_rows(day_dir / spec["name"], spec), start=1):
                    key = row.get("record_id")
                    if not key:
                        keys = keys if keys is not None else _delivery_keys(sample_dir)
                        key = keys[(org, day, spec["name"], row.get("row_number") or str(number))]
                    yield _input_row(org, key, row, sex_codes.get(row.get("sex", ""), row.get("sex", "")), day)


def latest_records(sample_dir: Path, until: str | None = None, config_dir: Path | None = None) -> list[dict[str, str]]:
    """One row per source record: its latest delivered version up to ``until`` (read through the
    organisation configs in ``config_dir`` when given, else the shapes)."""
    latest: dict[tuple[str, str], dict[str, str]] = {}
    rows = config_roster_rows(sample_dir, config_dir, until) if config_dir else roster_rows(sample_dir, until)
    for row in rows:
        latest[(row["org_code"], row["source_record_key"])] = row
    return list(latest.values())


def write_source_table(conn, table: str, rows: list[dict[str, str]]) -> None:
    """(Re)create ``table`` with the linker's input columns and COPY ``rows`` into it."""
    conn.execute(f"drop table if exists {table}")
    conn.execute(f"create table {table} ({', '.join(f'{c} text' for c in INPUT_COLUMNS)},"
                 " primary key (org_code, source_record_key))")
    with conn.cursor().copy(f"copy {table} ({', '.join(INPUT_COLUMNS)}) from stdin") as copy:
        for row in rows:
            copy.write_row([row[c] if row[c] != "" else None for c in INPUT_COLUMNS])
