"""Great Expectations gates against a real PostgreSQL: severities, batch suites from the configs and
rule files, results kept in dq with their batch, Data Docs rendered."""
from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import psycopg
import pytest

from lienthong.config.organisations import get_organisation, load_organisations
from lienthong.quality.batches import batch_suite, gate_batch, validate_batch
from lienthong.quality.runner import QualityGateError, run_gate

REPO = Path(__file__).resolve().parents[3]


def _land_batch(url: str, org_code: str, rows: list[dict], entity: str = "roster", day: date = date(2026, 11, 25)) -> int:
    """A batch of an organisation's entity inserted as landing would leave it (columns from the config)."""
    from lienthong.landing.raw import ensure_raw_tables

    with psycopg.connect(url) as conn:
        ensure_raw_tables(conn, get_organisation(org_code))
        batch_id = conn.execute(
            "insert into raw.batches (org_code, entity, delivery_date, source, checksum, status, row_count)"
            " values (%s, %s, %s, 'test', md5(random()::text), 'loaded', %s) returning batch_id",
            (org_code, entity, day, len(rows))).fetchone()[0]
        for number, row in enumerate(rows, start=2):
            columns = ["batch_id", "delivery_date", "row_number", *row]
            conn.execute(
                f"insert into raw.{org_code}__{entity} ({', '.join(columns)}) values ({', '.join(['%s'] * len(columns))})",
                (batch_id, day, number, *row.values()))
    return batch_id


def _land_women_batch(url: str, rows: list[dict]) -> int:
    return _land_batch(url, "hoi_lhpn", rows)


GOOD = {"full_name": "Nguyễn Thị Mai", "birth_date": "01/02/1990", "sex": "Nữ", "id_number": "072190123456",
        "phone": "0912345678", "hamlet": "Khu phố 1", "commune": "Phường Tân Ninh",
        "unit_name": "Chi hội Phụ nữ Khu phố 1", "joined_on": "02/03/2010"}


def test_batch_suite_comes_from_the_config_and_the_rule_file():
    suite = batch_suite("hoi_lhpn", "roster", 7)
    required = {e["kwargs"]["column"] for e in suite["expectations"]
                if e["type"] == "expect_column_values_to_not_be_null" and e["severity"] == "critical"}
    assert {"full_name", "commune"} <= required  # the config's required fields stop the pipeline
    assert any(e["severity"] == "warning" for e in suite["expectations"])  # formats from the rule file warn
    assert suite["meta"]["query"].endswith("where batch_id = 7")


@pytest.mark.parametrize("org", ["doan_tn", "hoi_lhpn", "hoi_nd", "hoi_ccb", "cong_doan"])
def test_every_rule_file_names_configured_entities_and_columns(org):
    config = get_organisation(org)
    for entity in config.entities:
        fields = set(entity.columns.values())
        for expectation in batch_suite(org, entity.kind, 1)["expectations"]:
            assert expectation["severity"] in ("critical", "warning", "info")
            named = [expectation["kwargs"].get("column"), *expectation["kwargs"].get("column_list", [])]
            assert {c for c in named if c is not None} <= fields, (org, entity.kind, named)


def test_warning_failures_are_kept_but_do_not_stop(warehouse_url):
    batch = _land_women_batch(warehouse_url, [GOOD, {**GOOD, "birth_date": "1990-02-01", "sex": "Nam"}] * 3)
    outcome = gate_batch(warehouse_url, "hoi_lhpn", "roster", batch, "run-warn")
    assert outcome.passed and outcome.failed_other
    with psycopg.connect(warehouse_url) as conn:
        stored = conn.execute("select count(*), count(*) filter (where not success), min(org_code), min(batch_id)"
                              " from dq.validation_results where run_id = 'run-warn'").fetchone()
    assert stored[0] == outcome.evaluated and stored[1] == len(outcome.failed_other)
    assert stored[2:] == ("hoi_lhpn", batch)


def test_critical_failure_stops(warehouse_url):
    batch = _land_women_batch(warehouse_url, [GOOD, {**GOOD, "full_name": None}])
    assert not validate_batch(warehouse_url, "hoi_lhpn", "roster", batch, "run-stop").passed
    with pytest.raises(QualityGateError, match="full_name"):
        gate_batch(warehouse_url, "hoi_lhpn", "roster", batch, "run-stop-2")


@pytest.mark.parametrize("org", [org.code for org in load_organisations()
                                 if org.change_kinds and "snapshot" in org.change_kinds.values()])
def test_a_feed_of_the_roll_and_its_changes_may_join_and_end_a_member_the_same_day(warehouse_url, org):
    """A feed that carries the whole roll on the first day and changes after (a province night's Youth
    Union feed admitted a member and took them off the roll the same day): the member's two changes
    pass the gate, the latest wins downstream (int_membership__states); the roll listing one card
    twice, or a change repeated (a page served twice), is stopped."""
    config = get_organisation(org)
    # The code of each kind as the feed writes it (its rule file's set, which may differ in case).
    written = next((e["kwargs"]["value_set"] for e in batch_suite(org, "roster", 1)["expectations"]
                    if e["type"] == "expect_column_values_to_be_in_set" and e["kwargs"]["column"] == "change_type"), [])
    kinds = {kind: next((w for w in written if w.lower() == code.lower()), code)
             for code, kind in config.change_kinds.items()}
    roster = config.entity("roster")
    member = {field: "x" for field in roster.fields}
    member.update({"member_code": "M0001", "full_name": "Nguyễn Minh Đạt", "unit_code": "U1", "unit_name": "Chi đoàn 1"})
    other = {**member, "member_code": "M0002"}
    same_day = [{**member, "change_type": kinds["join"]}, {**member, "change_type": kinds["leave"]},
                {**other, "change_type": kinds["join"]}]
    assert gate_batch(warehouse_url, org, "roster", _land_batch(warehouse_url, org, same_day), "run-feed").passed
    for day, twice in enumerate(([{**member, "change_type": kinds["snapshot"]}] * 2, [same_day[0], same_day[0]]), 26):
        batch = _land_batch(warehouse_url, org, twice, day=date(2026, 11, day))
        with pytest.raises(QualityGateError, match="member_code"):
            gate_batch(warehouse_url, org, "roster", batch, "run-feed-twice")


def test_mart_gate_raises_only_on_critical_and_renders_data_docs(warehouse_url, tmp_path):
    with psycopg.connect(warehouse_url) as conn:
        conn.execute("create schema marts; create table marts.t (k text, v int);"
                     " insert into marts.t values ('a', 1), ('a', 200)")

    def suite(name, severity):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({"name": name, "meta": {"label": "marts.t", "query": "select k from marts.t"}, "expectations": [
            {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "k"}, "severity": severity}]}))
        return path

    docs = tmp_path / "data_docs"
    outcomes = run_gate(warehouse_url, [suite("warn_only", "warning")], "run-1", data_docs_dir=docs)
    assert outcomes[0].failed_other
    with pytest.raises(QualityGateError, match="stop_here"):
        run_gate(warehouse_url, [suite("stop_here", "critical")], "run-2", data_docs_dir=docs)
    assert (docs / "run-2" / "stop_here.html").exists()
    index = (docs / "index.html").read_text(encoding="utf-8")
    assert "stop_here" in index and "warn_only" in index


def test_mart_suites_are_valid_files():
    from lienthong.quality.runner import load_suite_file

    suites = sorted((REPO / "expectations" / "marts").glob("*.json"))
    assert len(suites) >= 4
    for path in suites:
        spec = load_suite_file(path)
        assert all(e["severity"] in ("critical", "warning", "info") for e in spec["expectations"])
        # A year written into a suite goes stale: ranges of years are dbt tests against current_date.
        assert not re.search(r"\b(19|20)\d\d\b", path.read_text(encoding="utf-8")), path.name


def test_a_suite_without_its_query_is_refused_with_what_to_add(tmp_path):
    from lienthong.quality.runner import load_suite_file

    path = tmp_path / "old_shape.json"
    path.write_text(json.dumps({"name": "old", "meta": {"table": "marts.t"}, "expectations": []}))
    with pytest.raises(ValueError, match=r"old_shape.json: meta.label and meta.query missing"):
        load_suite_file(path)


def test_gates_writing_side_by_side_on_a_new_warehouse_make_the_dq_tables_once(warehouse_url):
    """Two organisations' ingests run side by side: their batch gates write their results at the same
    moment, and on a new warehouse each makes the dq tables. PostgreSQL's `create schema if not exists`
    is not safe between two racing transactions (the loser failed on pg_namespace's unique key, and
    Airflow retried its task five minutes later); the gates now take their turn."""
    import threading

    from lienthong.quality.runner import ensure_dq_schema

    rounds, writers = 8, 3
    errors = []

    def write(start: threading.Barrier) -> None:
        # Any failure is kept (a broken barrier too: a writer that cannot connect must not leave the
        # others waiting, nor pass unseen).
        try:
            with psycopg.connect(warehouse_url) as conn:
                start.wait()
                ensure_dq_schema(conn)
        except Exception as err:
            errors.append(err)

    for _ in range(rounds):
        with psycopg.connect(warehouse_url, autocommit=True) as conn:
            conn.execute("drop schema if exists dq cascade")
        start = threading.Barrier(writers, timeout=60)
        threads = [threading.Thread(target=write, args=(start,)) for _ in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    with psycopg.connect(warehouse_url) as conn:
        assert conn.execute("select to_regclass('dq.validation_results') is not null").fetchone()[0]
