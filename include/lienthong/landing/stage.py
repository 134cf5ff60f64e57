"""Set-based landing: a delivery's rows go into temporary stage tables by COPY, then are prepared,
checked and split between the raw table and quarantine in SQL, inside the landing's transaction.

The rules are those of lienthong.landing.checks (clean-up, constants, derived fields, the ID
set-aside, required values, readable dates, verification outcomes) with the same reason codes and
wording; the per-value ones run in Python once per distinct value that needs them, never once per
row.
A CSV's regular lines are COPYed as they are and its other rows (and XLSX rows) as positional
cells; API and database items are staged as pages of JSON and mapped in SQL; what none of these
can take alike goes to the stage one row at a time (only the storable-text test runs per row).
Regular lines, XLSX rows of the header's width and mapped items go straight into the raw table
when the landing changes no column of theirs; the few that need more are taken back out of it.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import psycopg
from psycopg import sql

from lienthong.config.organisations import BIRTH_BY_SEX, BIRTH_PARTS, EntityConfig, OrganisationConfig
from lienthong.landing import checks
from lienthong.sources.base import SPACES, Delivery, JsonPages, LineRun, NumberedRows, SourceRow

_PAIRS_PER_OBJECT = 50  # jsonb_build_object takes at most 100 arguments


# Settings the direct COPY's column defaults read (set for the landing's transaction only).
BATCH_SETTING, DAY_SETTING = "lienthong.landing_batch", "lienthong.landing_day"


def direct_defaults(line_sequence: sql.Identifier) -> list[tuple[str, sql.Composable]]:
    """(column, default) of a raw table, so that a file's lines COPYed straight into it get their
    batch, day and line number (the sequence is set to a run's first line before its COPY). Outside
    a landing the settings are unset: the defaults are NULL and the columns refuse them."""
    return [("batch_id", sql.SQL("current_setting({}, true)::bigint").format(sql.Literal(BATCH_SETTING))),
            ("delivery_date", sql.SQL("current_setting({}, true)::date").format(sql.Literal(DAY_SETTING))),
            ("row_number", sql.SQL("nextval({})").format(sql.Literal(line_sequence.as_string(None))))]


def land_staged(conn: psycopg.Connection, org: OrganisationConfig, delivery: Delivery, batch_id: int,
                delivery_date: date, target: sql.Composable, line_sequence: sql.Identifier) -> tuple[int, int]:
    """Stage the delivery, then land its good rows in ``target`` and the others in quarantine as
    one batch; (rows landed, rows quarantined).

    A file's regular lines and rows, and API or database items, go straight into ``target`` (when
    every column is a field and no field is a constant or derived): the few of them that are blank,
    that a clean-up changes or that fail a check are taken back out and land as the staged rows do."""
    entity = delivery.entity
    fields = list(entity.fields)
    conn.execute("select set_config(%s, %s, true), set_config(%s, %s, true)",
                 (BATCH_SETTING, str(batch_id), DAY_SETTING, delivery_date.isoformat()))
    rows, direct = _stage(conn, delivery, fields, _Direct(target, batch_id, delivery_date, line_sequence))
    prepared, cleaned = _prepared(conn, entity, fields, rows)
    checked, tested = _checked(conn, entity, fields, prepared)
    taken_back = 0
    if direct:
        taken_back = _take_back(conn, entity, fields, target, batch_id, cleaned, tested)
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
    if direct:
        conn.execute("drop view pg_temp.landing_direct")  # it reads the raw table: not past this landing
    return landed + direct - taken_back, quarantined


def _take_back(conn, entity: EntityConfig, fields: list[str], target: sql.Composable, batch_id: int,
               cleaned: list[tuple[str, sql.Identifier]], tested: list[str]) -> int:
    """Move the direct rows that must not stay as COPYed out of ``target`` into the stage's direct
    part (the view then shows them alone); their number. A row stays when none of its values is
    blank (or starts like a blank one), a clean-up's change or a check's failure, and it has its
    required values."""
    every = sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(f)) for f in [*fields, "extra"])
    firsts = sql.SQL(", ").join(sql.Literal(ord(c)) for c in ["\0", *SPACES])
    tests = [sql.SQL("num_nonnulls({}) = 0").format(every),
             *(sql.SQL("ascii(t.{}) in ({})").format(sql.Identifier(f), firsts) for f in fields),
             *(sql.SQL("t.{} is null").format(sql.Identifier(f)) for f in entity.required),
             *(sql.SQL("t.{} in (select sent from {})").format(sql.Identifier(f), table) for f, table in cleaned),
             *(sql.SQL("t.{} in (select value from landing_unreadable where field = {})").format(
                 sql.Identifier(f), sql.Literal(f)) for f in tested)]
    table = _temp_table(conn, "landing_taken_back", [("row_number", "integer"), *((f, "text") for f in fields),
                                                     ("extra", "jsonb")])
    names = sql.SQL(", ").join(map(sql.Identifier, ["row_number", *fields, "extra"]))
    moved = conn.execute(sql.SQL(
        "with moved as (delete from {target} t where t.batch_id = {batch} and ({tests}) returning t.row_number, {every})"
        " insert into {table} ({names}) select * from moved").format(
        target=target, batch=sql.Literal(batch_id), tests=sql.SQL(" or ").join(tests), every=every, table=table,
        names=names)).rowcount
    conn.execute(sql.SQL("create or replace temp view landing_direct as select {} from {}").format(names, table))
    return moved


def _temp_table(conn, name: str, columns: list[tuple[str, str]]) -> sql.Identifier:
    """A temporary table of this transaction (dropped at its end)."""
    table = sql.Identifier(name)
    conn.execute(sql.SQL("drop table if exists pg_temp.{}").format(table))
    conn.execute(sql.SQL("create temp table {} ({}) on commit drop").format(table, sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(column), sql.SQL(kind)) for column, kind in columns)))
    return table


@dataclass(frozen=True)
class _Direct:
    """Where rows that may land as delivered go straight to: the raw table, for this batch and day."""
    target: sql.Composable
    batch_id: int
    day: date
    line_sequence: sql.Identifier


def _stage(conn, delivery: Delivery, fields: list[str], direct: _Direct | None) -> tuple[sql.Composable, int]:
    """COPY the delivery into the stage; a query of its rows (row_number, the fields as sent, None
    when blank, extra, problem_code and problem_reason: a connector's or the storable test's), and
    how many rows went straight into the raw table, which the query reads through the temporary
    view landing_direct. Rows go straight there only when the landing sets or derives no field."""
    entity = delivery.entity
    if entity.constants or entity.derived:
        direct = None
    stage = _temp_table(conn, "landing_stage", [
        ("row_number", "integer"), *((f, "text") for f in fields),
        ("extra", "jsonb"), ("problem_code", "text"), ("problem_reason", "text")])
    names = sql.SQL(", ").join(sql.Identifier(c) for c in ["row_number", *fields, "extra", "problem_code",
                                                             "problem_reason"])
    staged = sql.SQL("select {} from {}").format(names, stage)
    if delivery.json_pages is not None and (
            landed := _stage_json(conn, stage, entity, fields, delivery.json_pages, direct)) is not None:
        return _with_direct(conn, staged, fields, direct, landed, lines=False)
    cells = delivery.cells() if delivery.cells else None
    if cells is None:
        _copy_rows(conn, stage, fields, delivery.rows())
        return staged, 0
    width = len(cells.columns)
    positions = [f"c{i}" for i in range(width)]
    table = _temp_table(conn, "landing_cells", [*((c, "text") for c in positions),
                                                ("row_number", "integer generated by default as identity"),
                                                ("overflow", "text")])
    if direct and all(kind == "field" for kind, _ in cells.columns):
        # Every column a field: a regular line (or a row of the header's width) lands as it is.
        into, line_numbers = direct.target, direct.line_sequence.as_string(None)
        run_columns = sql.SQL(", ").join(sql.Identifier(name) for _, name in cells.columns)
        # A quoted empty value is NULL, as an unquoted one is (the cells make both None).
        run_options = sql.SQL(", force_null ({})").format(run_columns)
    else:
        direct, into = None, table
        line_numbers = conn.execute("select pg_get_serial_sequence('pg_temp.landing_cells', 'row_number')").fetchone()[0]
        run_columns, run_options = sql.SQL(", ").join(map(sql.Identifier, positions)), sql.SQL("")
    landed = 0
    odd: list[SourceRow] = []  # the connector's problem rows: few, written after the cells
    with conn.cursor() as cur:
        for block in cells.blocks:
            if isinstance(block, SourceRow):
                odd.append(block)
            elif isinstance(block, LineRun):
                # The file's lines as they are; each row's number from the sequence, in order.
                cur.execute(sql.SQL("select setval({}, {}, false)").format(
                    sql.Literal(line_numbers), sql.Literal(block.first)))
                with cur.copy(sql.SQL("copy {} ({}) from stdin (format csv, delimiter {}{})").format(
                        into, run_columns, sql.Literal(block.delimiter), run_options)) as copy:
                    copy.write(block.text)
                landed += cur.rowcount
            elif isinstance(block, NumberedRows):
                with cur.copy(sql.SQL("copy {} ({}, row_number) from stdin (format csv{})").format(
                        into, run_columns, run_options)) as copy:
                    copy.write(block.text)
                landed += cur.rowcount
            else:
                with cur.copy(sql.SQL("copy {} from stdin (format csv)").format(table)) as copy:
                    copy.write(block)
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
    staged = sql.SQL(
        "{staged} union all select row_number, {values}, {extra}, null, null"
        " from (select row_number, overflow, {cells} from {table} offset 0) p where num_nonnulls({every}) > 0"
    ).format(staged=staged, values=sql.SQL(", ").join(values), extra=extra, table=table, every=every,
             cells=sql.SQL(", ").join(sql.SQL("{} as {}").format(_non_blank(c), sql.Identifier(c)) for c in positions))
    return _with_direct(conn, staged, fields, direct, landed, lines=True)


def _with_direct(conn, staged: sql.Composable, fields: list[str], direct: _Direct | None,
                 landed: int, lines: bool) -> tuple[sql.Composable, int]:
    """The staged rows' query with the rows landed straight in the raw table (as staged rows are:
    blank values made NULL; a file's line without any value left is no row, an item is one),
    read through the view landing_direct: first all of them (the clean-ups' and checks' distinct
    values are read over them), then only those taken back out of the raw table (_take_back)."""
    if not (direct and landed):
        return staged, 0
    conn.execute("drop view if exists pg_temp.landing_direct")
    conn.execute(sql.SQL("create temp view landing_direct as select {} from {} where batch_id = {}").format(
        sql.SQL(", ").join(map(sql.Identifier, ["row_number", *fields, "extra"])), direct.target,
        sql.Literal(direct.batch_id)))
    return sql.SQL(
        "{staged} union all select row_number, {values}, extra, null, null"
        " from (select row_number, extra, {cells} from landing_direct offset 0) d {blank}"
    ).format(staged=staged, values=sql.SQL(", ").join(map(sql.Identifier, fields)),
             cells=sql.SQL(", ").join(sql.SQL("{} as {}").format(_non_blank(f), sql.Identifier(f)) for f in fields),
             blank=sql.SQL("where num_nonnulls({}) > 0").format(sql.SQL(", ").join(map(sql.Identifier, fields)))
             if lines else sql.SQL("")), landed


_ODD = "(only the row path maps this item alike)"  # a stage mark, never landed: the attempt is undone


class _NotInBulk(Exception):
    """The pages hold something only the row path maps alike: undo the bulk attempt."""


def _stage_json(conn, stage: sql.Identifier, entity: EntityConfig, fields: list[str], pages: JsonPages,
                direct: _Direct | None) -> int | None:
    """Load JSON pages with their items mapped in SQL as map_items maps them, into the raw table
    (``direct``) or else the stage; the number of items landed in the raw table, or None (nothing
    staged) when a page holds what only map_items maps alike: an item that is no object, a nested
    value, a number Python would write otherwise (exponent, beyond a double's precision), or text
    PostgreSQL cannot hold (a NUL, a lone surrogate: then the page is no jsonb)."""
    mapping = entity.mapping
    if len(set(mapping.values())) < len(mapping) or conn.info.parameter_status("server_encoding") != "UTF8":
        return None  # two keys for one field (the later key of each item wins), or no normalize()
    try:
        with conn.transaction():  # a savepoint: a refused page undoes the whole attempt
            table = _temp_table(conn, "landing_pages", [("first", "integer"), ("body", "jsonb")])
            with conn.cursor() as cur, cur.copy(sql.SQL("copy {} from stdin").format(table)) as copy:
                for first, body in pages.pages():
                    copy.write_row((first, body.decode("utf-8") if isinstance(body, bytes) else body))
            list_of = sql.SQL("p.body -> {}").format(sql.Literal(pages.items_key)) if pages.items_key \
                else sql.SQL("p.body")
            items = sql.SQL("from {} p cross join lateral jsonb_array_elements({}) with ordinality as i(item, n)").format(
                table, list_of)
            keys = list(mapping)
            key_of = {field: keys.index(key) for key, field in mapping.items()}  # field -> n of v{n}, t{n}
            # Each mapped value extracted once (offset 0 keeps the subqueries from being inlined);
            # the unmapped keys' values looked at only for an item that has any.
            extracted = sql.SQL(", ").join(sql.SQL("x.item -> {k} as {v}, x.item ->> {k} as {s}").format(
                k=sql.Literal(key), v=sql.Identifier(f"v{n}"), s=sql.Identifier(f"s{n}")) for n, key in enumerate(keys))
            # Each value's text in NFC computed once (the blank test reads it three times), and
            # normalised only when it is not NFC already (the quick check costs far less).
            texts = sql.SQL(", ").join(
                sql.SQL("case when {s} is nfc normalized then {s} else normalize({s}, nfc) end as {t}").format(
                    s=sql.Identifier("v", f"s{n}"), t=sql.Identifier(f"t{n}")) for n in range(len(keys)))
            values = [_json_text(sql.Identifier("v", f"v{key_of[f]}"), sql.Identifier("w", f"t{key_of[f]}"))
                      if f in key_of else sql.NULL for f in fields]
            nested = sql.SQL("jsonb_typeof({v}) in ('object', 'array') or (jsonb_typeof({v}) = 'number' and {exotic})")
            odd = sql.SQL(" or ").join([
                sql.SQL("jsonb_typeof(x.item) <> 'object'"),
                *(nested.format(v=sql.Identifier("v", f"v{n}"), exotic=_exotic_number(
                    sql.SQL("({})::numeric").format(sql.Identifier("v", f"v{n}")))) for n in range(len(keys))),
                sql.SQL("(x.rest <> '{{}}' and exists (select 1 from jsonb_each(x.rest) e where {}))").format(
                    nested.format(v=sql.SQL("e.value"), exotic=_exotic_number(sql.SQL("e.value::numeric"))))])
            extra = sql.SQL("case when x.rest <> '{{}}' then (select jsonb_object_agg(e.key, t.text)"
                            " from jsonb_each(x.rest) e cross join lateral (select {text}) t(text)"
                            " where t.text is not null) end").format(text=_json_text(sql.SQL("e.value")))
            mapped = sql.SQL(
                "select x.row_number, {values}, {extra} as extra, ({odd}) is true as odd"
                " from (select (p.first + i.n - 1)::integer as row_number, i.item,"
                "  i.item - array[{keys}]::text[] as rest {items} offset 0) x"
                " cross join lateral (select {extracted} offset 0) v cross join lateral (select {texts} offset 0) w").format(
                values=sql.SQL(", ").join(sql.SQL("{} as {}").format(v, sql.Identifier(f)) for v, f in zip(values, fields)),
                extra=extra, odd=odd, keys=sql.SQL(", ").join(map(sql.Literal, keys)), items=items,
                extracted=extracted, texts=texts)
            columns = sql.SQL(", ").join(map(sql.Identifier, ["row_number", *fields, "extra"]))
            # The items straight into the raw table when they may land as mapped (then taken back as
            # the file's lines are), else into the stage; none when one is odd.
            into = sql.SQL("{} (batch_id, delivery_date, {}) select {}, {}, {}").format(
                direct.target, columns, sql.Literal(direct.batch_id), sql.Literal(direct.day), columns) if direct \
                else sql.SQL("{} ({}) select {}").format(stage, columns, columns)
            landed, odd_found = conn.execute(sql.SQL(
                "with m as materialized ({mapped}), landed as (insert into {into} from m where not m.odd returning 1)"
                " select (select count(*) from landed), exists (select 1 from m where m.odd)").format(
                mapped=mapped, into=into)).fetchone()
            if odd_found:
                raise _NotInBulk
    except (_NotInBulk, UnicodeDecodeError, psycopg.errors.DataError, psycopg.errors.StatementTooComplex):
        return None
    return landed if direct else 0


def _json_text(value: sql.Composable, text: sql.Composable | None = None) -> sql.Composable:
    """A JSON value (jsonb, not nested) as map_items gives it: text in NFC (``text``, when it is
    already computed), None when blank; a whole number without ".0"; a boolean as Python writes it."""
    text = text or sql.SQL("normalize({} #>> '{{}}', nfc)").format(value)
    return sql.SQL(
        "case jsonb_typeof({v}) when 'string' then {blank}"
        " when 'number' then case when ({v})::numeric = trunc(({v})::numeric) then trunc(({v})::numeric)::text"
        "  else trim_scale(({v})::numeric)::text end"
        " when 'boolean' then case when ({v})::boolean then 'True' else 'False' end end").format(
        v=value, blank=_blank_is_null(text))


def _exotic_number(number: sql.Composable) -> sql.Composable:
    """A JSON number Python would not write as its plain decimal text: a whole number beyond a
    double's exact range, or a fraction with an exponent in repr (below 1e-4, from 1e16) or more
    digits than a double keeps."""
    return sql.SQL(
        "case when {n} = trunc({n}) then abs({n}) >= 9007199254740992"
        " else abs({n}) < 0.0001 or abs({n}) >= 1e16"
        " or length(ltrim(replace(trim_scale(abs({n}))::text, '.', ''), '0')) > 15 end").format(n=number)


def _non_blank(column: str) -> sql.Composable:
    """A cell, NULL when it is empty (a quoted "" in a file's own lines) or holds whitespace only
    (str.isspace), as the general path's cells are None. Its first character is tested first (ascii
    of an empty text is 0): btrim with this many characters is slow, and rarely needed."""
    return _blank_is_null(sql.Identifier(column))


def _blank_is_null(text: sql.Composable) -> sql.Composable:
    return sql.SQL("case when ascii({c}) in ({firsts}) and btrim({c}, {spaces}) = '' then null else {c} end").format(
        c=text, firsts=sql.SQL(", ").join(sql.Literal(ord(c)) for c in ["\0", *SPACES]), spaces=sql.Literal(SPACES))


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


def _prepared(conn, entity: EntityConfig, fields: list[str],
              rows: sql.Composable) -> tuple[sql.Composable, list[tuple[str, sql.Identifier]]]:
    """A query of the staged rows after clean-up, constants and the ID set-aside (the columns of the
    stage), and the (field, table) of the values a clean-up changes (table.sent); each clean-up runs
    once per distinct value it may change."""
    exprs = {f: sql.SQL("r.{}").format(sql.Identifier(f)) for f in fields}
    extra = sql.SQL("r.extra")
    joins = []
    changed = []
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
        changed.append((field, table))
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
    exprs.update(_derived(entity, exprs))
    return sql.SQL("select r.row_number, {values}, {extra} as extra, r.problem_code, r.problem_reason"
                   " from ({rows}) r {joins}").format(
        values=sql.SQL(", ").join(sql.SQL("{} as {}").format(exprs[f], sql.Identifier(f)) for f in fields),
        extra=extra, rows=rows, joins=sql.SQL(" ").join(joins)), changed


def _derived(entity: EntityConfig, exprs: dict[str, sql.Composable]) -> dict[str, sql.Composable]:
    """The derived fields' expressions over their parts' (checks.DERIVATIONS in SQL, the same text)."""
    parts = next(iter(entity.derived.values()), ())
    filled = [sql.SQL("nullif(btrim({}, {}), '')").format(exprs[f], sql.Literal(SPACES)) for f in parts]
    if parts == BIRTH_PARTS:
        day, month, year = filled
        return {"birth_date": sql.SQL(
            "case when {d} is not null and {m} is not null then {y} || '-' || {m} || '-' || {d} else {y} end"
        ).format(d=day, m=month, y=year)}
    if parts == BIRTH_BY_SEX:
        male, female = filled
        return {"birth_date": sql.SQL("coalesce({}, {})").format(male, female),
                "sex": sql.SQL("case when {} is not null then 'M' when {} is not null then 'F' end").format(male, female)}
    return {}


def _checked(conn, entity: EntityConfig, fields: list[str], prepared: sql.Composable) -> tuple[sql.Composable, list[str]]:
    """A query of the prepared rows with reason_code and reason: null for a row that lands, else the
    first check it fails, in the order of lienthong.landing.checks.checks_for; and the fields whose
    failing values are in the temporary table landing_unreadable."""
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
    tested = [*dates, *(["outcome"] if entity.kind == "verification_outcomes" else [])]
    return sql.SQL("select p.*, case {code} end as reason_code, case {reason} end as reason"
                   " from ({prepared}) p {joins}").format(code=code, reason=reason, prepared=prepared,
                                                         joins=sql.SQL(" ").join(joins)), tested


def _unreadable_values(conn, entity: EntityConfig, dates: list[str], prepared: sql.Composable) -> sql.Identifier:
    """A temporary table of (field, value, problem) for the distinct values that fail their check."""
    table = _temp_table(conn, "landing_unreadable", [("field", "text"), ("value", "text"), ("problem", "text")])
    checked = {f: checks.PARSERS[f] for f in dates}
    if entity.kind == "verification_outcomes":
        from lienthong.review.outcomes import outcome_code

        checked["outcome"] = lambda text: None if outcome_code(text) is not None else "unknown_outcome"
    if not checked:
        return table
    # Each field's distinct values in one pass (a hash table per grouping set); in a row of one
    # set, the field grouped is the one whose grouping() is 0.
    names = list(checked)
    columns = sql.SQL(", ").join(sql.SQL("p.{}").format(sql.Identifier(f)) for f in names)
    found = conn.execute(sql.SQL(
        "select array[{flags}], {columns} from ({prepared}) p group by grouping sets ({sets})").format(
        flags=sql.SQL(", ").join(sql.SQL("grouping(p.{})").format(sql.Identifier(f)) for f in names),
        columns=columns, prepared=prepared,
        sets=sql.SQL(", ").join(sql.SQL("(p.{})").format(sql.Identifier(f)) for f in names))).fetchall()
    values = [(names[flags.index(0)], row[flags.index(0)]) for flags, *row in found]
    bad = [(field, value, problem) for field, value in values if value and (problem := checked[field](value))]
    if bad:
        with conn.cursor() as cur, cur.copy(sql.SQL("copy {} from stdin").format(table)) as copy:
            for record in bad:
                copy.write_row(record)
    return table
