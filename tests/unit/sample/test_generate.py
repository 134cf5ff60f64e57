"""The generated sample: determinism, layout, distributions, noise rates, readability."""

import csv
import datetime as dt
import filecmp
import io
import json
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
import yaml
from python_calamine import CalamineWorkbook

from lienthong.sample import generate
from lienthong.sample.deliveries import load_shapes
from lienthong.sample.noise import load_noise, rates_for
from lienthong.sample.population import family_name_shares
from lienthong.text.legacy_encodings import decode

ORGS = ["doan_tn", "hoi_lhpn", "hoi_nd", "hoi_ccb", "cong_doan"]


def read_truth(out, name: str) -> list[dict]:
    with (out / "truth" / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _tree(root):
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


def test_same_seed_gives_byte_identical_tree(tiny, tmp_path):
    out, _ = tiny
    again = tmp_path / "again"
    generate("tiny", 42, again)
    assert _tree(out) == _tree(again)
    for rel in _tree(out):
        assert filecmp.cmp(out / rel, again / rel, shallow=False), rel


def test_other_seed_differs(tiny, tmp_path):
    out, _ = tiny
    generate("tiny", 7, tmp_path / "other")
    assert (out / "truth/persons.csv").read_bytes() != (tmp_path / "other/truth/persons.csv").read_bytes()


def test_layout_and_manifest(tiny):
    out, summary = tiny
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == 42 and manifest["scale"] == "tiny"
    assert manifest["deliveries"] == {"from": "2026-11-25", "to": "2026-11-27", "days": 3}
    assert set(manifest["organisations"]) == set(ORGS)
    for org, info in manifest["organisations"].items():
        assert info["files"], org
        for entry in info["files"]:
            assert (out / entry["path"]).exists()
            assert entry["path"].startswith(f"deliveries/{org}/{entry['date']}/")
    for name in ("persons", "records", "ghosts", "overlaps", "reported_totals", "delivery_rows", "units"):
        assert (out / "truth" / f"{name}.csv").exists()
    assert (out / "reference" / "population.csv").exists()
    assert (out / "reference" / "population_changes.csv").exists()
    assert summary["people"] == 6000
    # Every day of the range has something delivered by at least one organisation.
    delivered = {e["date"] for info in manifest["organisations"].values() for e in info["files"]}
    assert delivered == {"2026-11-25", "2026-11-26", "2026-11-27"}


def test_womens_union_roster_shape(tiny):
    out, _ = tiny
    raw = (out / "deliveries/hoi_lhpn/2026-11-25/hoi_vien.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert ",".join(rows[0]) == "STT,Họ và tên,Ngày sinh,Giới tính,Số CCCD,Số điện thoại,Ấp/Khu phố,Xã/Phường,Chi hội,Ngày vào hội"
    assert [r[0] for r in rows[1:6]] == ["1", "2", "3", "4", "5"]
    assert Counter(r[3] for r in rows[1:]).most_common(1)[0][0] == "Nữ"
    full_dates = [r[2] for r in rows[1:] if r[2].count("/") == 2]
    assert len(full_dates) > 0.8 * (len(rows) - 1)
    # Snapshot on the first day only; changes files afterwards.
    assert not (out / "deliveries/hoi_lhpn/2026-11-26/hoi_vien.csv").exists()


def _read(path, spec):
    if spec["format"] == "xlsx":
        return CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    text = decode(path.read_bytes(), spec["encoding"] if spec["format"] == "csv" else "utf-8")
    if spec["format"] == "jsonl":
        return [json.loads(line) for line in text.splitlines()]
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=spec["delimiter"]))


def test_every_file_reads_in_its_declared_encoding(tiny):
    out, _ = tiny
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    shapes = load_shapes()
    seen_encodings = set()
    for org, info in manifest["organisations"].items():
        for entry in info["files"]:
            spec = shapes[org]["files"][entry["kind"]]
            rows = _read(out / entry["path"], spec)
            seen_encodings.add(entry["encoding"])
            if spec["format"] == "jsonl":
                assert len(rows) == entry["rows"]
                assert list(rows[0]) == [c["key"] for c in spec["columns"]]
            else:
                assert len(rows) == entry["rows"] + 1
                assert rows[0] == [c["header"] for c in spec["columns"]], entry["path"]
                text = " ".join(" ".join(str(v) for v in r) for r in rows[1:50])
                assert "\ufffd" not in text
    assert {"utf-8-sig", "cp1258", "tcvn3", "vni", "xlsx", "utf-8"} <= seen_encodings


def test_legacy_files_decode_to_real_vietnamese(tiny):
    out, _ = tiny
    text = decode((out / "deliveries/hoi_ccb/2026-11-25/DSHOIVIEN.CSV").read_bytes(), "tcvn3")
    assert "Họ tên" in text and "Chi hội CCB" in text
    text = decode((out / "deliveries/hoi_nd/2026-11-25/thu_hoi_phi.csv").read_bytes(), "cp1258")
    assert "Họ và tên" in text


def test_family_name_shares(tiny):
    out, _ = tiny
    persons = [p for p in read_truth(out, "persons") if p["fabricated"] == "0"]
    counts = Counter(p["family_name"] for p in persons)
    expected = family_name_shares()
    for name in ("Nguyễn", "Trần", "Lê", "Huỳnh", "Võ"):
        assert abs(counts[name] / len(persons) - expected[name]) < 0.025, name
    assert counts["Nguyễn"] / len(persons) > 0.28
    assert counts["Huỳnh"] > counts["Hoàng"] and counts["Võ"] > counts["Vũ"]


def test_cccd_digits_match_sex_and_birth_year(tiny):
    out, _ = tiny
    persons = [p for p in read_truth(out, "persons") if p["fabricated"] == "0" and p["cccd"]]
    assert len(persons) > 3000
    for p in persons:
        year = int(p["birth_date"][:4])
        digit = (0 if year < 2000 else 2) + (1 if p["sex"] == "F" else 0)
        assert len(p["cccd"]) == 12 and p["cccd"].isdigit()
        assert p["cccd"][3] == str(digit) and p["cccd"][4:6] == f"{year % 100:02d}", p
    assert len({p["cccd"] for p in persons}) == len(persons)
    provinces = Counter(p["cccd"][:3] for p in persons)
    assert provinces["072"] + provinces["080"] > 0.75 * len(persons)
    assert len(provinces) > 5


def test_clean_delivered_ids_match_the_person(tiny):
    out, _ = tiny
    records = {r["record_id"]: r for r in read_truth(out, "records")}
    persons = {p["person_id"]: p for p in read_truth(out, "persons")}
    rows = [r for r in read_truth(out, "delivery_rows") if r["org"] == "hoi_lhpn" and r["file"] == "hoi_vien.csv"]
    raw = (out / "deliveries/hoi_lhpn/2026-11-25/hoi_vien.csv").read_text(encoding="utf-8-sig")
    delivered = {int(r[0]): r for r in list(csv.reader(io.StringIO(raw)))[1:]}
    checked = 0
    for row in rows:
        record = records[row["record_id"]]
        person = persons[record["person_id"]]
        line = delivered[int(row["row"])]
        if record["noise"] == "" and person["fabricated"] == "0":
            assert unicodedata.normalize("NFC", line[1]) == person["full_name"]
            assert line[4] == (person["cccd"] or person["cmnd"])
            assert line[2] == dt.date.fromisoformat(person["birth_date"]).strftime("%d/%m/%Y")
            checked += 1
    assert checked > 150


def _age(birth, day):
    b = dt.date.fromisoformat(birth)
    return day.year - b.year - ((day.month, day.day) < (b.month, b.day))


def test_eligibility_holds_except_for_labelled_ghosts(tiny):
    out, _ = tiny
    end = dt.date(2026, 11, 27)
    persons = {p["person_id"]: p for p in read_truth(out, "persons")}
    ghosts = {(g["record_id"], g["kind"]) for g in read_truth(out, "ghosts")}
    on_roll = [r for r in read_truth(out, "records") if r["on_roll_at_end"] == "1"]
    for r in on_roll:
        p = persons[r["person_id"]]
        if p["fabricated"] == "1" or p["died_on"] or p["moved_away_on"]:
            continue
        age = _age(p["birth_date"], end)
        if r["org"] == "hoi_lhpn":
            assert p["sex"] == "F" or (r["record_id"], "ineligible_sex") in ghosts
            assert age >= 18 or (r["record_id"], "ineligible_age") in ghosts
        if r["org"] == "doan_tn":
            assert 16 <= age <= 30 or (r["record_id"], "ineligible_age") in ghosts
        if r["org"] == "hoi_ccb":
            assert p["veteran"] == "1"
        if r["org"] == "hoi_nd":
            assert p["occupation"] == "farmer"
        if r["org"] == "cong_doan":
            assert p["employer_code"]


def test_membership_sizes_and_overlaps(tiny):
    out, summary = tiny
    overlaps = {(r["kind"], r["orgs"]): int(r["persons"]) for r in read_truth(out, "overlaps")}
    members = {org: overlaps[("members", org)] for org in ORGS}
    # Order of organisation sizes as in the province (Women > Trade Union/Farmers > Youth > Veterans).
    assert members["hoi_lhpn"] > members["doan_tn"] > members["hoi_ccb"]
    assert members["cong_doan"] > members["hoi_ccb"] and members["hoi_nd"] > members["hoi_ccb"]
    people_in_any = sum(v for (k, _), v in overlaps.items() if k == "exact_combination")
    in_several = sum(v for (k, combo), v in overlaps.items() if k == "exact_combination" and "+" in combo)
    assert 0.15 < in_several / people_in_any < 0.5
    assert overlaps[("pair", "hoi_lhpn+cong_doan")] > 0 and overlaps[("pair", "hoi_nd+hoi_ccb")] > 0
    assert 0.35 < summary["roster_records"] / summary["people"] < 0.7


def test_every_ghost_kind_is_planted(tiny):
    out, _ = tiny
    kinds = Counter(g["kind"] for g in read_truth(out, "ghosts"))
    for kind in ("fabricated", "duplicate", "deceased", "moved_away", "ineligible_age", "no_dues", "never_attends"):
        assert kinds[kind] > 0, kind
    totals = read_truth(out, "reported_totals")
    assert any(t["inflated"] == "1" for t in totals)
    assert all(int(t["reported_count"]) >= int(t["named_count"]) for t in totals)


@pytest.mark.parametrize("org", ["hoi_lhpn", "cong_doan"])
def test_noise_rates_within_tolerance(tiny, org):
    out, _ = tiny
    records = [r for r in read_truth(out, "records") if r["org"] == org and "fabricated" not in r["planted"]]
    counts = Counter(kind for r in records for kind in r["noise"].split(";") if kind)
    rates = rates_for(load_noise(), org)
    n = len(records)
    for kind in ("name_no_diacritics", "name_all_caps", "name_extra_spaces", "address_old_commune",
                 "address_abbreviated", "birth_day_month_swap"):
        expected = rates[kind]
        tolerance = 4 * (expected * (1 - expected) / n) ** 0.5 + 0.005
        assert abs(counts[kind] / n - expected) < tolerance, (kind, counts[kind] / n, expected)


def test_reference_population_adds_up(tiny):
    out, summary = tiny
    with (out / "reference/population.csv").open(encoding="utf-8") as handle:
        total = sum(int(r["people"]) for r in csv.DictReader(handle))
    # Residents at the end: the start population less deaths and departures during the year.
    assert 0.95 * summary["people"] < total <= summary["people"]


CHANGE_COLUMNS = ["citizen_id", "full_name", "birth_date", "sex", "change_kind", "changed_on", "commune_code"]


def read_changes(out) -> list[dict]:
    with (out / "reference" / "population_changes.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == CHANGE_COLUMNS
        return list(reader)


def _registrable(out) -> dict[str, dict[str, str]]:
    """Change kind -> {true CCCD: date} of the real people who died or moved away by the end date."""
    end = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["history"]["to"]
    due = {"died": {}, "moved_away": {}}
    for p in read_truth(out, "persons"):
        if p["fabricated"] != "0" or not p["cccd"]:
            continue
        for kind, day in (("died", p["died_on"]), ("moved_away", p["moved_away_on"])):
            if day and p["birth_date"] <= day <= end:
                due[kind][p["cccd"]] = day
    return due


def test_population_changes_are_true_deaths_and_moves(tiny):
    out, summary = tiny
    rows = read_changes(out)
    assert summary["population_changes"] == len(rows) > 100
    persons = {p["cccd"]: p for p in read_truth(out, "persons") if p["fabricated"] == "0" and p["cccd"]}
    communes = {c["commune_code"] for c in csv.DictReader((out / "reference/population.csv").open(encoding="utf-8"))}
    ids = [r["citizen_id"] for r in rows]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    for row in rows:
        person = persons[row["citizen_id"]]  # the true ID, never a roll's noisy copy
        assert row["citizen_id"].isdigit() and len(row["citizen_id"]) == 12
        assert (row["full_name"], row["birth_date"], row["sex"]) == (
            person["full_name"], person["birth_date"], person["sex"])
        day = person["died_on"] if row["change_kind"] == "died" else person["moved_away_on"]
        assert row["change_kind"] in ("died", "moved_away") and row["changed_on"] == day, row
        assert row["changed_on"] <= "2026-11-27" and row["commune_code"] in communes
    # Before the history too: former residents who died or left one to five years earlier.
    assert any(r["changed_on"] < "2025-12-01" for r in rows) and any(r["changed_on"] >= "2025-12-01" for r in rows)
    assert any(unicodedata.normalize("NFD", r["full_name"]) != r["full_name"] for r in rows)  # diacritics kept


def test_population_changes_cover_the_configured_share(tiny):
    out, _ = tiny
    rows = read_changes(out)
    registry = load_noise()["registry"]
    for kind, rate in (("died", registry["died_coverage"]), ("moved_away", registry["moved_away_coverage"])):
        due = _registrable(out)[kind]
        registered = {r["citizen_id"] for r in rows if r["change_kind"] == kind}
        assert registered <= set(due), kind
        n = len(due)
        assert n > 80, kind
        assert abs(len(registered) / n - rate) < 4 * (rate * (1 - rate) / n) ** 0.5 + 0.01, (kind, len(registered), n)


def test_population_changes_have_their_own_random_stream(tiny, tmp_path):
    """Another coverage changes that file only: every other output stays byte-identical."""
    out, _ = tiny
    noise = load_noise()
    noise["registry"] = {"died_coverage": 1.0, "moved_away_coverage": 1.0}
    config = tmp_path / "noise.yml"
    config.write_text(yaml.safe_dump(noise, allow_unicode=True), encoding="utf-8")
    full = tmp_path / "full"
    generate("tiny", 42, full, noise_config=config)
    changes = Path("reference") / "population_changes.csv"
    assert _tree(out) == _tree(full)
    for rel in _tree(out):
        if rel != changes:
            assert filecmp.cmp(out / rel, full / rel, shallow=False), rel
    everyone = read_changes(full)
    assert {r["citizen_id"] for r in everyone} == set(_registrable(out)["died"]) | set(_registrable(out)["moved_away"])
    assert {tuple(r.values()) for r in read_changes(out)} < {tuple(r.values()) for r in everyone}


def test_join_date_missing_blanks_the_join_date_and_nothing_else(tiny, tmp_path):
    """A roll without join dates (join_date_missing 1.0 for one organisation): its join-date column is
    empty on every roster row, the records' noise says so, and every other file keeps its bytes (the
    defect is decided without a random draw)."""
    out, _ = tiny
    noise = load_noise()
    noise["organisations"]["hoi_lhpn"] = {**noise["organisations"].get("hoi_lhpn", {}), "join_date_missing": 1.0}
    config = tmp_path / "noise.yml"
    config.write_text(yaml.safe_dump(noise, allow_unicode=True), encoding="utf-8")
    bare = tmp_path / "bare"
    generate("tiny", 42, bare, noise_config=config)
    assert _tree(out) == _tree(bare)
    changed = {rel for rel in _tree(out) if not filecmp.cmp(out / rel, bare / rel, shallow=False)}
    assert Path("deliveries/hoi_lhpn/2026-11-25/hoi_vien.csv") in changed
    assert all(rel.parts[:2] == ("deliveries", "hoi_lhpn") or rel == Path("truth/records.csv") for rel in changed), changed
    raw = (bare / "deliveries/hoi_lhpn/2026-11-25/hoi_vien.csv").read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(raw)))
    assert rows[0][-1] == "Ngày vào hội" and len(rows) > 100
    assert all(r[-1] == "" for r in rows[1:])
    records = read_truth(bare, "records")
    assert all("join_date_missing" in r["noise"].split(";") for r in records if r["org"] == "hoi_lhpn")
    assert not any("join_date_missing" in r["noise"] for r in records if r["org"] != "hoi_lhpn")
