"""What the roles that build the warehouse cannot undo: the validation history is append-only for
them, and row-level security on bi tables stays as the sync set it (against the real server)."""
from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from lienthong.access import sync_roles
from lienthong.quality.runner import DQ_SCHEMA_SQL

from .conftest import PASSWORD_ENV, ROWS_PER_ORG, attempt

APPEND = ("insert into dq.validation_results (run_id, suite, table_name, expectation, kwargs, severity, success)"
          " values ('r', 's', 't', 'e', '{}', 'critical', true)")
REWRITE = {
    "truncate": "truncate dq.validation_results",
    "delete": "delete from dq.validation_results",
    "update": "update dq.validation_results set success = true",
    "drop": "drop table dq.validation_results",
    "alter": "alter table dq.validation_results drop column observed",
}


@pytest.fixture(scope="module")
def history(warehouse):
    """The validation history as the first validation creates it, with one result, then synced."""
    with psycopg.connect(warehouse.url) as conn:
        conn.execute(DQ_SCHEMA_SQL.read_text())
        conn.execute(APPEND)
    sync_roles(warehouse.url, prefix=warehouse.prefix, environ=PASSWORD_ENV)
    return warehouse


@pytest.mark.parametrize("suffix", ["transformer", "loader"])
def test_the_roles_that_validate_append_to_the_history_and_read_it(history, suffix):
    assert attempt(history.url, history.role(suffix), APPEND) is True
    assert attempt(history.url, history.role(suffix), "select * from dq.validation_results") is True


@pytest.mark.parametrize("suffix", ["transformer", "loader", "linker", "reviewer"])
@pytest.mark.parametrize("action", REWRITE)
def test_nobody_who_runs_the_pipeline_rewrites_the_history(history, suffix, action):
    assert attempt(history.url, history.role(suffix), REWRITE[action]) is False
    with psycopg.connect(history.url) as conn:
        assert conn.execute("select count(*) from dq.validation_results").fetchone()[0] >= 1


def test_the_history_and_its_schema_belong_to_a_role_that_runs_nothing(history):
    with psycopg.connect(history.url) as conn:
        owners = conn.execute(
            "select pg_get_userbyid(nspowner), (select pg_get_userbyid(relowner) from pg_class"
            " where oid = 'dq.validation_results'::regclass) from pg_namespace where nspname = 'dq'").fetchone()
    assert owners == (history.role("history"), history.role("history"))


UNDO_ROW_SECURITY = {
    "disable": "alter table bi.memberships disable row level security",
    "unforce": "alter table bi.memberships no force row level security",
    "open policy": "create policy wide on bi.memberships for select to {analyst} using (true)",
    "alter policy": "alter policy {org_policy} on bi.memberships using (true)",
    "drop policy": "drop policy {org_policy} on bi.memberships",
}


@pytest.mark.parametrize("action", UNDO_ROW_SECURITY)
def test_the_owner_of_the_bi_tables_cannot_undo_row_level_security(warehouse, action):
    statement = UNDO_ROW_SECURITY[action].format(
        analyst=sql.Identifier(warehouse.role("analyst_hoi_nd")).as_string(None),
        org_policy=sql.Identifier(warehouse.role("org_hoi_lhpn")).as_string(None))
    with psycopg.connect(warehouse.url) as conn:
        owner = conn.execute("select pg_get_userbyid(relowner) from pg_class where oid = 'bi.memberships'::regclass"
                             ).fetchone()[0]
    assert owner == warehouse.role("transformer")
    assert attempt(warehouse.url, owner, statement) is False
    with psycopg.connect(warehouse.url) as conn:
        forced = conn.execute("select relrowsecurity and relforcerowsecurity from pg_class"
                              " where oid = 'bi.memberships'::regclass").fetchone()[0]
        conn.execute(sql.SQL("set role {}").format(sql.Identifier(warehouse.role("analyst_hoi_nd"))))
        seen = dict(conn.execute("select org_code, count(*) from bi.memberships group by 1").fetchall())
    assert forced and seen == {"hoi_nd": ROWS_PER_ORG["hoi_nd"]}


def test_a_dbt_style_rebuild_by_the_owner_still_passes_the_guard(warehouse):
    # dbt swaps tables by renaming; the new table has no policies and stays closed to analysts.
    statement = ("create table bi.memberships__dbt_tmp (like bi.memberships);"
                 " alter table bi.memberships rename to memberships__dbt_backup;"
                 " alter table bi.memberships__dbt_tmp rename to memberships;"
                 " drop table bi.memberships__dbt_backup")
    assert attempt(warehouse.url, warehouse.role("transformer"), statement) is True


def test_the_owner_reads_every_row_through_the_forced_policies(warehouse):
    with psycopg.connect(warehouse.url) as conn:
        conn.execute(sql.SQL("set role {}").format(sql.Identifier(warehouse.role("transformer"))))
        seen = dict(conn.execute("select org_code, count(*) from bi.memberships group by 1").fetchall())
    assert seen == ROWS_PER_ORG  # the aggregates dbt builds from bi.memberships stay complete
