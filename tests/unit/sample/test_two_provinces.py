"""A sample of two provinces (scales.yml two-province, fewer people): both provinces, each
organisation's provincial branches, movers between them, and partitions by province."""

import csv
import json
from collections import defaultdict

import pytest

from lienthong.config.organisations import CONFIG_DIR, deployed_provinces, load_organisations
from lienthong.linking.partitions import NO_COMMUNE, partition_of
from lienthong.linking.records import prepare
from lienthong.sample import generate
from lienthong.sample.generator import scales
from lienthong.sample.api_server import SampleApi
from lienthong.sample.deliveries import load_shapes
from lienthong.sample.link_scoring import read_truth
from lienthong.sample.linking_input import latest_records
from lienthong.text.addresses import province_codes

PROVINCES = tuple(scales()["two-province"]["provinces"])


def _province(hamlet: dict) -> str:
    """A hamlet's new province, from the old province its old commune was in."""
    return "82" if hamlet["old_province_name"] in ("Tỉnh Đồng Tháp", "Tỉnh Tiền Giang") else "80"


def _rows(out, folder: str, name: str) -> list[dict]:
    with (out / folder / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    out = tmp_path_factory.mktemp("two")
    return out, generate("two-province", 42, out, people=4000)


def test_people_and_rolls_in_both_provinces(two):
    out, summary = two
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["provinces"] == {"80": "Tỉnh Tây Ninh", "82": "Tỉnh Đồng Tháp"}
    branches = {roll: entry["organisation"] for roll, entry in manifest["organisations"].items()}
    assert branches["doan_tn_80"] == branches["doan_tn_82"] == "doan_tn" and len(branches) == 10
    assert {p.name for p in (out / "deliveries").iterdir()} <= set(branches)
    hamlets = {h["hamlet_code"]: h for h in _rows(out, "reference", "hamlets")}
    province_of = {h["commune_code"]: _province(h) for h in hamlets.values()}
    assert set(province_of.values()) == {"80", "82"}
    residents = defaultdict(int)
    for person in _rows(out, "truth", "persons"):
        residents[province_of[hamlets[person["hamlet_code"]]["commune_code"]]] += 1
    assert residents["80"] > 500 and residents["82"] > 500
    # A provincial roll holds its province's units.
    units = {u["unit_code"]: u for u in _rows(out, "truth", "units")}
    for unit in units.values():
        assert unit["org"].endswith("_" + province_of[unit["commune_code"]])


def test_movers_have_a_record_in_each_province_the_old_one_with_the_old_address(two):
    out, _ = two
    hamlets = {h["hamlet_code"]: h for h in _rows(out, "reference", "hamlets")}
    persons = {p["person_id"]: p for p in _rows(out, "truth", "persons")}
    records = _rows(out, "truth", "records")
    rolls = defaultdict(set)
    for record in records:
        rolls[record["person_id"]].add(record["org"].rsplit("_", 1)[1])
    moved = [p for p in persons.values()
             if p["moved_to_hamlet"] and _province(hamlets[p["moved_to_hamlet"]]) != _province(hamlets[p["hamlet_code"]])]
    assert moved
    in_both = [p for p in moved if rolls[p["person_id"]] == {"80", "82"}]
    assert in_both
    # The old province's roll writes them with their old hamlet, never the new one.
    rows = {(r["org_code"], r["source_record_key"]): r for r in latest_records(out)}
    truth = read_truth(out)
    checked = 0
    for (roll, key), row in rows.items():
        person = persons.get(truth[f"{roll}|{key}"].person)
        if person in in_both and roll.endswith(_province(hamlets[person["hamlet_code"]])):
            old, new = hamlets[person["hamlet_code"]], hamlets[person["moved_to_hamlet"]]
            assert new["commune_name"] not in row["commune"]
            checked += old["commune_name"] in row["commune"] or old["old_commune_name"] in row["commune"]
    assert checked


def test_truth_is_consistent_with_the_deliveries(two):
    out, _ = two
    truth = read_truth(out)
    rows = latest_records(out)
    assert rows and all(f"{r['org_code']}|{r['source_record_key']}" in truth for r in rows)
    record_rolls = {(r["record_id"], r["org"]) for r in _rows(out, "truth", "records")}
    assert all((r["record_id"], r["org"]) in record_rolls for r in _rows(out, "truth", "delivery_rows"))


def test_partitions_by_province_are_the_two_provinces(two):
    out, _ = two
    features = [prepare(row, provinces=PROVINCES) for row in latest_records(out)]
    # The commune a record's partition is taken from: its code, else its first candidate (UNIT_SQL).
    units = [f["commune_code"] or (f["commune_candidates"] or "").split(" ")[0] or None for f in features]
    partitions = [partition_of(unit, {"by": "province"}) for unit in units]
    assert set(partitions) - {NO_COMMUNE} == {"80", "82"}
    assert min(partitions.count("80"), partitions.count("82")) > len(partitions) / 5


def test_each_branch_ships_its_organisation_config_with_its_province(two):
    out, _ = two
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    configs = {c.code: c for c in load_organisations(out / "configs")}
    assert sorted(configs) == sorted(manifest["organisations"])
    assert set(deployed_provinces(tuple(configs.values()))) == set(PROVINCES)
    codes = province_codes(PROVINCES)
    bundled = {c.code: c for c in load_organisations(CONFIG_DIR)}
    for code, entry in manifest["organisations"].items():
        config, of = configs[code], bundled[entry["organisation"]]
        assert codes[config.province] == entry["province_code"]
        assert config.kinds == of.kinds and config.eligibility == of.eligibility
        assert config.quality_rules == of.quality_rules
        for entity in config.entities:
            connector = entity.connector
            # Where the sample delivers the branch's roll: its folder, or its API path.
            assert (connector.path if connector.type == "file" else connector.resource).split("/")[
                0 if connector.type == "file" else 1] == code


def test_the_sample_api_serves_each_branchs_roll(two):
    out, _ = two
    api, manifest = SampleApi(out), json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    first, served = manifest["deliveries"]["from"], 0
    for config in load_organisations(out / "configs"):
        roster = config.entity("roster").connector
        if roster.type != "api":
            continue
        spec = next(f for f in load_shapes()[manifest["organisations"][config.code]["organisation"]]["files"].values()
                    if roster.resource.endswith(f"/{f['resource']}"))
        lines = (out / "deliveries" / config.code / first / spec["name"]).read_text(encoding="utf-8").splitlines()
        status, body = api.handle(f"{roster.resource}?{roster.date_param}={first}", f"Bearer {api.token}")
        assert status == 200 and body.get("tong_so", body.get("paging", {}).get("total")) == len(lines) > 0
        served += 1
    assert served == 2 * len([s for s in load_shapes().values() if s["transport"] == "api"])
