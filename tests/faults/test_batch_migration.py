"""A warehouse created before held/rejected batches existed takes the new statuses in place."""
import psycopg
import pytest

from lienthong.config.organisations import load_organisations
from lienthong.landing.raw import ensure_raw_tables
from lienthong.warehouse import connect

# raw.batches as the first release created it.
OLD_BATCHES = """
create schema raw;
create table raw.batches (
    batch_id bigint generated always as identity primary key, org_code text not null, entity text not null,
    delivery_date date not null, source text not null, checksum text not null,
    row_count integer not null default 0, quarantined_count integer not null default 0,
    status text not null check (status in ('loaded', 'replaced', 'duplicate')), note text,
    loaded_at timestamptz not null default now());
insert into raw.batches (org_code, entity, delivery_date, source, checksum, status)
    values ('x', 'roster', '2026-11-01', 'f.csv', 'c', 'loaded');
"""


def test_an_old_batches_table_is_migrated_idempotently(warehouse_url):
    org = load_organisations()[0]
    with connect(warehouse_url) as conn:
        conn.execute(OLD_BATCHES)
        conn.commit()
        ensure_raw_tables(conn, org)
        ensure_raw_tables(conn, org)  # a second time changes nothing and does not fail
        conn.execute("update raw.batches set status = 'held', duplicate_of = null")
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("update raw.batches set status = 'lost'")
        conn.rollback()
        assert conn.execute("select status from raw.batches").fetchone() == ("loaded",)
