"""The engine setting: the model's SQL rendered for DuckDB or Spark from one definition, the stored
model kept in DuckDB's dialect, the engine keys of the policy checked, and the scoring input the same
on both engines (no Spark session here: tests/integration/linking/test_spark_engine.py runs one)."""
import json

import pandas as pd
import pytest

from lienthong.linking import load_policy
from lienthong.linking.backends import DuckDBBackend, _scored_records, spark_session
from lienthong.linking.comparisons import for_dialect, splink_settings
from lienthong.linking.policy import DEFAULT_FILE, PolicyError
from lienthong.linking.records import prepare_frame

POLICY = load_policy()


def _model(dialect: str) -> dict:
    return splink_settings().get_settings(dialect).as_dict()


def _conditions(model: dict) -> list[str]:
    return [level["sql_condition"] for c in model["comparisons"] for level in c["comparison_levels"]]


def test_a_stored_model_renders_for_spark_and_back_unchanged():
    duck = _model("duckdb")
    duck["comparisons"][0]["comparison_levels"][1]["m_probability"] = 0.123  # a trained value
    spark = for_dialect(duck, "spark")
    assert spark["sql_dialect"] == "spark"
    assert spark["comparisons"][0]["comparison_levels"][1]["m_probability"] == 0.123
    assert not any("list_has_any" in c or "string_split" in c for c in _conditions(spark))
    assert any(c.startswith("arrays_overlap(") for c in _conditions(spark))
    assert all("`" in rule["blocking_rule"] for rule in spark["blocking_rules_to_generate_predictions"])
    assert json.dumps(for_dialect(spark, "duckdb"), sort_keys=True) == json.dumps(duck, sort_keys=True)
    assert for_dialect(duck, "duckdb") is duck


def test_a_stored_model_of_another_shape_is_refused_with_what_to_do():
    old = _model("duckdb")
    old["comparisons"][-1]["comparison_levels"].pop(3)
    with pytest.raises(ValueError, match="run a full link to retrain"):
        for_dialect(old, "spark")


def test_the_engine_is_a_policy_key_checked_like_the_others(tmp_path):
    assert (POLICY.engine, POLICY.spark_master, POLICY.spark_conf) == ("duckdb", "local[*]", {})
    spark = POLICY.replace(engine="spark", spark_conf={"spark.driver.memory": "8g", "spark.sql.shuffle.partitions": 64})
    assert spark.spark_conf == {"spark.driver.memory": "8g", "spark.sql.shuffle.partitions": "64"}
    assert spark.as_dict()["engine"] == "spark"  # recorded with the run
    with pytest.raises(PolicyError, match="engine must be one of duckdb, spark"):
        POLICY.replace(engine="flink")
    with pytest.raises(PolicyError, match="spark_conf must map"):
        POLICY.replace(spark_conf={"spark.jars": ["a.jar"]})
    # A policy file written before the engine keys still loads, and links on DuckDB.
    old = tmp_path / "linking.yml"
    old.write_text(DEFAULT_FILE.read_text(encoding="utf-8").split("\nengine:")[0], encoding="utf-8")
    assert load_policy(old).engine == "duckdb"


def test_spark_without_java_says_what_to_install(monkeypatch):
    monkeypatch.setenv("PATH", "")
    with pytest.raises(RuntimeError, match="default-jre-headless"):
        with spark_session("local[1]"):
            pass


def test_scoring_reads_a_cccds_year_for_a_record_without_one_on_every_engine():
    rows = [{"org_code": "org_a", "source_record_key": "1", "full_name": "Lê Văn An", "birth_date": None,
             "sex": "M", "id_number": "072085123456", "phone": None, "hamlet": "Ấp 1", "commune": "Phường Tân Ninh"},
            {"org_code": "org_a", "source_record_key": "2", "full_name": "Lê Văn Bình", "birth_date": "1970",
             "sex": "M", "id_number": "072085123457", "phone": None, "hamlet": "Ấp 1", "commune": "Phường Tân Ninh"}]
    features = prepare_frame(rows)
    scored = _scored_records(features)
    assert list(scored["birth_year"]) == [1985, 1970]
    assert pd.isna(features["birth_year"][0])  # the stored features keep the date as written


def test_the_memory_keys_are_optional_and_checked(tmp_path):
    assert (POLICY.score_chunk_records, POLICY.duckdb_memory_limit, POLICY.duckdb_threads) == (250_000, "2GB", 0)
    assert POLICY.chunks_for(1) == 1 and POLICY.chunks_for(250_000) == 1 and POLICY.chunks_for(1_600_000) == 7
    with pytest.raises(PolicyError, match="duckdb_memory_limit must be a size"):
        POLICY.replace(duckdb_memory_limit="lots")
    with pytest.raises(PolicyError, match="score_chunk_records >= 1"):
        POLICY.replace(score_chunk_records=0)
    # A policy file written before the memory keys still loads, with their defaults.
    old = tmp_path / "linking.yml"
    old.write_text(DEFAULT_FILE.read_text(encoding="utf-8").split("\n# Memory of a run")[0], encoding="utf-8")
    assert load_policy(old).duckdb_memory_limit == "2GB"


def test_duckdb_is_opened_with_the_policys_memory_limit_and_threads():
    backend = DuckDBBackend(POLICY.duckdb_memory_limit, 1)
    con = backend.api(pd.DataFrame({"record_uid": ["a|1"], "birth_year": pd.array([None], dtype="Int64"),
                                    "id_kind": [None], "id_number": [None]}))._con
    limit, threads = con.execute("select current_setting('memory_limit'), current_setting('threads')").fetchone()
    assert (limit, threads) == ("1.8 GiB", 1)  # DuckDB shows 2GB (10^9 bytes) in GiB
