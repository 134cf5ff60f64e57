"""Linking a tiny sample end to end on PostgreSQL: stable ids over a night of changes, reviewer
decisions surviving reruns, typo'd ids linking, namesakes kept apart, explanations, the CLI."""
from __future__ import annotations

import csv
import json

import psycopg
import pytest
from click.testing import CliRunner

from lienthong.linking import decide, explain, link, link_new
from lienthong.linking.commands import link_commands
from lienthong.sample.linking_input import latest_records
from lienthong.text import name_key

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SOURCE = "src.records"  # the table load_source writes


def persons(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute("select record_uid, person_id from identity.record_person").fetchall())


def namesake(key: str, cccd: str, phone: str) -> dict:
    return {"org_code": "hoi_nd", "source_record_key": key, "full_name": "Nguyễn Văn Hùng",
            "birth_date": "1985", "sex": "Nam", "id_number": cccd, "phone": phone,
            "hamlet": "Khu phố 1", "commune": "Phường Tân Ninh"}


@pytest.fixture(scope="module")
def second_night(first_night, tiny_sample, module_url, load_source):
    """The last day's deliveries plus a typo'd-CCCD copy of a known woman and two namesakes."""
    before = persons(module_url)
    rows = latest_records(tiny_sample, first_night["days"][-1])
    woman = next(r for r in rows if r["org_code"] == "hoi_lhpn" and r["id_number"] and "/" in r["birth_date"]
                 and len(r["id_number"]) == 12 and r["id_number"][7] != r["id_number"][8])
    cccd = woman["id_number"]
    typo = {**woman, "org_code": "cong_doan", "source_record_key": "CD-TEST-1",
            "full_name": name_key(woman["full_name"]).upper(), "phone": None,
            "id_number": cccd[:7] + cccd[8] + cccd[7] + cccd[9:]}
    rows += [typo, namesake("ND-TEST-1", "072085123456", "0912000001"),
             namesake("ND-TEST-2", "072085654321", "0987000002")]
    load_source(module_url, rows)
    summary = link_new(module_url, f"select * from {SOURCE}")
    return {"before": before, "after": persons(module_url), "summary": summary, "woman": woman, "rows": rows}


def test_every_record_is_linked_once_and_matches_the_truth(first_night, tiny_sample, module_url):
    linked = persons(module_url)
    assert len(linked) == len(first_night["rows"]) == first_night["summary"]["records"]
    with (tiny_sample / "truth" / "records.csv").open(encoding="utf-8") as handle:
        truth = {f"{r['org']}|{r['record_id']}": r["person_id"] for r in csv.DictReader(handle)}
    same_true = {(a, b) for a in linked for b in linked if a < b and truth[a] == truth[b]}
    same_found = {(a, b) for a in linked for b in linked if a < b and linked[a] == linked[b]}
    assert len(same_true & same_found) / len(same_found) >= 0.99
    assert len(same_true & same_found) / len(same_true) >= 0.99


def test_ids_are_stable_across_a_night_of_changes(second_night):
    before, after, summary = second_night["before"], second_night["after"], second_night["summary"]
    assert summary["incremental"] and summary["changed"] >= 3
    assert summary["changed"] < summary["records"] / 10
    moved = {uid for uid in before if after[uid] != before[uid]}
    assert not moved
    assert len(after) == summary["records"]


def test_a_night_scores_against_candidates_as_against_every_record(second_night, module_url):
    """The night read only the records its changed ones can be blocked with, and the term
    frequencies of all records from PostgreSQL; scoring the changed records against every record
    with the stored model gives the same pairs and scores."""
    from lienthong.linking import engine, load_policy, store
    from lienthong.linking.run import SCORED_COLUMNS

    with psycopg.connect(module_url) as conn:
        run_id, started = conn.execute("select run_id, started_at from identity.runs where incremental "
                                       "order by run_id desc limit 1").fetchone()
        model = conn.execute("select settings from identity.model order by model_id desc limit 1").fetchone()[0]
        records = store.read_frame(conn, f"select {', '.join(SCORED_COLUMNS)} from identity.records")
        changed = [u for (u,) in conn.execute("select record_uid from identity.records where updated_at >= %s",
                                              (started,)).fetchall()]
        stored = {(a, b): p for a, b, p in conn.execute(
            "select uid_a, uid_b, match_probability from identity.match_pairs where run_id = %s", (run_id,))}
    assert len(changed) == second_night["summary"]["changed"]
    records["birth_year"] = records["birth_year"].astype("Int64")
    pairs = engine.predict_new(records, model, changed, load_policy())
    everyone = dict(zip(zip(pairs["uid_a"], pairs["uid_b"]), pairs["match_probability"]))
    assert stored  # the typo'd CCCD's pair and the namesakes' at least
    assert stored.keys() == everyone.keys()
    assert max(abs(stored[pair] - everyone[pair]) for pair in stored) < 1e-12


def test_a_nights_candidates_are_the_records_a_prediction_rule_blocks_with(module_url):
    """``candidates_sql`` in PostgreSQL gives a changed record the records that share every key of a
    prediction rule with it (``blocked_by``, either way round), crossed keys included: "Xã Phước Đông"
    names old communes now in Phường Gia Lộc and in Xã Tân Lân (no code, two areas), and its record
    and the same name and year in either, in other hamlets, are each other's candidates; in a third
    commune they are not."""
    from lienthong.linking import engine, store
    from lienthong.linking.blocking import candidates_sql
    from lienthong.linking.records import prepare_frame

    def entry(key: str, hamlet: str, commune: str) -> dict:
        return {"org_code": key.split("-")[0], "source_record_key": key, "full_name": "Trần Thị Yến",
                "birth_date": "2006", "sex": "Nữ", "id_number": None, "phone": None, "hamlet": hamlet,
                "commune": commune}

    frame = prepare_frame([entry("hoi_a-1", "Ấp Giồng Cát", "Xã Phước Đông"), entry("hoi_b-1", "Ấp Cây Me", "Xã Tân Lân"),
                           entry("hoi_c-1", "Ấp 2", "Phường Gia Lộc"), entry("hoi_d-1", "Ấp 9", "Phường Tân Ninh")])
    rows = {r["source_record_key"]: r for r in frame.to_dict("records")}
    with psycopg.connect(module_url) as conn:
        store.ensure_schema(conn)
        conn.execute("create temp table these (like identity.records including defaults)")
        store.copy_frame(conn, "these", frame, list(frame.columns))
        found = {}
        for key, row in rows.items():
            store.temp_keys(conn, "changed", [row["record_uid"]])
            uids = {u for (u,) in conn.execute(candidates_sql("changed", "these")).fetchall()}
            found[key] = {k for k, r in rows.items() if r["record_uid"] in uids}
    expected = {key: {other for other in rows if other == key or engine.blocked_by(row, rows[other])
                      or engine.blocked_by(rows[other], row)} for key, row in rows.items()}
    assert found == expected
    assert found["hoi_a-1"] == {"hoi_a-1", "hoi_b-1", "hoi_c-1"} and found["hoi_b-1"] == {"hoi_b-1", "hoi_a-1"}


def test_a_typod_cccd_still_links(second_night):
    woman = second_night["woman"]
    after = second_night["after"]
    assert after["cong_doan|CD-TEST-1"] == after[f"hoi_lhpn|{woman['source_record_key']}"]


def test_same_common_name_and_birth_year_are_two_people(second_night, module_url):
    after = second_night["after"]
    assert after["hoi_nd|ND-TEST-1"] != after["hoi_nd|ND-TEST-2"]
    why = explain(module_url, "hoi_nd|ND-TEST-1", "hoi_nd|ND-TEST-2")
    assert not why["same_person"] and why["verdict"].startswith("not linked")
    assert why["comparisons"]["id_number"]["bayes_factor"] < 1


def test_person_dimension_and_events(second_night, module_url):
    with psycopg.connect(module_url) as conn:
        n_persons, n_linked = conn.execute(
            "select count(distinct p.person_id), count(distinct rp.person_id) from identity.person p "
            "left join identity.record_person rp using (person_id)").fetchone()
        assert n_persons == n_linked == len(set(second_night["after"].values()))
        row = conn.execute("select full_name, birth_year, sex from identity.person where person_id = %s",
                           (second_night["after"]["cong_doan|CD-TEST-1"],)).fetchone()
        created = conn.execute("select count(*) from identity.person_events where event = 'created'").fetchone()[0]
    assert row[0] != row[0].upper() and row[2] == "female"  # the diacritic spelling survives the caps copy
    assert created == len(set(second_night["after"].values()))


def test_reviewer_decision_wins_and_survives_reruns(second_night, module_url):
    after = second_night["after"]
    typo, woman = "cong_doan|CD-TEST-1", f"hoi_lhpn|{second_night['woman']['source_record_key']}"
    decide(module_url, typo, woman, "different", "chị Lan", "two people, same CCCD typo")
    decide(module_url, "hoi_nd|ND-TEST-1", "hoi_nd|ND-TEST-2", "same", "anh Minh")
    link_new(module_url, f"select * from {SOURCE}")
    night = persons(module_url)
    assert night[typo] != night[woman] and night["hoi_nd|ND-TEST-1"] == night["hoi_nd|ND-TEST-2"]
    assert night[woman] == after[woman]  # the person keeps its id; the other record splits off
    link(module_url, f"select * from {SOURCE}")  # a full rerun retrains, decisions still win
    rerun = persons(module_url)
    assert rerun[typo] != rerun[woman] and rerun["hoi_nd|ND-TEST-1"] == rerun["hoi_nd|ND-TEST-2"]
    assert explain(module_url, typo, woman)["verdict"] == "reviewer chị Lan decided: different person"
    with psycopg.connect(module_url) as conn:
        events = conn.execute("select event, reason from identity.person_events where %s = any(record_uids) "
                              "and event <> 'created'", (typo,)).fetchall()
    assert events and events[0][0] == "split" and "reviewer decided different" in events[0][1]


def test_cli(second_night, module_url):
    runner = CliRunner()
    result = runner.invoke(link_commands, ["run", "--source-sql", SOURCE, "--incremental", "--url", module_url,
                                           "--set", "link_threshold=0.97"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["changed"] == 0
    with psycopg.connect(module_url) as conn:  # the run recorded the policy it decided by
        policy = conn.execute("select policy from identity.runs order by run_id desc limit 1").fetchone()[0]
    assert policy["link_threshold"] == 0.97 and policy["review_floor"] == 0.5
    refused = runner.invoke(link_commands, ["run", "--source-sql", SOURCE, "--url", module_url,
                                            "--set", "link_treshold=0.97"])
    assert refused.exit_code == 2 and "link_treshold" in refused.output
    queue = runner.invoke(link_commands, ["review-queue", "--url", module_url])
    assert queue.exit_code == 0
    woman = f"hoi_lhpn|{second_night['woman']['source_record_key']}"
    explained = runner.invoke(link_commands, ["explain", woman, "cong_doan|CD-TEST-1", "--url", module_url])
    assert explained.exit_code == 0 and "given_key" in explained.output
    assert json.loads(explained.output.splitlines()[-1])["link_threshold"] == 0.97  # the last run's policy
    bad = runner.invoke(link_commands, ["decide", woman, "nope|1", "same", "--reviewer", "x", "--url", module_url])
    assert bad.exit_code != 0 and "unknown record" in bad.output


def test_features_stored_before_the_commune_areas_are_refilled_by_a_full_link(second_night, module_url):
    """A warehouse whose records were stored before the commune areas were (a night's candidates
    block on them): the next night links in full, which stores them again, and nobody's id moves."""
    with psycopg.connect(module_url) as conn:
        areas = conn.execute("select record_uid, commune_area, commune_area_alt from identity.records").fetchall()
        assert sum(area is not None for _, area, _ in areas) > 0.9 * len(areas)
        conn.execute("update identity.records set commune_area = null, commune_area_alt = null")
    before = persons(module_url)
    summary = link_new(module_url, f"select * from {SOURCE}")
    assert not summary["incremental"]
    with psycopg.connect(module_url) as conn:
        assert sorted(conn.execute("select record_uid, commune_area, commune_area_alt "
                                   "from identity.records").fetchall()) == sorted(areas)
    assert persons(module_url) == before
