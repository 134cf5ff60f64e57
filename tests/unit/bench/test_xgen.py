"""bench/xgen.py, the independent generator: deterministic per seed, its configs onboard its files,
and its truth covers every delivered roster row with the ghosts marked."""
from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

import pytest

from lienthong.config.check import check_file
from lienthong.config.organisations import load_organisations
from lienthong.sample.link_scoring import read_hard_negatives, read_truth
from lienthong.sample.linking_input import config_roster_rows

BENCH = Path(__file__).resolve().parents[3] / "bench"


@pytest.fixture(scope="module")
def xgen():
    spec = importlib.util.spec_from_file_location("xgen", BENCH / "xgen.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["xgen"] = module  # its dataclasses resolve their annotations through it
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def sample(xgen, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("xgen") / "a"
    xgen.generate(out, seed=5, people=1500)
    return out


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_other_seed_other_people(xgen, sample, tmp_path):
    xgen.generate(tmp_path / "b", seed=5, people=1500)
    assert _files(tmp_path / "b") == _files(sample)
    xgen.generate(tmp_path / "c", seed=6, people=1500)
    assert (tmp_path / "c" / "truth" / "persons.csv").read_bytes() != (sample / "truth" / "persons.csv").read_bytes()


def test_configs_onboard_every_delivered_file(sample):
    orgs = load_organisations(sample / "configs")
    assert len(orgs) >= 4
    formats = {(e.connector.format, getattr(e.connector, "encoding", None)) for o in orgs for e in o.entities}
    assert {f for f, _ in formats} == {"csv", "xlsx"} and ("csv", "cp1258") in formats
    files = sorted((sample / "deliveries").rglob("*.*"))
    assert files
    for path in files:
        relative = path.relative_to(sample / "deliveries").as_posix()
        org, entity = next((o, e) for o in orgs for e in o.entities
                           if e.connector.path.replace("{date}", path.parent.name) == relative)
        report = check_file(org, entity, path)
        assert report.ok and not report.missing and not report.unmapped, report.lines()
        assert report.rows > 0 and not report.quarantined, report.lines()


def test_truth_covers_every_delivered_row_and_marks_ghosts(sample):
    truth = read_truth(sample)
    rows = list(config_roster_rows(sample, sample / "configs"))
    delivered = {f"{r['org_code']}|{r['source_record_key']}" for r in rows}
    with (sample / "truth" / "delivery_rows.csv").open(encoding="utf-8") as handle:
        assert len(rows) == sum(1 for _ in csv.DictReader(handle))
    assert delivered <= set(truth) and len(delivered) == len(truth)

    with (sample / "truth" / "ghosts.csv").open(encoding="utf-8") as handle:
        kinds: dict[tuple[str, str], set[str]] = {}
        for g in csv.DictReader(handle):
            kinds.setdefault((g["org"], g["record_id"]), set()).add(g["kind"])
    planted = {uid: r for uid, r in truth.items() if r.ghost}
    assert planted and {"fabricated", "ghost_copy", "non_member"} <= {k for r in planted.values() for k in r.planted}
    for uid, record in planted.items():
        org, record_id = uid.split("|")
        expected = "non_member" if "non_member" in record.planted else "fabricated"
        assert expected in kinds[(org, record_id)]
        assert record.person.startswith("G") == (expected == "fabricated")
    negatives = read_hard_negatives(sample)
    assert all(negatives[kind] for kind in ("household", "twin", "ghost_copy"))
