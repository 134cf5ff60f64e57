"""Reference statistics: the population by commune, sex and age band, for gathering rates.

Not an organisation's delivery but the statistics office's table, replaced whole whenever it is
loaded (it is small and has no history worth keeping in raw).
"""
from __future__ import annotations

import csv
from pathlib import Path

import psycopg

from lienthong.sources.files import SourceFileError

POPULATION_COLUMNS = ("commune_code", "commune_name", "sex", "age_band", "people")


def ensure_population_table(conn: psycopg.Connection) -> None:
    """The table the gathering-rate models read, empty until statistics are loaded."""
    conn.execute("create schema if not exists raw")
    conn.execute("create table if not exists raw.reference_population (commune_code text not null,"
                 " commune_name text, sex text not null, age_band text not null, people integer not null)")


def load_population(conn: psycopg.Connection, path: Path) -> int:
    """Replace raw.reference_population with the CSV at path; returns the rows loaded."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in POPULATION_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise SourceFileError(f"{path}: population reference lacks column(s) {missing}")
        rows = [tuple(record[c] for c in POPULATION_COLUMNS) for record in reader]
    with conn.transaction():
        ensure_population_table(conn)
        conn.execute("truncate raw.reference_population")
        with conn.cursor() as cur, cur.copy(
                "copy raw.reference_population (commune_code, commune_name, sex, age_band, people) from stdin") as copy:
            for row in rows:
                copy.write_row(row)
    return len(rows)
