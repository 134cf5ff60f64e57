"""Reference tables: files from outside the organisations, each replaced whole whenever it is loaded.

- The statistics office's population by commune, sex and age band (gathering rates).
- The national population database's extract of population changes (biến động dân cư: deaths and
  moves out of the province), evidence for the review's deceased-or-moved flag. It is personal data
  (names, IDs, birth dates): it stays in raw, which only the loader and transformer roles read.

Neither is an organisation's delivery: they are small, have no history worth keeping in raw and are
not batches. Values land as sent (text), except the population counts.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from lienthong.sources.files import SourceFileError
from lienthong.warehouse.statistics import analyse_if_grown


@dataclass(frozen=True)
class ReferenceTable:
    """One reference CSV and the raw table it replaces."""

    table: str  # in schema raw
    file: str  # its name in the reference folder (settings.reference_dir)
    label: str  # what the file is, for messages
    columns: tuple[tuple[str, str], ...]  # (name, SQL type): the header names the file must have

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)


POPULATION = ReferenceTable("reference_population", "population.csv", "population reference", (
    ("commune_code", "text not null"), ("commune_name", "text"), ("sex", "text not null"),
    ("age_band", "text not null"), ("people", "integer not null")))
POPULATION_CHANGES = ReferenceTable("reference_population_changes", "population_changes.csv",
                                    "population changes extract", (
    ("citizen_id", "text"), ("full_name", "text"), ("birth_date", "text"), ("sex", "text"),
    ("change_kind", "text"), ("changed_on", "text"), ("commune_code", "text")))
# What the warehouse build loads from the reference folder, in this order.
REFERENCES = (POPULATION, POPULATION_CHANGES)


def ensure_table(conn: psycopg.Connection, reference: ReferenceTable) -> None:
    """The table the models read, empty until the reference file is loaded."""
    conn.execute("create schema if not exists raw")
    columns = sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(kind))
                                 for name, kind in reference.columns)
    conn.execute(sql.SQL("create table if not exists {} ({})").format(
        sql.Identifier("raw", reference.table), columns))


def load_reference(conn: psycopg.Connection, reference: ReferenceTable, path: Path) -> int:
    """Replace the reference's raw table with the CSV at path (UTF-8, header; other columns are
    ignored, an empty cell is null); returns the rows loaded. A file without every column loads
    nothing and leaves the table as it was."""
    target = sql.Identifier("raw", reference.table)
    columns = sql.SQL(", ").join(map(sql.Identifier, reference.names))
    rows = 0
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in reference.names if c not in (reader.fieldnames or [])]
            if missing:
                raise SourceFileError(f"{path}: {reference.label} lacks column(s) {missing}")
            with conn.transaction():
                ensure_table(conn, reference)
                conn.execute(sql.SQL("truncate {}").format(target))
                with conn.cursor() as cur, cur.copy(sql.SQL("copy {} ({}) from stdin").format(target, columns)) as copy:
                    for record in reader:
                        copy.write_row(tuple(record[c] or None for c in reference.names))
                        rows += 1
                analyse_if_grown(conn, "raw", reference.table, rows)  # replaced whole: the build joins it next
    except (UnicodeDecodeError, csv.Error) as err:  # the transaction rolled back: the table is as it was
        raise SourceFileError(f"{path}: {reference.label} is not a readable UTF-8 CSV ({err})") from err
    return rows

