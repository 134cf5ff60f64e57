"""The same model on Spark: a part of the tiny sample (about 500 records: every record of one person in
six) linked with ``engine: spark`` (``local[2]``) and with DuckDB, a full run and then a night of
changes (the stored model, in DuckDB's dialect, rendered for Spark), gives the same people and the
same scores.

One JVM serves the module (pyspark keeps it between the runs' sessions); each run starts and stops
its own Spark session, as a production run does.
"""
from __future__ import annotations

import csv
import shutil
import zlib

import psycopg
import pytest

from lienthong.linking import link, link_new, load_policy
from lienthong.linking.records import record_uid
from lienthong.sample.linking_input import delivery_dates, latest_records

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SOURCE = "src.records"  # the table load_source writes
SHARE = 6  # one person in SHARE


@pytest.fixture(scope="module")
def java():
    if not shutil.which("java"):
        pytest.skip("no java on this machine (CI installs Debian's default-jre-headless)")


def _part(rows: list[dict], people: dict[str, str]) -> list[dict]:
    """Every record of one person in SHARE (a person's records stay together)."""
    return [r for r in rows
            if zlib.crc32(people[record_uid(r["org_code"], r["source_record_key"])].encode()) % SHARE == 0]


def _people(url: str) -> set[frozenset[str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("select person_id, array_agg(record_uid) from identity.record_person "
                            "group by person_id").fetchall()
    return {frozenset(uids) for _, uids in rows}


def _scores(url: str) -> dict[tuple[str, str], float]:
    with psycopg.connect(url) as conn:
        return {(a, b): p for a, b, p in
                conn.execute("select uid_a, uid_b, match_probability from identity.match_pairs").fetchall()}


@pytest.fixture(scope="module")
def nights(java, tiny_sample, fresh_database, load_source):
    """Both engines, each on its own database: (DuckDB's, Spark's) people and scores after each night."""
    with (tiny_sample / "truth" / "records.csv").open(encoding="utf-8") as handle:
        people = {f"{r['org']}|{r['record_id']}": r["person_id"] for r in csv.DictReader(handle)}
    days = delivery_dates(tiny_sample)
    # The night brings the last day's changes and every tenth record held back from the first.
    first = [r for i, r in enumerate(_part(latest_records(tiny_sample, days[-2]), people)) if i % 10]
    second = _part(latest_records(tiny_sample, days[-1]), people)
    policy = load_policy()
    out = {}
    for engine in ("duckdb", "spark"):
        # Two shuffle partitions: a few hundred records gain nothing from more, and each costs a task.
        engine_policy = policy.replace(engine=engine, spark_master="local[2]",
                                       spark_conf={"spark.sql.shuffle.partitions": 2})
        with fresh_database(f"test_{engine}") as url:
            load_source(url, first)
            full = link(url, f"select * from {SOURCE}", policy=engine_policy)
            after_full = (_people(url), _scores(url))
            load_source(url, second)
            night = link_new(url, f"select * from {SOURCE}", policy=engine_policy)
            out[engine] = {"full": full, "night": night, "after_full": after_full,
                           "after_night": (_people(url), _scores(url))}
    return out


def test_the_sample_part_is_a_few_hundred_records_with_people_in_several_rolls(nights):
    full = nights["duckdb"]["full"]
    assert 200 <= full["records"] <= 1000
    assert full["persons"] < full["records"]  # people in two or more rolls were linked


def test_spark_links_the_same_people_as_duckdb(nights):
    for moment in ("after_full", "after_night"):
        duck, spark = nights["duckdb"][moment][0], nights["spark"][moment][0]
        assert spark == duck, f"{moment}: {len(spark ^ duck)} clusters differ"
    night = nights["spark"]["night"]
    assert night["incremental"] and night["changed"] >= nights["duckdb"]["full"]["records"] // 10


def test_spark_scores_the_same_pairs_alike(nights):
    for moment in ("after_full", "after_night"):
        duck, spark = nights["duckdb"][moment][1], nights["spark"][moment][1]
        assert spark.keys() == duck.keys()
        assert max(abs(spark[pair] - duck[pair]) for pair in duck) < 1e-6


def test_the_run_stops_its_spark_session(nights):
    from pyspark.sql import SparkSession

    assert SparkSession.getActiveSession() is None
