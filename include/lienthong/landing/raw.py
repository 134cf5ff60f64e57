"""Land one delivery into ``raw``: a batch record, its rows via COPY and set-based checks
(lienthong.landing.stage), bad rows to quarantine.

Everything for one (organisation, entity, day) happens in one transaction: a failure leaves
nothing behind, and a rerun replaces the day's batch instead of appending to it.
"""
from __future__ import annotations

import functools
import hashlib
import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg
from psycopg import sql

from lienthong.config.organisations import EntityConfig, OrganisationConfig
from lienthong.landing.stage import direct_defaults, land_staged
from lienthong.sources.base import Delivery
from lienthong.warehouse.statistics import analyse_if_grown

log = logging.getLogger(__name__)
SCHEMA_SQL = Path(__file__).with_name("schema.sql")
_DDL_LOCK = 7_180_001  # advisory lock id serialising DDL between concurrent landings


class WarehouseGoneError(RuntimeError):
    """The warehouse closed the connection during a load; the transaction, so the load, left nothing."""


class BatchStateError(ValueError):
    """An operator asked for something a batch's status does not allow (releasing a live batch)."""


@dataclass(frozen=True)
class LandingResult:
    org_code: str
    entity: str
    delivery_date: date
    status: str  # loaded | held | unchanged | duplicate | rejected
    batch_id: int | None
    row_count: int
    quarantined_count: int
    source: str
    note: str | None = None  # why a batch is held (or was rejected)

    def summary(self) -> str:
        text = (f"{self.org_code}/{self.entity} {self.delivery_date}: {self.status}, "
                f"{self.row_count} rows, {self.quarantined_count} quarantined ({self.source})")
        if self.status in ("held", "rejected") and self.note:
            text += f"; batch {self.batch_id} is not live: {self.note}"
        return text


def raw_table(org: OrganisationConfig, entity: EntityConfig) -> sql.Composed:
    return sql.Identifier("raw", raw_table_name(org, entity))


def raw_table_name(org: OrganisationConfig, entity: EntityConfig) -> str:
    return f"{org.code}__{entity.kind}"


def ensure_raw_tables(conn: psycopg.Connection, org: OrganisationConfig) -> None:
    """Create the raw schema and this organisation's row tables (idempotent, safe in parallel).

    When the schema is at this version and every table, column and index is there (the usual case:
    every landing but the first), one catalogue query and no lock: the DDL statements, though they
    change nothing, cost more than a small delivery's rows."""
    with conn.transaction():
        if _raw_tables_ready(conn, org):
            return
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
            present = dict(conn.execute(
                "select column_name, column_default is not null from information_schema.columns"
                " where table_schema = 'raw' and table_name = %s", (raw_table_name(org, entity),)).fetchall())
            # ALTER takes an exclusive lock even when the column exists: only when it is new, so a
            # nightly landing never waits behind a BI query reading the table.
            for field in entity.fields:
                if field not in present:
                    conn.execute(sql.SQL("alter table {} add column {} text").format(table, sql.Identifier(field)))
            conn.execute(sql.SQL("create index if not exists {} on {} (batch_id)").format(
                sql.Identifier(_batch_index(org, entity)), table))
            # A file's regular lines are COPYed straight into the table: batch, day and line number
            # come from these defaults (lienthong.landing.stage.direct_defaults).
            sequence = line_sequence(org, entity)
            # Values cached per session: nextval per row without a buffer lock (setval, before each
            # run, empties this session's cache, so a run's numbers stay its lines'). Owned by the
            # column: it goes with the table and follows its owner.
            conn.execute(sql.SQL("create sequence if not exists {} as integer cache 1000 owned by {}.row_number").format(
                sequence, table))
            defaults = [(column, value) for column, value in direct_defaults(sequence) if not present.get(column)]
            if defaults:
                conn.execute(sql.SQL("alter table {} {}").format(table, sql.SQL(", ").join(
                    sql.SQL("alter column {} set default {}").format(sql.Identifier(column), value)
                    for column, value in defaults)))
        conn.execute(sql.SQL("comment on schema raw is {}").format(sql.Literal(_schema_version())))


def _batch_index(org: OrganisationConfig, entity: EntityConfig) -> str:
    return f"{raw_table_name(org, entity)}__batch"


def _line_sequence_name(org: OrganisationConfig, entity: EntityConfig) -> str:
    return f"{raw_table_name(org, entity)}__line"


def line_sequence(org: OrganisationConfig, entity: EntityConfig) -> sql.Identifier:
    """The sequence numbering the lines COPYed straight into the entity's raw table."""
    return sql.Identifier("raw", _line_sequence_name(org, entity))


@functools.cache
def _schema_version() -> str:
    """What the raw schema's comment says once schema.sql (this text of it) has run."""
    return f"lienthong raw schema {hashlib.sha256(SCHEMA_SQL.read_bytes()).hexdigest()[:16]}"


def _raw_tables_ready(conn: psycopg.Connection, org: OrganisationConfig) -> bool:
    """True when schema.sql has run at this version and the organisation's tables have every
    column, their batch index, their line sequence and the defaults of a direct COPY."""
    marker = conn.execute("select obj_description(to_regnamespace('raw'), 'pg_namespace')").fetchone()[0]
    if marker != _schema_version():
        return False
    wanted = {raw_table_name(org, entity): {"batch_id", "delivery_date", "row_number", "extra", *entity.fields}
              for entity in org.entities}
    others = {name for entity in org.entities
              for name in (_batch_index(org, entity), _line_sequence_name(org, entity))}
    found: dict[str, set[str]] = {}
    defaulted: dict[str, set[str]] = {}
    for relation, column, has_default in conn.execute(
            "select c.relname, a.attname, a.atthasdef from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " left join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped"
            " where n.nspname = 'raw' and c.relname = any(%s)", ([*wanted, *others],)):
        found.setdefault(relation, set()).add(column)
        if has_default:
            defaulted.setdefault(relation, set()).add(column)
    direct = {column for column, _ in direct_defaults(sql.Identifier("raw", "line"))}
    return others <= found.keys() and all(
        columns <= found.get(table, set()) and direct <= defaulted.get(table, set()) for table, columns in wanted.items())


def is_full_roll(entity: EntityConfig) -> bool:
    """A roster without a change_type field: every delivery is the whole roll, and replaces it. (A
    feed that mixes the roll and its changes is checked against the total its source declares.)"""
    return entity.kind == "roster" and "change_type" not in entity.columns.values()


def land_delivery(
    conn: psycopg.Connection,
    org: OrganisationConfig,
    delivery: Delivery,
    delivery_date: date,
) -> LandingResult:
    """Land one delivery; rerunning the same day replaces its batch, the same file twice is skipped.

    A delivery that looks incomplete (the connector doubts it, it has no row, or a full roll shrank
    by more than the organisation's roll_shrink_limit) lands as ``held``: in raw, not live, until an
    operator releases it (:func:`release_batch`); the day's live batch, if any, stays live."""
    entity = delivery.entity
    ensure_raw_tables(conn, org)
    source = delivery.source
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"{org.code}/{entity.kind}",))
        current = conn.execute(
            "select batch_id, status from raw.batches where org_code = %s and entity = %s"
            " and delivery_date = %s and checksum = %s and status in ('loaded', 'duplicate', 'held', 'rejected')"
            " order by batch_id desc limit 1",
            (org.code, entity.kind, delivery_date, delivery.checksum),
        ).fetchone()
        if current:
            status = "unchanged" if current[1] == "loaded" else current[1]
            return _result(org, entity, delivery_date, status, current[0], conn, source)
        earlier = conn.execute(
            "select batch_id, delivery_date from raw.batches where org_code = %s and entity = %s"
            " and checksum = %s and status = 'loaded'",
            (org.code, entity.kind, delivery.checksum),
        ).fetchone()
        if earlier:
            _retire_day(conn, org.code, entity.kind, delivery_date)
            batch_id = _insert_batch(
                conn, org, entity, delivery_date, source, delivery.checksum, "duplicate",
                note=f"same file as the batch of {earlier[1]} (batch {earlier[0]}); not loaded again")
            conn.execute("update raw.batches set duplicate_of = %s where batch_id = %s", (earlier[0], batch_id))
            return LandingResult(org.code, entity.kind, delivery_date, "duplicate", batch_id, 0, 0, source)
        # Written as held: it becomes live only once it has passed the checks below.
        batch_id = _insert_batch(conn, org, entity, delivery_date, source, delivery.checksum, "held")
        rows, quarantined = land_staged(conn, org, delivery, batch_id, delivery_date, raw_table(org, entity),
                                         line_sequence(org, entity))
        doubts = _hold_reasons(conn, org, entity, delivery, delivery_date, rows, quarantined)
        if doubts:
            # An older held batch of the day is superseded; the day's live batch stays live.
            _retire_day(conn, org.code, entity.kind, delivery_date, keep=batch_id, statuses=("held",))
            note = "; ".join(doubts)
        else:
            _retire_day(conn, org.code, entity.kind, delivery_date, keep=batch_id)
            note = None
        status = "held" if doubts else "loaded"
        conn.execute(
            "update raw.batches set status = %s, row_count = %s, quarantined_count = %s, note = %s"
            " where batch_id = %s", (status, rows, quarantined, note, batch_id))
    analyse_if_grown(conn, "raw", raw_table_name(org, entity), rows)  # before the build plans on it
    result = LandingResult(org.code, entity.kind, delivery_date, status, batch_id, rows, quarantined, source, note)
    (log.warning if doubts else log.info)("landed %s", result.summary())
    return result


def _hold_reasons(conn, org, entity, delivery, delivery_date, rows, quarantined) -> list[str]:
    """Why this delivery should not go live as it is (empty when it may)."""
    reasons = list(delivery.doubts)
    if rows == 0:
        reasons.append(f"no row landed ({quarantined} quarantined)" if quarantined else "the delivery has no rows")
    elif is_full_roll(entity):
        previous = conn.execute(
            "select batch_id, delivery_date, row_count from raw.batches where org_code = %s and entity = %s"
            " and status = 'loaded' and delivery_date < %s order by delivery_date desc limit 1",
            (org.code, entity.kind, delivery_date)).fetchone()
        if previous and rows < previous[2] * (1 - org.roll_shrink_limit):
            reasons.append(
                f"the roll has {rows} rows, {1 - rows / previous[2]:.0%} fewer than the {previous[2]} of "
                f"{previous[1]} (batch {previous[0]}); the organisation's roll_shrink_limit is "
                f"{org.roll_shrink_limit:.0%}")
    return reasons


def release_batch(conn: psycopg.Connection, batch_id: int, reason: str = "released by an operator") -> LandingResult:
    """Make a held (or rejected) batch live: it replaces the day's live batch, as a landing would.
    Its rows go live as a new batch (see ``_new_live_batch``), whose result this returns."""
    with conn.transaction():
        org_code, kind, day, status = _locked_batch(conn, batch_id)
        if status not in ("held", "rejected"):
            note = conn.execute("select note from raw.batches where batch_id = %s", (batch_id,)).fetchone()[0]
            raise BatchStateError(f"batch {batch_id} is {status}{f' ({note})' if note else ''}; "
                                  "only a held or rejected batch can be released.")
        _retire_day(conn, org_code, kind, day, keep=batch_id)
        live = _new_live_batch(conn, batch_id, f"{reason} ({status} as batch {batch_id})")
        _move_rows(conn, org_code, kind, batch_id, live)
    return _batch_result(conn, live, "loaded")


def reject_batch(conn: psycopg.Connection, batch_id: int, reason: str = "rejected by an operator",
                 allowed: tuple[str, ...] = ("held",)) -> LandingResult:
    """Take a batch out of what is built from, for good; its rows stay in raw for inspection."""
    with conn.transaction():
        _org_code, _kind, _day, status = _locked_batch(conn, batch_id)
        if status not in allowed:
            raise BatchStateError(f"batch {batch_id} is {status}; only a {' or '.join(allowed)} batch can be rejected.")
        conn.execute("update raw.batches set status = 'rejected', note = concat_ws('; ', note, %s::text)"
                     " where batch_id = %s", (reason, batch_id))
    return _batch_result(conn, batch_id, "rejected")


def _locked_batch(conn, batch_id: int) -> tuple[str, str, date, str]:
    found = conn.execute("select org_code, entity, delivery_date, status from raw.batches where batch_id = %s",
                         (batch_id,)).fetchone()
    if not found:
        raise BatchStateError(f"no batch {batch_id} in raw.batches.")
    conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"{found[0]}/{found[1]}",))
    return conn.execute("select org_code, entity, delivery_date, status from raw.batches where batch_id = %s",
                        (batch_id,)).fetchone()


def _batch_result(conn, batch_id: int, status: str) -> LandingResult:
    org_code, kind, day, source, rows, quarantined, note = conn.execute(
        "select org_code, entity, delivery_date, source, row_count, quarantined_count, note from raw.batches"
        " where batch_id = %s", (batch_id,)).fetchone()
    return LandingResult(org_code, kind, day, status, batch_id, rows, quarantined, source, note)


def _insert_batch(conn, org, entity, delivery_date, source, checksum, status, note=None) -> int:
    return conn.execute(
        "insert into raw.batches (org_code, entity, delivery_date, source, checksum, status, note)"
        " values (%s, %s, %s, %s, %s, %s, %s) returning batch_id",
        (org.code, entity.kind, delivery_date, source, checksum, status, note),
    ).fetchone()[0]


def _rows_table(org_code: str, kind: str) -> sql.Identifier:
    return sql.Identifier("raw", f"{org_code}__{kind}")


def _retire_day(conn, org_code: str, kind: str, delivery_date: date, keep: int | None = None,
                statuses: tuple[str, ...] = ("loaded", "duplicate", "held")) -> None:
    """Retire the day's previous batches: their rows go, their records stay as history.

    Rows another day's batch stands for (a duplicate of this one) are handed over to it instead."""
    old = conn.execute(
        "select batch_id, status from raw.batches where org_code = %s and entity = %s"
        " and delivery_date = %s and status = any(%s) and batch_id is distinct from %s",
        (org_code, kind, delivery_date, list(statuses), keep),
    ).fetchall()
    conn.execute("update raw.batches set status = 'replaced' where batch_id = any(%s)", ([b for b, _ in old],))
    for batch_id, status in old:
        if status == "loaded" and _hand_over(conn, org_code, kind, batch_id):
            continue
        conn.execute(sql.SQL("delete from {} where batch_id = %s").format(_rows_table(org_code, kind)), (batch_id,))
        conn.execute("delete from raw.quarantine where batch_id = %s", (batch_id,))


def _hand_over(conn, org_code: str, kind: str, batch_id: int) -> bool:
    """A retired batch's rows move to the earliest other day that was a duplicate of it (that day
    sent the same file), which becomes live as a new batch; later duplicates then point to that
    one. True if moved."""
    heir = conn.execute(
        "select batch_id, delivery_date from raw.batches where duplicate_of = %s and status = 'duplicate'"
        " order by delivery_date, batch_id limit 1", (batch_id,)).fetchone()
    if heir is None:
        return False
    heir_id, heir_day = heir
    live = _new_live_batch(conn, heir_id, f"live since batch {batch_id} was replaced: its rows (the same file) moved here")
    _move_rows(conn, org_code, kind, batch_id, live, heir_day)
    conn.execute("update raw.batches as h set duplicate_of = null, row_count = o.row_count,"
                 " quarantined_count = o.quarantined_count from raw.batches as o"
                 " where h.batch_id = %s and o.batch_id = %s", (live, batch_id))
    conn.execute("update raw.batches set duplicate_of = %s where duplicate_of = %s and status = 'duplicate'",
                 (live, batch_id))
    return True


def _new_live_batch(conn, batch_id: int, note: str) -> int:
    """A live copy of a batch record that was not live (held, rejected, a duplicate), under a new id
    above every other; the old record stays, replaced. The warehouse's incremental models read each
    batch once, the batches above the highest they have read (``live_batch_watermark``): a batch
    made live later must not keep an older id, or no night would read it."""
    live = conn.execute(
        "insert into raw.batches (org_code, entity, delivery_date, source, checksum, row_count,"
        " quarantined_count, status, note)"
        " select org_code, entity, delivery_date, source, checksum, row_count, quarantined_count, 'loaded',"
        " concat_ws('; ', note, %s::text) from raw.batches where batch_id = %s returning batch_id",
        (note, batch_id)).fetchone()[0]
    conn.execute("update raw.batches set status = 'replaced', note = concat_ws('; ', note, %s::text)"
                 " where batch_id = %s", (f"live as batch {live}", batch_id))
    return live


def _move_rows(conn, org_code: str, kind: str, from_batch: int, to_batch: int, delivery_date: date | None = None) -> None:
    """A batch's rows and quarantined rows handed to another batch (and day)."""
    conn.execute(sql.SQL("update {} set batch_id = %s, delivery_date = coalesce(%s::date, delivery_date)"
                         " where batch_id = %s").format(_rows_table(org_code, kind)),
                 (to_batch, delivery_date, from_batch))
    conn.execute("update raw.quarantine set batch_id = %s where batch_id = %s", (to_batch, from_batch))


def _result(org, entity, delivery_date, status, batch_id, conn, source) -> LandingResult:
    rows, quarantined, note = conn.execute(
        "select row_count, quarantined_count, note from raw.batches where batch_id = %s", (batch_id,)
    ).fetchone()
    return LandingResult(org.code, entity.kind, delivery_date, status, batch_id, rows, quarantined, source, note)
