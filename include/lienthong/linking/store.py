"""The identity schema in PostgreSQL: creation and bulk reads and writes."""
from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import pandas as pd
import psycopg

SCHEMA_SQL = Path(__file__).with_name("schema.sql")


def ensure_schema(conn: psycopg.Connection) -> None:
    conn.execute(SCHEMA_SQL.read_text(encoding="utf-8"))


READ_BATCH = 100_000  # rows fetched at a time by read_frame


def read_frame(conn: psycopg.Connection, sql: str, params=None, shared: Collection[str] = ()) -> pd.DataFrame:
    """The rows of ``sql`` as a DataFrame, fetched a batch at a time: the rows as Python tuples
    and the frame are never both whole in memory. In the columns named in ``shared``, equal values
    are one string object (each fetched value is otherwise its own: ~60 bytes a value, a GB over a
    province's records for keys that repeat, such as family names, hamlets or dates)."""
    with conn.cursor() as cur:
        cur.execute(sql, params)
        columns = [d.name for d in cur.description]
        seen: dict[str, dict] = {c: {} for c in shared}
        frames = []
        while rows := cur.fetchmany(READ_BATCH):
            values = dict(zip(columns, zip(*rows)))
            for column, known in seen.items():
                values[column] = [known.setdefault(v, v) for v in values[column]]
            frames.append(pd.DataFrame(values, columns=columns))
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else \
            frames[0] if frames else pd.DataFrame(columns=columns)


def copy_rows(conn: psycopg.Connection, table: str, columns: list[str], rows) -> None:
    """COPY an iterable of row tuples into ``table``; pandas' missing values become NULL."""
    with conn.cursor().copy(f"copy {table} ({', '.join(columns)}) from stdin") as copy:
        for row in rows:
            copy.write_row([None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else v
                            for v in row])


def copy_frame(conn: psycopg.Connection, table: str, frame: pd.DataFrame, columns: list[str]) -> None:
    copy_rows(conn, table, columns, frame[columns].itertuples(index=False, name=None))


def temp_keys(conn: psycopg.Connection, name: str, keys, column: str = "record_uid") -> None:
    """A temporary one-column table of distinct keys, for joins; analysed, since autovacuum never
    sees a temporary table and the planner would guess its size (a night's candidates at 200,796
    records: 13-16 s with the guess, 2.5-3.4 s analysed; docs/linking.md, "A night's candidates on
    stored commune areas")."""
    conn.execute(f"drop table if exists {name}")
    conn.execute(f"create temp table {name} ({column} text primary key)")
    copy_rows(conn, name, [column], ((k,) for k in set(keys)))
    conn.execute(f"analyze {name}")
