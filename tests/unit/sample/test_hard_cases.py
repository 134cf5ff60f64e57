"""The generator's hard cases for linking: their own random stream, and each kind as described."""

import csv
import filecmp
import unicodedata
from collections import defaultdict

import pytest
import yaml

from lienthong.sample.linking_input import latest_records
from lienthong.sample import generate
from lienthong.sample.hard_cases import move_tone
from lienthong.sample.noise import load_noise, old_tone_placement
from lienthong.text import name_key, parse_birth_date


def _rows(out, name):
    with (out / "truth" / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _generate(tmp_path, name, **hard):
    noise = load_noise()
    noise["hard_cases"].update(hard)
    config = tmp_path / f"{name}.yml"
    config.write_text(yaml.safe_dump(noise, allow_unicode=True), encoding="utf-8")
    out = tmp_path / name
    generate("tiny", 42, out, noise_config=config)
    return out


@pytest.fixture(scope="module")
def hard(tmp_path_factory):
    return _generate(tmp_path_factory.mktemp("hard"), "hard", enabled=True)


def test_their_own_random_stream(tiny, tmp_path):
    """Enabled at zero rates, the hard cases draw only from their stream: every other byte is the same."""
    out, _ = tiny
    rates = {k: 0.0 for k, v in load_noise()["hard_cases"].items() if isinstance(v, float)}
    zero = _generate(tmp_path, "zero", enabled=True, **rates)
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert sorted(p.relative_to(zero) for p in zero.rglob("*") if p.is_file() and p.name != "hard_cases.csv") == files
    for rel in files:
        assert filecmp.cmp(out / rel, zero / rel, shallow=False), rel
    assert not (out / "truth" / "hard_cases.csv").exists()
    assert _rows(zero, "hard_cases") == []


def test_households_and_twins(hard):
    people = {p["person_id"]: p for p in _rows(hard, "persons")}
    relations = defaultdict(list)
    for r in _rows(hard, "hard_cases"):
        relations[r["kind"]].append((people.get(r["person_id"]), people[r["related_person_id"]]))
    assert len(relations["spouse"]) > 50 and len(relations["child"]) > 50 and len(relations["twin"]) > 15
    for kind in ("spouse", "child", "twin"):
        for person, anchor in relations[kind]:
            assert person["hamlet_code"] == anchor["hamlet_code"], kind
    assert all(child["family_name"] == father["family_name"] for child, father in relations["child"])
    shared = sum(p["phone"] == a["phone"] != "" for p, a in relations["spouse"] + relations["child"])
    assert shared > 0.3 * (len(relations["spouse"]) + len(relations["child"]))
    for twin, anchor in relations["twin"]:
        assert (twin["birth_date"], twin["family_name"]) == (anchor["birth_date"], anchor["family_name"])
        assert twin["given_name"] != anchor["given_name"]
    close = [t for t, a in relations["twin"] if len(name_key(t["given_name"])) and
             sum(x != y for x, y in zip(name_key(t["given_name"]), name_key(a["given_name"]))) <= 1]
    assert close, "some twins' given names are a letter or a mark apart"


def test_ghosts_copy_a_members_name(hard):
    people = {p["person_id"]: p for p in _rows(hard, "persons")}
    copies = [(people[r["person_id"]], people[r["related_person_id"]]) for r in _rows(hard, "hard_cases")
              if r["kind"] == "ghost_copy"]
    assert copies
    for ghost, member in copies:
        assert ghost["fabricated"] == "1" and ghost["full_name"] == member["full_name"]
    ghosts = {r["kind"] for r in _rows(hard, "ghosts")}
    assert {"fabricated", "non_member"} <= ghosts


def test_record_defects_show_in_the_deliveries(hard):
    records = {f"{r['org']}|{r['record_id']}": r for r in _rows(hard, "records")}
    delivered = {f"{r['org_code']}|{r['source_record_key']}": r for r in latest_records(hard)}
    seen = defaultdict(int)
    for uid, row in delivered.items():
        kinds = set(records[uid]["noise"].split(";")) if uid in records else set()
        if "old_cmnd" in kinds:
            assert len(row["id_number"]) == 9
        if "birth_missing" in kinds:
            assert row["birth_date"] == ""
        if "birth_placeholder" in kinds:
            parsed = parse_birth_date(row["birth_date"])
            assert (parsed.month, parsed.day) == (1, 1)
        if "name_dropped_middle" in kinds:
            assert len(row["full_name"].split()) == 2
        seen.update({k: 1 for k in kinds})
    for kind in ("old_cmnd", "birth_missing", "birth_placeholder", "name_dropped_middle", "name_tone_other_vowel",
                 "stale_address"):
        assert seen[kind], kind


def test_move_tone():
    assert move_tone("Hoàng") == unicodedata.normalize("NFC", "Hòang")
    assert move_tone("Lan") == "Lan" and move_tone("Lâm") == "Lâm"  # no tone, or one vowel only


def test_marks_compose_after_a_retone():
    """A new tone goes after the vowel's own mark: "Tâm" -> "Tấm", never "Tám" plus a stray circumflex."""
    import random

    from lienthong.sample.hard_cases import _retone
    from lienthong.text.legacy_encodings import encode

    rng = random.Random(1)
    for word in ("Tâm", "Tuấn", "Nguyệt", "Hương", "Lan", "Thuần"):
        for _ in range(20):
            other = _retone(rng, word)
            encode(old_tone_placement(other), "cp1258")  # the Farmers' files: raises on a stray mark
            assert all(not unicodedata.combining(c) for c in other), other
            assert name_key(other) == name_key(word)
