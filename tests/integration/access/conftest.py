"""A warehouse built once for the access tests: a landed roll, the marts' contract tables, the dbt bi
models built on them, synced roles.

The marts are written here to their contract (person_id, org_code, ...), not built from staging: the
bi layer and the access rules are under test, not the models upstream. Role names are cluster-global,
so every run uses its own prefix and drops its roles afterwards."""
from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import psycopg
import pytest

from lienthong.access import sync_roles
from lienthong.config.organisations import load_organisations
from lienthong.config.settings import load_settings
from lienthong.landing.ingest import ingest
from lienthong.landing.raw import ensure_raw_tables
from lienthong.linking.store import ensure_schema
from lienthong.warehouse import ensure_ready

DAY = date(2026, 11, 1)
HEADER = "STT,Họ và tên,Ngày sinh,Giới tính,Số CCCD,Số điện thoại,Ấp/Khu phố,Xã/Phường,Chi hội,Ngày vào hội"
ROWS = [
    "1,Nguyễn Thị Lan,12/03/1985,Nữ,072185001234,0912345678,Ấp 1,Xã Hòa Thành,Chi hội 1,01/05/2010",
    "2,Trần Thị Hoa,1990,Nữ,,0987654321,Ấp 2,Xã Hòa Thành,Chi hội 2,2015-06-01",
    "3,Lê Thị Mai,05/07/1972,Nữ,072172009876,,Ấp 3,Phường Long Hoa,Chi hội 1,",
]
# Two organisations' members, written to the marts' contract; p2 is on both rolls.
MARTS_SQL = """
create schema if not exists marts;
create table marts.dim_person (person_id text primary key, full_name text, name_key text, birth_date date,
    birth_year integer, sex text, commune_name text, hamlet_name text);
insert into marts.dim_person values
    ('p1', 'Nguyễn Thị Lan', 'nguyen thi lan', '1985-03-12', 1985, 'F', 'Xã Hòa Thành', 'Ấp 1'),
    ('p2', 'Trần Văn Hùng', 'tran van hung', '1960-01-02', 1960, 'M', 'Xã Hòa Thành', 'Ấp 2'),
    ('p3', 'Lê Thị Mai', 'le thi mai', null, 1972, 'F', 'Phường Long Hoa', 'Ấp 3');
create table marts.fct_membership (source_record_key text primary key, person_id text not null,
    org_code text, unit_name text, commune_name text, joined_on date, as_of_date date);
insert into marts.fct_membership values
    ('hoi_lhpn:1:1', 'p1', 'hoi_lhpn', 'Chi hội 1', 'Xã Hòa Thành', '2010-05-01', '2026-11-01'),
    ('hoi_lhpn:1:2', 'p3', 'hoi_lhpn', 'Chi hội 2', 'Phường Long Hoa', null, '2026-11-01'),
    ('hoi_nd:2:1', 'p2', 'hoi_nd', 'Chi hội Ấp 2', 'Xã Hòa Thành', '1990-01-01', '2026-11-01'),
    ('hoi_ccb:3:1', 'p2', 'hoi_ccb', 'Chi hội CCB', 'Xã Hòa Thành', '1985-01-01', '2026-11-01');
create schema if not exists reference;
create table reference.admin_units (admin_unit_key text, name text);
create schema if not exists staging;
create view staging.stg_hoi_lhpn__members as select * from raw.hoi_lhpn__roster;
create schema if not exists review;
create table review.rpt_members_by_commune as
    select org_code, commune_name, count(*) as roll_count from marts.fct_membership group by 1, 2;
"""
ROWS_PER_ORG = {"hoi_lhpn": 2, "hoi_nd": 1, "hoi_ccb": 1}
PASSWORD_ENV = {"LIENTHONG_BI_PASSWORD": f"bi-{uuid.uuid4().hex}",
                "LIENTHONG_ANALYST_HOI_LHPN_PASSWORD": f"an-{uuid.uuid4().hex}"}


@dataclasses.dataclass(frozen=True)
class Warehouse:
    url: str
    prefix: str

    def role(self, suffix: str) -> str:
        return f"{self.prefix}_{suffix}"

    def login_url(self, role: str, password: str) -> str:
        host = self.url.split("@", 1)[1]
        return f"postgresql://{role}:{password}@{host}"


def dbt(url: str, tmp: Path, *args: str) -> None:
    # Own target and log folders: other dbt runs may share the project folder.
    env = {**os.environ, "LIENTHONG_WAREHOUSE_URL": url}
    done = subprocess.run(
        [sys.executable, "-m", "lienthong.cli", "dbt", *args,
         "--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs")],
        env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def attempt(url: str, role: str, statement: str) -> bool:
    """Run the statement as the role; True when PostgreSQL allows it (changes are rolled back)."""
    with psycopg.connect(url) as conn:
        conn.execute(psycopg.sql.SQL("set role {}").format(psycopg.sql.Identifier(role)))
        try:
            conn.execute(statement)
        except psycopg.errors.InsufficientPrivilege:
            return False
        finally:
            conn.rollback()
    return True


def drop_roles(admin_url: str, prefix: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        names = [r for (r,) in conn.execute("select rolname from pg_roles where rolname like %s",
                                            (prefix + r"\_%",))]
        for name in names:
            conn.execute(psycopg.sql.SQL("drop role if exists {}").format(psycopg.sql.Identifier(name)))


@pytest.fixture(scope="module")
def warehouse(server_url, tmp_path_factory) -> Warehouse:
    tmp = tmp_path_factory.mktemp("access")
    name = f"test_access_{uuid.uuid4().hex[:10]}"
    prefix = f"t{uuid.uuid4().hex[:8]}"
    admin = server_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("create database {}").format(psycopg.sql.Identifier(name)))
    url = server_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        ensure_ready(url)
        roster = tmp / "drop" / "hoi_lhpn" / DAY.isoformat() / "hoi_vien.csv"
        roster.parent.mkdir(parents=True)
        roster.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8-sig")
        settings = dataclasses.replace(load_settings(), warehouse_url=url, drop_dir=tmp / "drop",
                                       state_dir=tmp / "state")
        with psycopg.connect(url) as conn:
            for org in load_organisations():
                ensure_raw_tables(conn, org)
            ensure_schema(conn)
        assert ingest("hoi_lhpn", "roster", DAY, settings=settings).row_count == 3
        with psycopg.connect(url) as conn:
            conn.execute(MARTS_SQL)
        # The public pages' aggregates (and their member-months) read the monthly snapshot, attendance
        # and admin seeds, which this contract-only warehouse does not have; the other bi models are
        # built and secured.
        dbt(url, tmp, "build", "--select", "path:models/bi", "--exclude", "bi_agg_activity_by_commune",
            "bi_agg_communes", "int_bi__member_months")
        sync_roles(url, prefix=prefix, environ=PASSWORD_ENV)
        yield Warehouse(url, prefix)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(psycopg.sql.SQL("drop database if exists {} with (force)").format(
                psycopg.sql.Identifier(name)))
        drop_roles(admin, prefix)
