"""Linking a tiny sample with the generator's hard cases: households, twins and name-copying ghosts
stay apart while the records of one person still come together."""
from __future__ import annotations

import re

import psycopg
import pytest
import yaml

from lienthong.linking.records import record_uid
from lienthong.linking import link
from lienthong.sample.linking_input import latest_records
from lienthong.sample import generate
from lienthong.sample.link_scoring import read_hard_negatives, read_truth, score_linking
from lienthong.sample.noise import load_noise

pytestmark = pytest.mark.integration
SOURCE = "src.records"


@pytest.fixture(scope="module")
def linked(tmp_path_factory, fresh_database, load_source):
    out = tmp_path_factory.mktemp("tiny_hard")
    noise = load_noise()
    noise["hard_cases"]["enabled"] = True
    config = out / "noise.yml"
    config.write_text(yaml.safe_dump(noise, allow_unicode=True), encoding="utf-8")
    generate("tiny", 42, out / "sample", noise_config=config)
    rows = latest_records(out / "sample")
    with fresh_database("test_link_hard") as url:
        load_source(url, rows)
        summary = link(url, f"select * from {SOURCE}")
        with psycopg.connect(url) as conn:
            clusters = dict(conn.execute("select record_uid, person_id from identity.record_person").fetchall())
            queue = conn.execute("select reason, count(*) from identity.review_queue group by reason").fetchall()
    ids = {record_uid(r["org_code"], r["source_record_key"]): re.sub(r"\D", "", r["id_number"] or "") or None
           for r in rows}
    truth = read_truth(out / "sample")
    return {"summary": summary, "queue": dict(queue),
            "scores": score_linking(clusters, truth, ids, read_hard_negatives(out / "sample"))}


def test_no_ghost_twin_or_household_is_merged(linked):
    scores = linked["scores"]
    assert scores["ghost_records"] > 20 and scores["ghosts_merged"] == 0
    per_kind = scores["ghosts_merged_per_kind"]
    assert sum(row["records"] for row in per_kind.values()) == scores["ghost_records"]
    assert per_kind["ghost_copy"]["records"] > 5 and not any(row["merged"] for row in per_kind.values())
    for kind in ("household", "twin", "ghost_copy"):
        row = scores["per_hard_negative"][kind]
        assert row["people_pairs"] > 5 and row["merged"] == 0, (kind, row)


def test_precision_and_recall_hold(linked):
    scores = linked["scores"]
    assert scores["precision"] >= 0.998 and scores["recall"] >= 0.98
    assert scores["recall_no_shared_id"] >= 0.95


def test_refused_links_wait_in_the_review_queue(linked):
    assert linked["summary"]["refused"] > 0
    assert any(reason.startswith("not linked: ") for reason in linked["queue"])
