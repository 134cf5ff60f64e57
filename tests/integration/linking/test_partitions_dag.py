"""`warehouse_build` with partitioned linking, run by Airflow (`airflow dags test`, every other task
marked successful): the plan's partitions mapped to one `link_partition` task each, then
`finish_linking` links every record of the linking input."""
from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest

from lienthong.config.settings import load_settings
from lienthong.linking.policy import DEFAULT_FILE
from lienthong.pipeline.airflow_env import airflow_environment
from lienthong.sample.linking_input import delivery_dates, latest_records, write_source_table

pytestmark = [pytest.mark.integration, pytest.mark.airflow]
ONLY_LINKING = r"(?!(plan_linking|link_partition|finish_linking)$).*"  # the tasks marked successful


def test_airflow_maps_a_task_over_the_partitions(project_env, warehouse_url, airflow_env, tiny_sample):
    rows = latest_records(tiny_sample, delivery_dates(tiny_sample)[0])[:300]
    with psycopg.connect(warehouse_url) as conn:  # the linking input dbt would have built
        conn.execute("create schema intermediate")
        write_source_table(conn, "intermediate.int_people__source_records", rows)
        conn.execute("create table intermediate.int_review__corrections (source_record_key text, "
                     "corrected_birth_date date, corrected_id_number text)")
    policy = project_env / "linking.yml"
    policy.write_text(DEFAULT_FILE.read_text(encoding="utf-8").replace(
        "partitions:\n  by: none", "partitions:\n  by: commune_group\n  count: 3"), encoding="utf-8")
    env = {**airflow_environment(load_settings(), warehouse_url), "LIENTHONG_LINKING_POLICY": str(policy),
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]}
    done = subprocess.run([sys.executable, "-m", "airflow", "dags", "test", "warehouse_build", "2026-11-25",
                           "--mark-success-pattern", ONLY_LINKING], env=env, capture_output=True, text=True,
                          timeout=900)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-4000:]
    with psycopg.connect(warehouse_url) as conn:
        linked = conn.execute("select count(*) from identity.record_person").fetchone()[0]
        summary = conn.execute("select summary from identity.runs order by run_id desc limit 1").fetchone()[0]
    assert linked == len(rows)
    assert len(summary["partitions"]) >= 2
    assert all(f"[linking] partition {key}:" in log for key in summary["partitions"])
