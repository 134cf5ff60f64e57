"""A deployment in a province no default names (issue #19): the sample scale other-province (Cần
Thơ, sample/scales.yml) writes its branches' organisation configs, each saying its province; the
pipeline is pointed at them (LIENTHONG_ORG_CONFIG_DIR) and the night's pieces run as in
test_two_provinces.py. Nothing else is set: the linker resolves in the configs' province, and the
admin seeds dbt loads are rendered for it into the state folder (lienthong.pipeline.dbt_generated)."""
from __future__ import annotations

import csv

import pytest

from support.configured_deployment import first_day_built

from lienthong.sample.generator import scales
from lienthong.text.addresses import DEFAULT_PROVINCES, province_codes

pytestmark = pytest.mark.slow  # a dbt build of the whole project

PROVINCES = tuple(scales()["other-province"]["provinces"])


@pytest.fixture(scope="module")
def warehouse(fresh_database, tmp_path_factory):
    """The first delivery day of the sample landed, linked and built in a fresh database."""
    with first_day_built(fresh_database, tmp_path_factory.mktemp("other_province"), "other-province") as built:
        yield built


def test_the_configs_name_a_province_no_default_names(warehouse):
    assert PROVINCES and not set(PROVINCES) & set(DEFAULT_PROVINCES)
    assert {o.province for o in warehouse["orgs"]} == set(PROVINCES)
    # The rendered admin seeds are the province's, in the state folder; the checkout has none.
    seeds = warehouse["settings"].dbt_run_dir / "generated" / "seeds"
    assert f"provinces: {' '.join(PROVINCES)}\n" in (seeds / ".admin_seeds").read_text(encoding="utf-8")
    assert not list((warehouse["settings"].dbt_project_dir / "seeds").glob("admin_*.csv"))


def test_the_rolls_land_and_build(warehouse):
    conn, codes = warehouse["conn"], sorted(o.code for o in warehouse["orgs"])
    landed = dict(conn.execute(
        "select org_code, count(*) from raw.batches where status = 'loaded' and entity = 'roster' group by org_code"
    ).fetchall())
    assert sorted(landed) == codes
    members = dict(conn.execute("select org_code, count(*) from marts.fct_membership group by org_code").fetchall())
    assert sorted(members) == codes and all(members.values())
    assert warehouse["linked"]


def test_members_resolve_to_the_provinces_communes(warehouse):
    conn = warehouse["conn"]
    wanted = set(province_codes(PROVINCES).values())
    counts = dict(conn.execute("""
        select u.province_code, count(*)
        from marts.fct_membership as m
        left join marts.dim_admin_unit as u on u.admin_unit_key = m.new_admin_unit_key
        group by 1
    """).fetchall())
    total = sum(counts.values())
    # Every resolved member is in the province; few are left open (a split old commune).
    assert set(counts) - {None} == wanted, counts
    assert counts.get(None, 0) < 0.1 * total, counts
    listed = {code for (code,) in conn.execute("select commune_code from bi.agg_communes").fetchall()}
    assert {p for (p,) in conn.execute(
        "select distinct province_code from marts.dim_admin_unit where scheme = 'new'").fetchall()} == wanted
    # Each member is in the commune the sample put them in (its truth), not merely in some commune
    # of the province: records with a member code, of people who did not move.
    truth = _truth_communes(warehouse["sample"])
    resolved = {f"{org}:{code}": commune for org, code, commune in conn.execute("""
        select e.org_code, e.member_code, u.code
        from marts.fct_membership as m
        join intermediate.int_roster__events as e on e.record_key = m.source_record_key
        join marts.dim_admin_unit as u on u.admin_unit_key = m.new_admin_unit_key
        where e.member_code is not null
    """).fetchall()}
    compared = [(resolved[record], commune) for record, commune in truth.items() if record in resolved]
    assert len(compared) > 500, len(compared)
    assert sum(got == true for got, true in compared) > 0.95 * len(compared), \
        [pair for pair in compared if pair[0] != pair[1]][:20]
    assert {got for got, _ in compared} <= listed


def _truth_communes(sample) -> dict[str, str]:
    """"<roll>:<record id>" -> the new commune its person lives in, for people who never moved."""
    with (sample / "truth" / "persons.csv").open(encoding="utf-8") as handle:
        home = {row["person_id"]: row["commune_code"] for row in csv.DictReader(handle)
                if not row["moved_on"] and not row["moved_away_on"]}
    with (sample / "truth" / "records.csv").open(encoding="utf-8") as handle:
        return {f"{row['org']}:{row['record_id']}": home[row["person_id"]] for row in csv.DictReader(handle)
                if row["person_id"] in home}
