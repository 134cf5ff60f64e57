"""Several `airflow dags test` runs in one process (lienthong.pipeline.dag_runs): each run is on its
own, with its own log, and a failed one neither takes the next with it nor hides in another's log; a
runner's `then` DAGs (the build after the ingests) run only once it is released, each only after the
one before succeeded; groups `beside` the first run side by side in children of the one process."""
from datetime import date

import pytest

from lienthong.config.organisations import load_organisations
from lienthong.config.settings import load_settings
from lienthong.pipeline.airflow_env import airflow_environment
from lienthong.pipeline.nightly import DagRunner, run_dags

pytestmark = pytest.mark.airflow
DAY = date(2026, 11, 25)


def test_runs_in_one_process_each_have_their_outcome_and_log(project_env, warehouse_url, airflow_env):
    # An organisation read from files only: with an empty drop folder its tasks skip (nothing sent).
    org = next(o for o in load_organisations() if all(e.connector.type == "file" for e in o.entities))
    env = {**airflow_environment(load_settings(), warehouse_url),
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]}
    dags = ["ingest_no_such_organisation", f"ingest_{org.code}"]

    runs = list(run_dags(dags, DAY, env, project_env / "logs"))
    assert [(run.dag_id, run.ok) for run in runs] == [(dags[0], False), (dags[1], True)], runs[1].log.read_text()[-3000:]
    assert runs[0].log != runs[1].log
    assert "ingest_no_such_organisation" in runs[0].log.read_text()
    assert "ingest_no_such_organisation" not in runs[1].log.read_text()
    assert all(f"sent no {entity.kind} delivery" in runs[1].log.read_text() for entity in org.entities)

    stopped = list(run_dags(dags, DAY, env, project_env / "stopped", stop_on_failure=True))
    assert [(run.dag_id, run.ok) for run in stopped] == [(dags[0], False)]
    assert not (project_env / "stopped" / f"{dags[1]}.log").exists()


def test_then_dags_run_only_once_released_and_only_after_a_success(project_env, warehouse_url, airflow_env):
    files_only = [o for o in load_organisations() if all(e.connector.type == "file" for e in o.entities)]
    first, then = (f"ingest_{org.code}" for org in files_only[:2])
    env = {**airflow_environment(load_settings(), warehouse_url),
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]}

    never = DagRunner([first], DAY, env, project_env / "never", then=[then])
    done = next(never.results())
    assert (done.dag_id, done.ok) == (first, True), done.log.read_text()[-3000:]
    never.close()  # the caller gave up (an ingest raised): the runner ends without its then DAGs
    assert not (project_env / "never" / f"{then}.log").exists()

    released = DagRunner([first], DAY, env, project_env / "released", then=[then])
    results = released.results()
    assert next(results).dag_id == first
    released.release()
    assert [(run.dag_id, run.ok) for run in results] == [(then, True)]

    chain = DagRunner([], DAY, env, project_env / "chain", then=["ingest_no_such_organisation", then])
    chain.release()
    assert [(run.dag_id, run.ok) for run in chain.results()] == [("ingest_no_such_organisation", False)]
    assert not (project_env / "chain" / f"{then}.log").exists()


def test_groups_beside_run_in_forked_children_then_the_then_dags(project_env, warehouse_url, airflow_env):
    files_only = [o for o in load_organisations() if all(e.connector.type == "file" for e in o.entities)]
    first, beside, then = (f"ingest_{org.code}" for org in files_only[:3])
    env = {**airflow_environment(load_settings(), warehouse_url),
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]}

    runner = DagRunner([first], DAY, env, project_env / "forked", then=[then], beside=[[beside]])
    results = runner.results()
    ingests = [next(results), next(results)]
    assert sorted((run.dag_id, run.ok) for run in ingests) == sorted([(first, True), (beside, True)]), \
        [run.log.read_text()[-3000:] for run in ingests]
    assert not (project_env / "forked" / f"{then}.log").exists()
    runner.release()
    assert [(run.dag_id, run.ok) for run in results] == [(then, True)]
