"""A small two-province sample through the warehouse by configuration alone (issue #19): the
generator writes each provincial branch's organisation config (``configs/``), the pipeline is
pointed at them (LIENTHONG_ORG_CONFIG_DIR), and the night's pieces run as the DAGs run them, without
Airflow: every branch's deliveries landed, the warehouse prepared, the linking input built, people
linked, the rest of the dbt project built (as bench/review.py does). Each branch's config says its
province, so the deployed provinces are both and a commune written without one is looked for in
the roll's."""
from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

import pytest

from support.configured_deployment import first_day_built

pytestmark = pytest.mark.slow  # a dbt build of the whole project

PEOPLE = 2500  # 6 people on rolls of both provinces after a move (seed 42)


@pytest.fixture(scope="module")
def warehouse(fresh_database, tmp_path_factory):
    """The first delivery day of a two-province sample landed, linked and built in a fresh database."""
    base = tmp_path_factory.mktemp("two_provinces")
    with first_day_built(fresh_database, base, "two-province", people=PEOPLE) as built:
        yield built


def test_every_branch_is_a_configured_organisation_whose_roll_lands(warehouse):
    conn, manifest = warehouse["conn"], json.loads((warehouse["sample"] / "manifest.json").read_text())
    branches = sorted(manifest["organisations"])
    assert [o.code for o in warehouse["orgs"]] == branches
    landed = dict(conn.execute("""
        select org_code, count(*) from raw.batches where status = 'loaded' and entity = 'roster' group by org_code
    """).fetchall())
    assert sorted(landed) == branches
    members = dict(conn.execute("select org_code, count(*) from marts.fct_membership group by org_code").fetchall())
    assert sorted(members) == branches and all(members.values())
    assert set(conn.execute("select org_code from marts.dim_organisation").fetchall()) == {(b,) for b in branches}


def test_communes_resolve_in_both_provinces(warehouse):
    conn, manifest = warehouse["conn"], json.loads((warehouse["sample"] / "manifest.json").read_text())
    rows = conn.execute("""
        select m.org_code, u.province_code, count(*)
        from marts.fct_membership as m
        left join marts.dim_admin_unit as u on u.admin_unit_key = m.new_admin_unit_key
        group by 1, 2
    """).fetchall()
    resolved: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for org, province, n in rows:
        resolved[manifest["organisations"][org]["province_code"]][province] += n
    for roll_province, counts in resolved.items():
        total = sum(counts.values())
        # Most of a province's rolls live in it (cross-border workers and movers kept with their old
        # address aside), and few communes are left open (a split old commune, a name both
        # provinces have with nothing to tell which).
        assert counts[roll_province] > 0.6 * total, (roll_province, dict(counts))
        assert counts[None] < 0.1 * total, (roll_province, dict(counts))
    assert set(resolved) == {p for counts in resolved.values() for p in counts if p} == set(manifest["provinces"])


def test_a_name_both_provinces_have_written_without_one_resolves_in_the_rolls_province(warehouse):
    conn, manifest = warehouse["conn"], json.loads((warehouse["sample"] / "manifest.json").read_text())
    rows = conn.execute("""
        select m.org_code, u.province_code
        from marts.fct_membership as m
        join marts.dim_admin_unit as u on u.admin_unit_key = m.new_admin_unit_key
        where m.commune_name not like '%,%' and m.commune_name in (
            select name from marts.dim_admin_unit where scheme = 'new' group by name having count(distinct province_code) > 1)
    """).fetchall()
    # Without the roll's province (its config's province:) these would be ambiguous, never guessed.
    assert rows and all(province == manifest["organisations"][org]["province_code"] for org, province in rows), rows


def _movers(sample: Path) -> dict[str, dict[str, str]]:
    """Real people who moved and are on rolls of both provinces at the end (no planted ghost, no
    duplicate entry): person id -> their true record ids ("<roll>:<id>") -> the roll's province."""
    manifest = json.loads((sample / "manifest.json").read_text())
    province = {org: entry["province_code"] for org, entry in manifest["organisations"].items()}
    with (sample / "truth" / "persons.csv").open(encoding="utf-8") as handle:
        moved = {row["person_id"] for row in csv.DictReader(handle) if row["moved_on"] and row["fabricated"] == "0"}
    records: dict[str, dict[str, str]] = defaultdict(dict)
    with (sample / "truth" / "records.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if (row["person_id"] in moved and row["on_roll_at_end"] == "1" and not row["planted"]
                    and not row["duplicate_of"]):
                records[row["person_id"]][f"{row['org']}:{row['record_id']}"] = province[row["org"]]
    return {person: keys for person, keys in records.items() if len(set(keys.values())) > 1}


def _warehouse_keys(conn, sample: Path) -> dict[str, str]:
    """True record id ("<roll>:<id>") -> the warehouse's record key: by member code, or for a roll
    without one by the roster file row it was delivered in (truth/delivery_rows.csv)."""
    from lienthong.config.organisations import load_organisations

    rosters = {o.code: {Path(e.connector.path).name for e in o.entities
                        if e.kind in ("roster", "roster_changes") and e.connector.type == "file"}
               for o in load_organisations(sample / "configs")}
    keys, by_row = {}, {}
    for org, day, line, key, code in conn.execute(
            "select org_code, delivery_date::text, source_row_number, record_key, member_code "
            "from intermediate.int_roster__events").fetchall():
        if code:
            keys[f"{org}:{code}"] = key
        else:
            by_row[(org, day, line - 1)] = key  # the file's line counts the header
    with (sample / "truth" / "delivery_rows.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            found = by_row.get((row["org"], row["date"], int(row["row"])))
            if found and row["file"] in rosters[row["org"]]:
                keys[f"{row['org']}:{row['record_id']}"] = found
    return keys


def test_a_person_who_moved_across_provinces_is_one_person(warehouse):
    conn, sample = warehouse["conn"], warehouse["sample"]
    movers, keys = _movers(sample), _warehouse_keys(conn, sample)
    person_of = dict(conn.execute("select source_record_key, person_id from marts.fct_membership").fetchall())
    persons = {person: {person_of.get(keys.get(record)) for record in records} for person, records in movers.items()}
    assert persons, "the sample has people on rolls of both provinces after a move"
    assert all(len(ids) == 1 and None not in ids for ids in persons.values()), persons
    assert len({person_id for ids in persons.values() for person_id in ids}) == len(persons)  # and no one else
