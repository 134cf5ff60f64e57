"""Planner statistics for a table a step has just filled, before the next step plans queries on it.

Autovacuum analyses a table once a tenth of it changed, but at its next round (``autovacuum_naptime``,
then one table after another): after a first day's landing the dbt build started before the raw tables
had statistics, and the planner, expecting a few rows, ran the staging views' per-value readers on every
row instead of once per value (demo: ``fct_dues_payment`` 20 s; a staging test 3.7 s instead of 0.07 s;
docs/warehouse.md, "Demo, 2026-12-07: statistics before the build"). The step that grew a table by that
much analyses it itself.
"""
from __future__ import annotations

import psycopg
from psycopg import sql

# Autovacuum's own threshold (autovacuum_analyze_scale_factor): smaller changes leave the estimates good.
GROWTH_TO_ANALYSE = 0.1


def analyse_if_grown(conn: psycopg.Connection, schema: str, name: str, added_rows: int) -> bool:
    """``analyze`` the table when ``added_rows`` are a tenth of it or more, or it has never been
    analysed; return whether it was. Inside the caller's transaction, if any, the statistics are
    committed with the rows."""
    if added_rows <= 0:
        return False
    # A transaction of its own (a savepoint in the caller's): no implicit one left open after it.
    with conn.transaction():
        (estimate,) = conn.execute(
            "select c.reltuples from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = %s and c.relname = %s", (schema, name)).fetchone()
        # reltuples is -1 until the table is first analysed or vacuumed.
        if estimate >= 0 and added_rows < GROWTH_TO_ANALYSE * estimate:
            return False
        conn.execute(sql.SQL("analyze {}").format(sql.Identifier(schema, name)))
    return True
