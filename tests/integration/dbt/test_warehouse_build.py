"""The dbt warehouse on the tiny sample: build and tests pass, the nightly incremental build equals a
full rebuild, snapshots keep a transfer, and linking's input keeps its keys from night to night.

The tests share one database and run in file order: each night builds on the previous one."""
from __future__ import annotations

import csv
import re
from datetime import timedelta

import pytest

from .conftest import DAYS

pytestmark = pytest.mark.slow  # three nights of dbt builds

# This project's own nodes (other folders of the tree belong to other teams' work).
MINE = ["--select", "+fct_member_month", "+fct_membership_history", "+dim_org_unit", "+rpt_dq_scorecard",
        "+rpt_members_by_commune", "+int_people__source_records", "+dim_date", "+dim_organisation", "+dim_admin_unit",
        "+dim_person", "+rpt_unmatched_activity", "+int_bi__member_months"]

# Models that must be identical after an incremental night and after a full rebuild (snapshot-fed
# history tables are excluded: their validity timestamps are the build times).
# built_through_batch_id is the incremental watermark: build metadata, not content.
COMPARED = ["intermediate.int_membership__states", "intermediate.int_membership__records",
            "marts.fct_membership", "marts.dim_person", "marts.fct_dues_payment", "marts.fct_activity_attendance",
            "marts.fct_member_month", "intermediate.int_bi__member_months", "review.rpt_members_by_commune",
            "review.rpt_dq_scorecard", "intermediate.int_deliveries__member_rows", "review.rpt_unmatched_activity"]


def _content(warehouse, table: str) -> list[tuple]:
    schema, name = table.split(".")
    columns = [c for (c,) in warehouse.query(
        "select column_name from information_schema.columns where table_schema = %s and table_name = %s"
        " and column_name <> 'built_through_batch_id' order by ordinal_position", (schema, name))]
    return sorted(warehouse.query(f"select {', '.join(columns)} from {table}"), key=repr)


def test_first_nights_build_and_all_dbt_tests_pass(tiny_warehouse):
    out = tiny_warehouse.dbt("build", *MINE)
    assert "ERROR=0" in out  # dbt exits non-zero on any failed test or model
    orgs = {row[0] for row in tiny_warehouse.query("select org_code from review.rpt_members_by_commune")}
    assert orgs == {"doan_tn", "hoi_lhpn", "hoi_nd", "hoi_ccb", "cong_doan"}


def test_incremental_night_equals_full_rebuild(tiny_warehouse):
    keys_before = dict(tiny_warehouse.query(
        "select source_record_key, full_name from intermediate.int_people__source_records"))
    tiny_warehouse.land(DAYS[2])
    night = tiny_warehouse.dbt("run", *MINE)
    incremental = {t: _content(tiny_warehouse, t) for t in COMPARED}
    # The member-months' neighbours were rebuilt for the night's people only, not every row.
    night = re.sub(r"\x1b\[[0-9;]*m", "", night)  # dbt's colours
    rebuilt = int(re.search(r"int_bi__member_months \.* \[INSERT 0 (\d+)", night).group(1))
    assert 0 < rebuilt < len(incremental["intermediate.int_bi__member_months"]) / 2
    tiny_warehouse.dbt("run", "--full-refresh", *MINE)
    for table in COMPARED:
        assert _content(tiny_warehouse, table) == incremental[table], table

    # Linking's input: a record still on the roll keeps its key from one night to the next.
    keys_after = dict(tiny_warehouse.query(
        "select source_record_key, full_name from intermediate.int_people__source_records"))
    assert len(set(keys_before) & set(keys_after)) >= 0.98 * len(keys_before)


def test_current_roll_matches_the_truth(tiny_warehouse):
    with open(tiny_warehouse.sample / "truth" / "records.csv", encoding="utf-8") as f:
        truth = {}
        for row in csv.DictReader(f):
            if row["on_roll_at_end"] in ("1", "True", "true"):
                truth[row["org"]] = truth.get(row["org"], 0) + 1
    rolls = dict(tiny_warehouse.query("select org_code, count(*) from marts.fct_membership group by 1"))
    assert rolls == truth


def test_snapshot_records_a_transfer_between_units(tiny_warehouse):
    key, units = tiny_warehouse.query(
        "select source_record_key, (select array_agg(distinct unit_code) from intermediate.int_roster__events"
        " where org_code = 'doan_tn') from marts.fct_membership f join intermediate.int_members__current m"
        " using (source_record_key) where f.org_code = 'doan_tn' order by 1 limit 1")[0]
    member_code = key.split(":", 1)[1]
    (old_unit,) = tiny_warehouse.query(
        "select unit_code from intermediate.int_members__current where source_record_key = %s", (key,))[0]
    new_unit = next(u for u in units if u != old_unit)
    # A one-row changes delivery on a later day, as the Youth Union feed sends them.
    tiny_warehouse.query(
        "with b as (insert into raw.batches (org_code, entity, delivery_date, source, checksum, status, row_count)"
        " values ('doan_tn', 'roster', date '2026-11-28', 'test', 'transfer-test', 'loaded', 1) returning batch_id)"
        " insert into raw.doan_tn__roster (batch_id, delivery_date, row_number, member_code, change_type,"
        " changed_on, full_name, birth_date, sex, id_number, address, unit_code, unit_name, joined_on)"
        " select b.batch_id, date '2026-11-28', 1, r.member_code, 'chuyen_sinh_hoat', '2026-11-28', r.full_name,"
        " r.birth_date, r.sex, r.id_number, r.address, %s, 'Chi đoàn mới', r.joined_on"
        " from b, raw.doan_tn__roster r where r.member_code = %s limit 1 returning batch_id",
        (new_unit, member_code))
    # The snapshots run in between; the unit's tests run too, on a second version taken the same day.
    tiny_warehouse.dbt("build", "--select", "+fct_membership_history", "+dim_org_unit")
    versions = tiny_warehouse.query(
        "select unit_key, is_current from marts.fct_membership_history where source_record_key = %s"
        " order by valid_from", (key,))
    assert versions == [(f"doan_tn:{old_unit.upper()}", False), (f"doan_tn:{new_unit.upper()}", True)]
    # The unit took the new name in a second build of the day: one version for the day, the latest.
    unit = tiny_warehouse.query("select unit_name, is_current from marts.dim_org_unit where unit_key = %s",
                                (f"doan_tn:{new_unit.upper()}",))
    snapshots = tiny_warehouse.query("select count(*) from snapshots.snp_org_units where unit_key = %s",
                                     (f"doan_tn:{new_unit.upper()}",))[0][0]
    assert snapshots == 2 and unit == [("Chi đoàn mới", True)]


def test_person_key_falls_back_until_linking_has_run(tiny_warehouse):
    linked = tiny_warehouse.query("select count(*) filter (where person_is_linked) from marts.dim_person")[0][0]
    assert linked == 0
    assert not tiny_warehouse.query("select 1 from pg_namespace where nspname = 'identity'")


def test_a_night_that_opens_a_month_for_one_organisation_gives_every_organisation_that_month(tiny_warehouse):
    """The window slides with the latest delivery of any organisation: the others, which sent nothing
    that night, still get the new month (and their dues and attendance flags in it)."""
    from lienthong.config.organisations import load_organisations

    sender = next(org for org in load_organisations() if any(e.kind == "dues" for e in org.entities))
    tiny_warehouse.dbt("seed")
    tiny_warehouse.dbt("run", *MINE)  # the watermark catches up with the earlier tests' batches
    tiny_warehouse.query(
        "insert into raw.batches (org_code, entity, delivery_date, source, checksum, status, row_count)"
        " values (%s, 'dues', date '2026-12-01', 'test', 'new-month-test', 'loaded', 0) returning batch_id",
        (sender.code,))
    tiny_warehouse.dbt("run", *MINE)
    incremental = _content(tiny_warehouse, "marts.fct_member_month")
    in_new_month = {row[0] for row in tiny_warehouse.query(
        "select distinct org_code from marts.fct_member_month where month_start = date '2026-12-01'")}
    assert in_new_month == {org.code for org in load_organisations()}
    members = _content(tiny_warehouse, "intermediate.int_bi__member_months")  # every row: the window gained
    tiny_warehouse.dbt("run", "--full-refresh", *MINE)
    assert _content(tiny_warehouse, "marts.fct_member_month") == incremental
    assert _content(tiny_warehouse, "intermediate.int_bi__member_months") == members


def _land_copy(warehouse, org: str, entity: str, from_batch: int, delivery_date: str, where: str = "true") -> int:
    """A new live batch of `org`'s `entity` for `delivery_date`, holding the rows of `from_batch` that
    match `where` (as a rerun or a backfill would land them); its batch id."""
    table = f"raw.{org}__{entity}"
    columns = [c for (c,) in warehouse.query(
        "select column_name from information_schema.columns where table_schema = 'raw' and table_name = %s"
        " and column_name not in ('batch_id', 'delivery_date') order by ordinal_position", (f"{org}__{entity}",))]
    ((batch_id,),) = warehouse.query(
        "insert into raw.batches (org_code, entity, delivery_date, source, checksum, status, row_count)"
        " values (%s, %s, %s, 'test', %s, 'loaded', 0) returning batch_id",
        (org, entity, delivery_date, f"{org}-{entity}-{delivery_date}-{from_batch}-test"))
    warehouse.query(
        f"insert into {table} (batch_id, delivery_date, {', '.join(columns)})"
        f" select %s, %s, {', '.join(columns)} from {table} where batch_id = %s and ({where}) returning 1",
        (batch_id, delivery_date, from_batch))
    return batch_id


def _catch_up(warehouse) -> None:
    """Build what the earlier tests landed: seeds, snapshots and models in the project's order (the
    snapshots read staging views a test run alone has not built yet), without the data tests."""
    warehouse.dbt("build", *MINE, "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")


def _assert_night_equals_full_rebuild(warehouse) -> None:
    """Tonight's incremental build, and the same build run again, give what a full rebuild gives."""
    warehouse.dbt("run", *MINE)
    incremental = {t: _content(warehouse, t) for t in COMPARED}
    warehouse.dbt("run", *MINE)  # a rerun with nothing new changes nothing
    for table in COMPARED:
        assert _content(warehouse, table) == incremental[table], f"{table} after a rerun"
    warehouse.dbt("run", "--full-refresh", *MINE)
    for table in COMPARED:
        assert _content(warehouse, table) == incremental[table], table


def test_a_rerun_that_replaces_a_day_equals_full_rebuild(tiny_warehouse):
    """A day landed again with fewer rows (landing marks the first batch replaced and deletes its rows):
    the people only the replaced rows named lose those months too. The day is a delivered one, not an
    earlier test's copy, so it names members no earlier day named (people joining that day)."""
    _catch_up(tiny_warehouse)
    replaced = tiny_warehouse.query(
        "select distinct on (entity) batch_id, org_code, entity, delivery_date::text from raw.batches"
        " where status = 'loaded' and entity in ('dues', 'roster') and row_count > 0 and source <> 'test'"
        " order by entity, delivery_date desc, batch_id desc")
    assert {entity for _, _, entity, _ in replaced} == {"dues", "roster"}
    for batch_id, org, entity, day in replaced:
        tiny_warehouse.query("update raw.batches set status = 'replaced' where batch_id = %s returning 1", (batch_id,))
        _land_copy(tiny_warehouse, org, entity, batch_id, day, where="mod(row_number, 2) = 0")
        tiny_warehouse.query(f"delete from raw.{org}__{entity} where batch_id = %s returning 1", (batch_id,))
    _assert_night_equals_full_rebuild(tiny_warehouse)


def test_a_backfilled_earlier_day_and_a_shrunk_snapshot_equal_full_rebuild(tiny_warehouse):
    """A day before the first one landed late (roster and dues: start dates and payments move back),
    and a later snapshot without half an organisation's roll (those records leave the roll)."""
    _catch_up(tiny_warehouse)
    latest = dict((entity, (batch_id, org)) for batch_id, org, entity in tiny_warehouse.query(
        "select distinct on (entity) batch_id, org_code, entity from raw.batches"
        " where status = 'loaded' and entity in ('dues', 'roster') and row_count > 0"
        " order by entity, delivery_date desc, batch_id desc"))
    early = (DAYS[0] - timedelta(days=3)).isoformat()
    for entity, (batch_id, org) in latest.items():
        _land_copy(tiny_warehouse, org, entity, batch_id, early, where="mod(row_number, 3) = 0")
    batch_id, org = latest["roster"]
    _land_copy(tiny_warehouse, org, "roster", batch_id, "2026-12-02", where="mod(row_number, 2) = 1")
    _assert_night_equals_full_rebuild(tiny_warehouse)


def test_a_held_roll_released_after_later_nights_equals_full_rebuild(tiny_warehouse):
    """A shrunk roll and its dues held for a person while a later night is built, then released:
    the release makes them the newest batches, so the next night reads them like any delivery."""
    from lienthong.landing.raw import release_batch
    from lienthong.warehouse import connect

    _catch_up(tiny_warehouse)
    latest = {entity: (batch_id, org) for batch_id, org, entity in tiny_warehouse.query(
        "select distinct on (entity) batch_id, org_code, entity from raw.batches"
        " where status = 'loaded' and entity in ('dues', 'roster') and row_count > 0"
        " order by entity, delivery_date desc, batch_id desc")}
    held = []
    for entity, (batch_id, org) in latest.items():
        copy = _land_copy(tiny_warehouse, org, entity, batch_id, "2026-11-21", where="mod(row_number, 4) = 0")
        tiny_warehouse.query("update raw.batches set status = 'held' where batch_id = %s returning 1", (copy,))
        held.append(copy)
    batch_id, org = latest["dues"]
    _land_copy(tiny_warehouse, org, "dues", batch_id, "2026-12-03", where="mod(row_number, 5) = 0")
    tiny_warehouse.dbt("run", *MINE)  # a later night: the held batches are not built from
    with connect(tiny_warehouse.url) as conn:
        for copy in held:
            assert release_batch(conn, copy).batch_id > copy
    _assert_night_equals_full_rebuild(tiny_warehouse)


def test_a_transfer_without_member_codes_ends_the_old_record_and_equals_full_rebuild(tiny_warehouse):
    """In an organisation without member codes a transfer is a new record (a new key) that supersedes
    the member's record in the old unit: that record leaves the roll tonight though none of its own
    events is new (int_membership__touched lists it by the member)."""
    from lienthong.config.organisations import load_organisations

    _catch_up(tiny_warehouse)
    org = next(o for o in load_organisations()
               if o.sends("roster_changes") and "member_code" not in o.entity("roster_changes").fields)
    label = next(text for text, kind in org.change_kinds.items() if kind == "transfer")
    raw_of = {"full_name": "full_name_raw", "birth_date": "birth_date_raw", "sex": "sex_raw",
              "id_number": "id_number_raw", "phone": "phone_raw", "hamlet": "hamlet_raw", "commune": "commune_raw"}
    fields = [f for f in org.entity("roster_changes").fields if f in raw_of]
    key, member_key, unit, *values = tiny_warehouse.query(
        f"select source_record_key, member_key, unit_name, {', '.join(raw_of[f] for f in fields)}"
        " from intermediate.int_membership__states as s where org_code = %s and on_current_roll"
        " and (select count(*) from intermediate.int_membership__states as o"
        "      where o.org_code = s.org_code and o.member_key = s.member_key) = 1"
        " order by source_record_key limit 1", (org.code,))[0]
    (other_unit,) = tiny_warehouse.query(
        "select unit_name from intermediate.int_membership__states where org_code = %s and unit_name <> %s"
        " order by unit_name limit 1", (org.code, unit))[0]
    ((batch_id,),) = tiny_warehouse.query(
        "insert into raw.batches (org_code, entity, delivery_date, source, checksum, status, row_count)"
        " values (%s, 'roster_changes', date '2026-12-05', 'test', 'transfer-without-codes-test', 'loaded', 1)"
        " returning batch_id", (org.code,))
    tiny_warehouse.query(
        f"insert into raw.{org.code}__roster_changes (batch_id, delivery_date, row_number, change_type, unit_name,"
        f" {', '.join(fields)}) values (%s, date '2026-12-05', 1, %s, %s, {', '.join(['%s'] * len(fields))})"
        " returning 1", (batch_id, label, other_unit, *values))
    _assert_night_equals_full_rebuild(tiny_warehouse)
    records = tiny_warehouse.query(
        "select source_record_key = %s, unit_name, on_current_roll from intermediate.int_membership__states"
        " where org_code = %s and member_key = %s order by 1", (key, org.code, member_key))
    assert records == [(False, other_unit, True), (True, unit, False)]


def test_dues_of_members_a_rerun_drops_from_the_roll_are_unmatched_until_a_roll_lists_them_again(tiny_warehouse):
    """A roll landed again without the members no other roll names: their dues and attendance rows are
    on no roll any more (the organisation's rows judged again); the roll landed once more whole lists
    them again (the rows on no roll looked up again). Each night equals a full rebuild."""
    _catch_up(tiny_warehouse)

    def on_a_roll(keys) -> set[bool]:
        return {flag for (flag,) in tiny_warehouse.query(
            "select distinct member_on_a_roll from intermediate.int_deliveries__member_rows"
            " where org_code = %s and member_key = any(%s)", (org, keys))}

    def unmatched() -> int:
        return tiny_warehouse.query("select sum(unmatched_rows) from review.rpt_unmatched_activity")[0][0]

    # The roster batch naming the most members that no other roll event names and that paid or attended.
    batch_id, org, day, keys, rows = tiny_warehouse.query(
        "select e.batch_id, e.org_code, e.delivery_date::text, array_agg(distinct e.member_key),"
        "       array_agg(e.source_row_number)"
        " from intermediate.int_roster__events as e"
        " where e.entity = 'roster'"
        "   and exists (select from intermediate.int_deliveries__member_rows as d"
        "               where d.org_code = e.org_code and d.member_key = e.member_key)"
        "   and not exists (select from intermediate.int_roster__events as o"
        "                   where o.org_code = e.org_code and o.member_key = e.member_key and o.batch_id <> e.batch_id)"
        " group by 1, 2, 3 order by count(*) desc, 1 limit 1")[0]
    before = unmatched()
    assert on_a_roll(keys) == {True}
    tiny_warehouse.query("update raw.batches set status = 'replaced' where batch_id = %s returning 1", (batch_id,))
    fewer = _land_copy(tiny_warehouse, org, "roster", batch_id, day,
                       where=f"row_number not in ({', '.join(str(int(r)) for r in rows)})")
    _assert_night_equals_full_rebuild(tiny_warehouse)
    assert on_a_roll(keys) == {False} and unmatched() > before
    tiny_warehouse.query("update raw.batches set status = 'replaced' where batch_id = %s returning 1", (fewer,))
    _land_copy(tiny_warehouse, org, "roster", batch_id, day)
    _assert_night_equals_full_rebuild(tiny_warehouse)
    assert on_a_roll(keys) == {True} and unmatched() == before


def test_bi_member_months_left_behind_by_a_failed_night_catch_up_the_next(tiny_warehouse):
    """A night that built fct_member_month and stopped before int_bi__member_months (a failed test, a
    killed task): the next night, with nothing new, finds them behind the month fact and rebuilds them."""
    _catch_up(tiny_warehouse)
    ((batch_id, org),) = tiny_warehouse.query(
        "select batch_id, org_code from raw.batches where status = 'loaded' and entity = 'activities'"
        " and row_count > 0 order by delivery_date desc, batch_id desc limit 1")
    ((latest,),) = tiny_warehouse.query("select max(delivery_date) from raw.batches where status = 'loaded'")
    day = latest + timedelta(days=1)
    assert day.month == latest.month  # no month gained (that rebuilds every row): only being behind tells
    # The day's attendance sent again as a new batch: its members' sessions attended grow.
    _land_copy(tiny_warehouse, org, "activities", batch_id, day.isoformat())
    tiny_warehouse.dbt("run", *MINE, "--exclude", "int_bi__member_months")
    stale = _content(tiny_warehouse, "intermediate.int_bi__member_months")
    _assert_night_equals_full_rebuild(tiny_warehouse)
    assert _content(tiny_warehouse, "intermediate.int_bi__member_months") != stale


def _every_row(warehouse) -> tuple[str, ...]:
    """The weekly or on-demand run's vars (every row tested), with a target folder of its own: dbt
    parses the whole project anew whenever the vars differ from its last parse's, so the nights'
    commands keep theirs."""
    return "--vars", "{data_tests: full}", "--target-path", str(warehouse.settings.state_dir / "target_every_row")


def _assert_fails(out: str) -> None:
    """The one selected test failed: dbt counts a failed test as an error; a failure, not a broken query."""
    assert "ERROR=1" in out and "Database Error" not in out and "Compilation Error" not in out, out[-3000:]


def test_a_nights_member_month_tests_read_the_rows_it_rebuilt(tiny_warehouse):
    """fct_member_month's key and relationship tests read the touched people's rows (and new months):
    a duplicate there fails the night; one in an untouched person's month is left to a full build."""
    _catch_up(tiny_warehouse)
    batch_id, org = tiny_warehouse.query(
        "select batch_id, org_code from raw.batches where status = 'loaded' and entity = 'dues' and row_count > 0"
        " order by batch_id desc limit 1")[0]
    _land_copy(tiny_warehouse, org, "dues", batch_id, "2026-12-04", where="mod(row_number, 7) = 0")
    tiny_warehouse.dbt("run", *MINE)
    # A row of a person the night rebuilt, and one of a person it did not, in a month the window kept.
    touched, untouched = (tiny_warehouse.query(
        "select person_id, month_start from marts.fct_member_month where month_start <"
        " (select max(month_start) from marts.fct_member_month) and person_id"
        f" {'' if rebuilt else 'not'} in (select person_id from intermediate.int_member_month__touched) limit 1")[0]
        for rebuilt in (True, False))
    duplicate = ("insert into marts.fct_member_month select * from marts.fct_member_month"
                 " where person_id = %s and month_start = %s returning 1")
    key_test = ["--select", "fct_member_month,test_name:unique_combination"]
    try:
        tiny_warehouse.query(duplicate, untouched)
        assert "PASS=1" in tiny_warehouse.dbt("test", *key_test)
        # The weekly or on-demand run reads every row.
        _assert_fails(tiny_warehouse.dbt("test", *key_test, *_every_row(tiny_warehouse), check=False))
        tiny_warehouse.query(duplicate, touched)
        _assert_fails(tiny_warehouse.dbt("test", *key_test, check=False))
    finally:
        tiny_warehouse.query("delete from marts.fct_member_month where ctid in (select ctid from ("
                             " select ctid, row_number() over (partition by org_code, person_id, month_start) as n"
                             " from marts.fct_member_month) as d where n > 1) returning 1")


def test_a_nights_batch_tests_fail_on_its_bad_row_and_a_full_run_reads_every_batch(tiny_warehouse):
    """A staging test restricted to a night's batches (`where: __new_batches__`) fails on a bad row the
    night landed; a bad row in a batch an earlier night tested passes the night and fails the full run."""
    _catch_up(tiny_warehouse)
    org, batch_id, day = tiny_warehouse.query(
        "select org_code, batch_id, delivery_date from raw.batches where status = 'loaded'"
        " and entity = 'activities' and row_count > 0 order by batch_id limit 1")[0]
    table = f"raw.{org}__activities"
    test = ["--select", f"stg_{org}__activities,test_name:not_null"]  # session_on, generated
    bad_row = 999_999  # a row without a session day (every delivered column empty)
    night = None
    try:
        tiny_warehouse.query(f"insert into {table} (batch_id, delivery_date, row_number) values (%s, %s, %s)"
                             " returning 1", (batch_id, day, bad_row))
        assert "PASS=1" in tiny_warehouse.dbt("test", *test)
        _assert_fails(tiny_warehouse.dbt("test", *test, *_every_row(tiny_warehouse), check=False))
        # The same row in a batch tonight landed.
        night = _land_copy(tiny_warehouse, org, "activities", batch_id, "2026-12-05", where="false")
        tiny_warehouse.query(f"update {table} set batch_id = %s where row_number = %s returning 1", (night, bad_row))
        _assert_fails(tiny_warehouse.dbt("test", *test, check=False))
    finally:
        tiny_warehouse.query(f"delete from {table} where row_number = %s returning 1", (bad_row,))
        if night:
            tiny_warehouse.query("delete from raw.batches where batch_id = %s returning 1", (night,))


def test_bi_memberships_show_each_organisation_one_roll_date_and_stay_k_anonymous(tiny_warehouse):
    """The nights' joins and transfers carry their own delivery date in fct_membership. bi.memberships
    shows every row the organisation's roll date instead: a member a night named does not stand out by
    a date, nor fall into a group of that night's few rows, too small to show anything (the
    k-anonymity test reads the organisation's whole roll, the date among the quasi-identifiers)."""
    _catch_up(tiny_warehouse)
    dates = dict(tiny_warehouse.query(
        "select org_code, max(as_of_date) from marts.fct_membership group by 1"))
    assert tiny_warehouse.query(
        "select org_code from marts.fct_membership group by 1 having count(distinct as_of_date) > 1")
    tiny_warehouse.dbt("run", "--select", "bi__pseudonym_key", "bi_persons")  # what its tests read
    out = tiny_warehouse.dbt("build", "--select", "bi_memberships", "--exclude-resource-type", "unit_test")
    assert "ERROR=0" in out and "k_anonymous" in out
    shown = tiny_warehouse.query(
        "select org_code, count(distinct as_of_date), max(as_of_date), count(*) from bi.memberships group by 1")
    assert {org: (1, day) for org, day in dates.items()} == {org: (n, day) for org, n, day, _ in shown}
    assert sum(rows for *_, rows in shown) == tiny_warehouse.query("select count(*) from marts.fct_membership")[0][0]
