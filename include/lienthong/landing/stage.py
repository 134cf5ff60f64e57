"""Set-based landing: a delivery's rows go into temporary stage tables by COPY, then are prepared,
checked and split between the raw table and quarantine in SQL, inside the landing's transaction.

The rules are those of lienthong.landing.checks (clean-up, constants, the ID set-aside, required
values, readable dates, verification outcomes) with the same reason codes and wording; the
per-value ones run in Python once per distinct value that needs them, never once per row.
A connector that gives positional cells (CSV) is loaded with no per-row Python at all; other
connectors' rows are written to the stage one by one (only the storable-text test runs per row).
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date

import psycopg
from psycopg import sql

from lienthong.config.organisations import EntityConfig, OrganisationConfig
from lienthong.landing import checks
from lienthong.sources.base import SPACES, Delivery, SourceRow

_PAIRS_PER_OBJECT = 50  # jsonb_build_object takes at most 100 arguments


def land_staged(conn: psycopg.Connection, org: OrganisationConfig, delivery: Delivery, batch_id: int,
                delivery_date: date, target: sql.Composable) -> tuple[int, int]:
    """Stage the delivery, then land its good rows in ``target`` and the others in quarantine as
    one batch; (rows landed, rows quarantined)."""
    entity = delivery.entity
    fields = list(entity.fields)
    rows = _stage(conn, delivery, fields)
    prepared = _prepared(conn, entity, fields, rows)
    checked = _checked(conn, entity, fields, prepared)
    columns = sql.SQL(", ").join(map(sql.Identifier, fields))
    original = sql.SQL(" || ").join([*_objects([(f, sql.SQL("c.{}").format(sql.Identifier(f))) for f in fields]),
                                     sql.SQL("coalesce(c.extra, '{}'::jsonb)")])
    # One statement, the checked rows computed once: the good ones to raw, the others to quarantine.
    landed, quarantined = conn.execute(sql.SQL(
        "with c as materialized ({checked}),"
        " landed as (insert into {target} (batch_id, delivery_date, row_number, extra, {columns})"
        "  select {batch}, {day}, c.row_number, c.extra, {values} from c where c.reason_code is null returning 1),"
        " quarantined as (insert into raw.quarantine"
        "  (batch_id, org_code, entity, row_number, reason_code, reason, original)"
        "  select {batch}, {org}, {kind}, c.row_number, c.reason_code, c.reason, {original}"
        "  from c where c.reason_code is not null returning 1)"
        " select (select count(*) from landed), (select count(*) from quarantined)"
    ).format(checked=checked, target=target, columns=columns, batch=sql.Literal(batch_id),
             day=sql.Literal(delivery_date), org=sql.Literal(org.code), kind=sql.Literal(entity.kind),
             original=original,
             values=sql.SQL(", ").join(sql.SQL("c.{}").format(sql.Identifier(f)) for f in fields))).fetchone()
    return landed, quarantined


def _temp_table(conn, name: str, columns: list[tuple[str, str]]) -> sql.Identifier:
    """A temporary table of this transaction (dropped at its end)."""
    table = sql.Identifier(name)
    conn.execute(sql.SQL("drop table if exists pg_temp.{}").format(table))
    conn.execute(sql.SQL("create temp table {} ({}) on commit drop").format(table, sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(column), sql.SQL(kind)) for column, kind in columns)))
    return table


def _stage(conn, delivery: Delivery, fields: list[str]) -> sql.Composable:
    """COPY the delivery into the stage; a query of its rows: row_number, the fields as sent
    (None when blank), extra, problem_code and problem_reason (a connector's or the storable test's)."""
    stage = _temp_table(conn, "landing_stage", [
        ("row_number", "integer"), *((f, "text") for f in fields),
        ("extra", "jsonb"), ("problem_code", "text"), ("problem_reason", "text")])
    names = sql.SQL(", ").join(sql.Identifier(c) for c in ["row_number", *fields, "extra", "problem_code",
                                                             "problem_reason"])
    staged = sql.SQL("select {} from {}").format(names, stage)
    cells = delivery.cells() if delivery.cells else None
    if cells is None:
        _copy_rows(conn, stage, fields, delivery.rows())
        return staged
    width = len(cells.columns)
    positions = [f"c{i}" for i in range(width)]
    table = _temp_table(conn, "landing_cells", [*((c, "text") for c in positions), ("row_number", "integer"),
                                                ("overflow", "text")])
    odd: list[SourceRow] = []  # the connector's problem rows: few, written after the cells
    with conn.cursor() as cur, cur.copy(sql.SQL("copy {} from stdin (format csv)").format(table)) as copy:
        for block in cells.blocks:
            if isinstance(block, str):
                copy.write(block)
            else:
                odd.append(block)
    _copy_rows(conn, stage, fields, odd)
    field_at = {name: c for (kind, name), c in zip(cells.columns, positions) if kind == "field"}
    values = [sql.Identifier(field_at[f]) if f in field_at else sql.NULL for f in fields]
    extra_cells = [(name, sql.Identifier(c)) for (kind, name), c in zip(cells.columns, positions) if kind == "extra"]
    extra_cells.append(("_overflow", sql.Identifier("overflow")))
    extra = sql.SQL("case when num_nonnulls({}) > 0 then jsonb_strip_nulls({}) end").format(
        sql.SQL(", ").join(c for _, c in extra_cells), sql.SQL(" || ").join(_objects(extra_cells)))
    every = sql.SQL(", ").join(sql.Identifier(c) for c in [*positions, "overflow"])
    # Blank cells made NULL once per cell (offset 0 keeps the subquery from being inlined); a row
    # with no value left is no row, as a blank line is none.
    return sql.SQL(
        "{staged} union all select row_number, {values}, {extra}, null, null"
        " from (select row_number, overflow, {cells} from {table} offset 0) p where num_nonnulls({every}) > 0"
    ).format(staged=staged, values=sql.SQL(", ").join(values), extra=extra, table=table, every=every,
             cells=sql.SQL(", ").join(sql.SQL("{} as {}").format(_non_blank(c), sql.Identifier(c)) for c in positions))


def _non_blank(column: str) -> sql.Composable:
    """A cell, NULL when it holds whitespace only (str.isspace), as the general path's cells are None.
    Its first character is tested first: btrim with this many characters is slow, and rarely needed."""
    return sql.SQL("case when ascii({c}) in ({firsts}) and btrim({c}, {spaces}) = '' then null else {c} end").format(
        c=sql.Identifier(column), firsts=sql.SQL(", ").join(sql.Literal(ord(c)) for c in SPACES),
        spaces=sql.Literal(SPACES))


def _objects(pairs: list[tuple[str, sql.Composable]]) -> list[sql.Composable]:
    """jsonb objects of (key, value expression) pairs, as many as the argument limit needs."""
    return [sql.SQL("jsonb_build_object({})").format(sql.SQL(", ").join(
        sql.SQL("{}, {}").format(sql.Literal(key), value) for key, value in pairs[i:i + _PAIRS_PER_OBJECT]))
        for i in range(0, len(pairs), _PAIRS_PER_OBJECT)] or [sql.SQL("'{}'::jsonb")]


def _copy_rows(conn, stage: sql.Identifier, fields: list[str], rows: Iterable[SourceRow]) -> None:
    with conn.cursor() as cur, cur.copy(sql.SQL("copy {} from stdin").format(stage)) as copy:
        for row in rows:
            problem = row.problem
            if problem is None and (rejection := checks.storable_text(row)):
                problem = (rejection.reason_code, rejection.reason)
            values, extra = row.values, row.extra
            if problem:  # kept for the quarantine's record of what was sent, made storable
                values = {k: v if v is None else checks.storable(v) for k, v in values.items()}
                extra = {k: checks.storable(v) for k, v in extra.items()}
            copy.write_row((row.row_number, *(values.get(f) for f in fields),
                            json.dumps(extra, ensure_ascii=False) if extra else None, *(problem or (None, None))))


def _prepared(conn, entity: EntityConfig, fields: list[str], rows: sql.Composable) -> sql.Composable:
    """A query of the staged rows after clean-up, constants and the ID set-aside (the columns of the
    stage); each clean-up runs once per distinct value it may change."""
    exprs = {f: sql.SQL("r.{}").format(sql.Identifier(f)) for f in fields}
    extra = sql.SQL("r.extra")
    joins = []
    for number, (field, chain) in enumerate(checks.clean_chains(entity).items()):
        column = sql.Identifier(field)
        if field == "id_number":  # also every ID that is not plain digits: it may be unreadable
            where = sql.SQL("{} !~ '^[0-9]+$'").format(column)
        else:
            where = sql.SQL("{} ~ {}").format(column, sql.Literal("|".join(checks.CLEAN_CANDIDATES[s] for s in chain)))
        # No query parameters anywhere here: a header in the SQL text may hold a '%'.
        candidates = conn.execute(sql.SQL("select distinct {c} from ({rows}) r where {where}").format(
            c=column, rows=rows, where=where)).fetchall()
        changes = []
        for (text,) in candidates:
            cleaned = checks.clean_value(text, chain)
            unreadable = field == "id_number" and cleaned is not None and checks.id_problem(cleaned) is not None
            if cleaned != text or unreadable:
                changes.append((text, cleaned, unreadable))
        if not changes:
            continue
        table = _temp_table(conn, f"landing_clean_{number}", [("sent", "text"), ("cleaned", "text"),
                                                             ("unreadable", "boolean")])
        with conn.cursor() as cur, cur.copy(sql.SQL("copy {} from stdin").format(table)) as copy:
            for change in changes:
                copy.write_row(change)
        alias = sql.Identifier(f"k{number}")
        joins.append(sql.SQL("left join {t} {a} on {a}.sent = r.{c}").format(t=table, a=alias, c=column))
        exprs[field] = sql.SQL("case when {a}.sent is null then r.{c} when {a}.unreadable then null"
                               " else {a}.cleaned end").format(a=alias, c=column)
        if field == "id_number":
            # The record lands without the ID; the text as sent is kept in extra.
            extra = sql.SQL("case when {a}.unreadable then coalesce(r.extra, '{{}}'::jsonb)"
                            " || jsonb_build_object({aside}, r.{c}) else r.extra end").format(
                a=alias, c=column, aside=sql.Literal(checks.ID_SET_ASIDE))
    for field, value in entity.constants.items():
        exprs[field] = sql.Literal(value)
    return sql.SQL("select r.row_number, {values}, {extra} as extra, r.problem_code, r.problem_reason"
                   " from ({rows}) r {joins}").format(
        values=sql.SQL(", ").join(sql.SQL("{} as {}").format(exprs[f], sql.Identifier(f)) for f in fields),
        extra=extra, rows=rows, joins=sql.SQL(" ").join(joins))


def _checked(conn, entity: EntityConfig, fields: list[str], prepared: sql.Composable) -> sql.Composable:
    """A query of the prepared rows with reason_code and reason: null for a row that lands, else the
    first check it fails, in the order of lienthong.landing.checks.checks_for."""
    dates = [f for f in fields if f in checks.PARSERS]
    tests = [(sql.SQL("p.problem_code is not null"), sql.SQL("p.problem_code"), sql.SQL("p.problem_reason"))]
    joins = []
    if entity.required:
        missing = [sql.SQL("coalesce(p.{}, '') = ''").format(sql.Identifier(f)) for f in entity.required]
        names = sql.SQL(", ").join(sql.SQL("case when {} then {} end").format(test, sql.Literal(f))
                                   for test, f in zip(missing, entity.required))
        tests.append((sql.SQL(" or ").join(missing), sql.Literal("missing_required"),
                      sql.SQL("{} || concat_ws(', ', {})").format(sql.Literal("required value(s) empty: "), names)))
    unreadable = _unreadable_values(conn, entity, dates, prepared)
    for number, field in enumerate(dates):
        alias = sql.Identifier(f"d{number}")
        joins.append(sql.SQL("left join {u} {a} on {a}.field = {f} and {a}.value = p.{c}").format(
            u=unreadable, a=alias, f=sql.Literal(field), c=sql.Identifier(field)))
        tests.append((sql.SQL("{}.value is not null").format(alias), sql.Literal(f"unreadable_{field}"),
                      sql.SQL("{} || {}.problem || ')'").format(sql.Literal(f"{field} cannot be read ("), alias)))
    if entity.kind == "verification_outcomes":
        joins.append(sql.SQL("left join {u} o on o.field = 'outcome' and o.value = p.outcome").format(u=unreadable))
        tests.append((sql.SQL("o.value is not null"), sql.Literal("unknown_outcome"), sql.Literal(
            "outcome is not one of the verification list's answers; "
            "choose one from the list (lienthong.review.outcomes)")))
    code = sql.SQL(" ").join(sql.SQL("when {} then {}").format(test, value) for test, value, _ in tests)
    reason = sql.SQL(" ").join(sql.SQL("when {} then {}").format(test, value) for test, _, value in tests)
    return sql.SQL("select p.*, case {code} end as reason_code, case {reason} end as reason"
                   " from ({prepared}) p {joins}").format(code=code, reason=reason, prepared=prepared,
                                                         joins=sql.SQL(" ").join(joins))


def _unreadable_values(conn, entity: EntityConfig, dates: list[str], prepared: sql.Composable) -> sql.Identifier:
    """A temporary table of (field, value, problem) for the distinct values that fail their check."""
    table = _temp_table(conn, "landing_unreadable", [("field", "text"), ("value", "text"), ("problem", "text")])
    checked = {f: checks.PARSERS[f] for f in dates}
    if entity.kind == "verification_outcomes":
        from lienthong.review.outcomes import outcome_code

        checked["outcome"] = lambda text: None if outcome_code(text) is not None else "unknown_outcome"
    if not checked:
        return table
    pairs = sql.SQL(", ").join(sql.SQL("({}, p.{})").format(sql.Literal(f), sql.Identifier(f)) for f in checked)
    found = conn.execute(sql.SQL(
        "select distinct v.field, v.value from ({prepared}) p cross join lateral (values {pairs}) v(field, value)"
        " where v.value <> ''").format(prepared=prepared, pairs=pairs)).fetchall()
    bad = [(field, value, problem) for field, value in found if (problem := checked[field](value))]
    if bad:
        with conn.cursor() as cur, cur.copy(sql.SQL("copy {} from stdin").format(table)) as copy:
            for record in bad:
                copy.write_row(record)
    return table
