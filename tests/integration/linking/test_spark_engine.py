"""The same model on Spark: a part of the tiny sample (about 500 records: every record of one person in
six) linked with ``engine: spark`` (``local[2]``) and with DuckDB, a full run and then a night of
changes (the stored model, in DuckDB's dialect, rendered for Spark), gives the same people and the
same scores.

One JVM serves the module (pyspark keeps it between the runs' sessions); each run starts and stops
its own Spark session, as a production run does.
"""
from __future__ import annotations

import shutil

import pytest

from lienthong.linking import load_policy
from support.linking_nights import full_and_night

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def java():
    if not shutil.which("java"):
        pytest.skip("no java on this machine (CI installs Debian's default-jre-headless)")


@pytest.fixture(scope="module")
def nights(java, tiny_sample, fresh_database, load_source):
    """Both engines, each on its own database: (DuckDB's, Spark's) people and scores after each night."""
    policy = load_policy()
    # Two shuffle partitions: a few hundred records gain nothing from more, and each costs a task.
    return full_and_night(tiny_sample, fresh_database, load_source, {
        engine: policy.replace(engine=engine, spark_master="local[2]", spark_conf={"spark.sql.shuffle.partitions": 2})
        for engine in ("duckdb", "spark")})


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
