"""Land one delivery into ``raw``: a batch record, its rows via COPY, bad rows to quarantine.

Everything for one (organisation, entity, day) happens in one transaction: a failure leaves
nothing behind, and a rerun replaces the day's batch instead of appending to it.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg
from psycopg import sql

from lienthong.config.organisations import EntityConfig, OrganisationConfig
from lienthong.sources.base import Delivery, SourceRow

log = logging.getLogger(__name__)
SCHEMA_SQL = Path(__file__).with_name("schema.sql")
_DDL_LOCK = 7_180_001  # advisory lock id serialising DDL between concurrent landings


@dataclass(frozen=True)
class Rejection:
    reason_code: str
    reason: str


# A row check returns None for a good row or the reason it goes to quarantine.
RowCheck = Callable[[SourceRow], Rejection | None]


@dataclass(frozen=True)
class LandingResult:
    org_code: str
    entity: str
    delivery_date: date
    status: str  # loaded | unchanged | duplicate
    batch_id: int | None
    row_count: int
    quarantined_count: int
    source: str

    def summary(self) -> str:
        return (f"{self.org_code}/{self.entity} {self.delivery_date}: {self.status}, "
                f"{self.row_count} rows, {self.quarantined_count} quarantined ({self.source})")


def raw_table(org: OrganisationConfig, entity: EntityConfig) -> sql.Composed:
    return sql.Identifier("raw", f"{org.code}__{entity.kind}")


def ensure_raw_tables(conn: psycopg.Connection, org: OrganisationConfig) -> None:
    """Create the raw schema and this organisation's row tables (idempotent, safe in parallel)."""
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (_DDL_LOCK,))
        conn.execute(SCHEMA_SQL.read_text())
        for entity in org.entities:
            table = raw_table(org, entity)
            # No foreign key to raw.batches: a per-row check would halve COPY speed, and rows only
            # ever arrive inside the transaction that creates their batch record.
            conn.execute(sql.SQL(
                "create table if not exists {} ("
                " batch_id bigint not null, delivery_date date not null, row_number integer not null, extra jsonb)"
            ).format(table))
            present = {name for (name,) in conn.execute(
                "select column_name from information_schema.columns where table_schema = 'raw'"
                " and table_name = %s", (f"{org.code}__{entity.kind}",))}
            # ALTER takes an exclusive lock even when the column exists: only when it is new, so a
            # nightly landing never waits behind a BI query reading the table.
            for field in entity.fields:
                if field not in present:
                    conn.execute(sql.SQL("alter table {} add column {} text").format(table, sql.Identifier(field)))
            conn.execute(sql.SQL("create index if not exists {} on {} (batch_id)").format(
                sql.Identifier(f"{org.code}__{entity.kind}__batch"), table))


def land_delivery(
    conn: psycopg.Connection,
    org: OrganisationConfig,
    delivery: Delivery,
    delivery_date: date,
    checks: Iterable[RowCheck] = (),
) -> LandingResult:
    """Land one delivery; rerunning the same day replaces its batch, the same file twice is skipped."""
    entity = delivery.entity
    ensure_raw_tables(conn, org)
    checks = tuple(checks)
    source = delivery.source
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"{org.code}/{entity.kind}",))
        current = conn.execute(
            "select batch_id, status from raw.batches where org_code = %s and entity = %s"
            " and delivery_date = %s and checksum = %s and status in ('loaded', 'duplicate')",
            (org.code, entity.kind, delivery_date, delivery.checksum),
        ).fetchone()
        if current:
            status = "unchanged" if current[1] == "loaded" else "duplicate"
            return _result(org, entity, delivery_date, status, current[0], conn, source)
        earlier = conn.execute(
            "select batch_id, delivery_date from raw.batches where org_code = %s and entity = %s"
            " and checksum = %s and status = 'loaded'",
            (org.code, entity.kind, delivery.checksum),
        ).fetchone()
        _retire_day(conn, org, entity, delivery_date)
        if earlier:
            batch_id = _insert_batch(
                conn, org, entity, delivery_date, source, delivery.checksum, "duplicate",
                note=f"same file as the batch of {earlier[1]} (batch {earlier[0]}); not loaded again")
            return LandingResult(org.code, entity.kind, delivery_date, "duplicate", batch_id, 0, 0, source)
        batch_id = _insert_batch(conn, org, entity, delivery_date, source, delivery.checksum, "loaded")
        fields = list(entity.fields)
        rows, quarantined = _copy_rows(conn, org, entity, batch_id, delivery_date, delivery, fields, checks)
        conn.execute(
            "update raw.batches set row_count = %s, quarantined_count = %s where batch_id = %s",
            (rows, quarantined, batch_id),
        )
    result = LandingResult(org.code, entity.kind, delivery_date, "loaded", batch_id, rows, quarantined, source)
    log.info("landed %s", result.summary())
    return result


def _insert_batch(conn, org, entity, delivery_date, source, checksum, status, note=None) -> int:
    return conn.execute(
        "insert into raw.batches (org_code, entity, delivery_date, source, checksum, status, note)"
        " values (%s, %s, %s, %s, %s, %s, %s) returning batch_id",
        (org.code, entity.kind, delivery_date, source, checksum, status, note),
    ).fetchone()[0]


def _retire_day(conn, org, entity, delivery_date) -> None:
    """Retire the day's previous batch: its rows go, its record stays as history."""
    old = conn.execute(
        "update raw.batches set status = 'replaced' where org_code = %s and entity = %s"
        " and delivery_date = %s and status in ('loaded', 'duplicate') returning batch_id",
        (org.code, entity.kind, delivery_date),
    ).fetchall()
    for (batch_id,) in old:
        conn.execute(sql.SQL("delete from {} where batch_id = %s").format(raw_table(org, entity)), (batch_id,))
        conn.execute("delete from raw.quarantine where batch_id = %s", (batch_id,))


def _copy_rows(conn, org, entity, batch_id, delivery_date, delivery, fields, checks) -> tuple[int, int]:
    columns = ["batch_id", "delivery_date", "row_number", "extra", *fields]
    copy_sql = sql.SQL("copy {} ({}) from stdin").format(
        raw_table(org, entity), sql.SQL(", ").join(map(sql.Identifier, columns)))
    rejected: list[tuple] = []
    loaded = 0
    with conn.cursor() as cur, cur.copy(copy_sql) as copy:
        for row in delivery.rows():
            rejection = next((r for check in checks if (r := check(row)) is not None), None)
            if rejection:
                original = {**row.values, **row.extra}
                rejected.append((batch_id, org.code, entity.kind, row.row_number, rejection.reason_code,
                                 rejection.reason, json.dumps(original, ensure_ascii=False)))
                continue
            extra = json.dumps(row.extra, ensure_ascii=False) if row.extra else None
            copy.write_row((batch_id, delivery_date, row.row_number, extra, *(row.values[f] for f in fields)))
            loaded += 1
    if rejected:
        with conn.cursor() as cur, cur.copy(
            "copy raw.quarantine (batch_id, org_code, entity, row_number, reason_code, reason, original)"
            " from stdin"
        ) as copy:
            for record in rejected:
                copy.write_row(record)
    return loaded, len(rejected)


def _result(org, entity, delivery_date, status, batch_id, conn, source) -> LandingResult:
    rows, quarantined = conn.execute(
        "select row_count, quarantined_count from raw.batches where batch_id = %s", (batch_id,)
    ).fetchone()
    return LandingResult(org.code, entity.kind, delivery_date, status, batch_id, rows, quarantined, source)
