"""The DAG files import cleanly and carry what the scheduler and the people on call need."""
import json
import subprocess
import sys

import pytest

from lienthong.config.organisations import get_organisation, load_organisations
from lienthong.linking.policy import DEFAULT_FILE

# Runs in a real Airflow process with the project's environment; prints what the tests check.
INSPECT = """
import json
from airflow.dag_processing.dagbag import DagBag
from lienthong.config.settings import load_settings
bag = DagBag(dag_folder=str(load_settings().dags_dir))
print(json.dumps({
    "errors": {k: v.splitlines()[-1] for k, v in bag.import_errors.items()},
    "dags": {
        dag_id: {
            "tags": sorted(dag.tags),
            "owners": sorted({t.owner for t in dag.tasks}),
            "schedule": dag.timetable.summary,
            "timezone": str(getattr(dag.timetable, "_timezone", getattr(getattr(dag.timetable, "timetable", None), "_timezone", ""))),
            "outlets": sorted(o.name for t in dag.tasks for o in t.outlets),
            "trigger": str(getattr(dag.timetable, "asset_condition", "")),
            "retries": {t.task_id: [t.retries, t.retry_delay.total_seconds()] for t in dag.tasks},
        }
        for dag_id, dag in bag.dags.items()
    },
}))
"""


@pytest.fixture(scope="module")
def dagbag(airflow_env):
    done = subprocess.run([sys.executable, "-c", INSPECT], env=airflow_env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_dags_import_without_errors(dagbag):
    assert dagbag["errors"] == {}


def test_one_ingest_dag_per_organisation_config(dagbag):
    expected = {f"ingest_{org.code}" for org in load_organisations()}
    assert expected | {"warehouse_build", "review_monthly", "review_quarterly"} == set(dagbag["dags"])


def test_every_dag_has_a_schedule_tags_and_a_named_owner(dagbag):
    for dag_id, dag in dagbag["dags"].items():
        assert dag["schedule"], dag_id
        assert dag["tags"], dag_id
        assert dag["owners"] and "airflow" not in dag["owners"], dag_id
        assert "Asia/Ho_Chi_Minh" in dag["timezone"], dag_id


def test_ingest_publishes_assets_that_trigger_the_build(dagbag):
    women = get_organisation("hoi_lhpn")
    assert dagbag["dags"]["ingest_hoi_lhpn"]["outlets"] == sorted(f"raw.hoi_lhpn.{e.kind}" for e in women.entities)
    assert "raw.hoi_lhpn.roster" in dagbag["dags"]["warehouse_build"]["trigger"]
    assert dagbag["dags"]["warehouse_build"]["outlets"] == ["marts"]


def test_every_task_retries_after_a_delay(dagbag):
    # A night's transient failure (server restart, network) must not need a person; a retry at once
    # would meet the same outage.
    for dag_id, dag in dagbag["dags"].items():
        for task_id, (retries, delay) in dag["retries"].items():
            assert retries >= 1, (dag_id, task_id)
            assert delay >= 60, (dag_id, task_id)


# The tasks of warehouse_build with what runs after each, and whether Airflow maps them.
BUILD_TASKS = """
import json
from airflow.dag_processing.dagbag import DagBag
from lienthong.config.settings import load_settings
bag = DagBag(dag_folder=str(load_settings().dags_dir))
dag = bag.dags["warehouse_build"]
print(json.dumps({t.task_id: ["MappedOperator" in type(t).__name__, sorted(t.downstream_task_ids)] for t in dag.tasks}))
"""


def test_linking_is_one_task_unless_partitioned(dagbag):
    assert "link_people" in dagbag["dags"]["warehouse_build"]["retries"]
    assert "link_partition" not in dagbag["dags"]["warehouse_build"]["retries"]


def test_partitioned_linking_maps_a_task_over_the_partitions(airflow_env, tmp_path):
    policy = tmp_path / "linking.yml"
    policy.write_text(DEFAULT_FILE.read_text(encoding="utf-8").replace("partitions:\n  by: none",
                                                                        "partitions:\n  by: province"), encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", BUILD_TASKS], env={**airflow_env, "LIENTHONG_LINKING_POLICY": str(policy)},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    tasks = json.loads(done.stdout.strip().splitlines()[-1])
    assert "link_people" not in tasks
    assert tasks["plan_linking"] == [False, ["finish_linking", "link_partition"]]
    assert tasks["link_partition"] == [True, ["finish_linking"]]
    assert tasks["finish_linking"][1] and all(t.startswith("dbt_marts") for t in tasks["finish_linking"][1])
