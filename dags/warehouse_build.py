"""Airflow DAG `warehouse_build`: dbt (via Cosmos) in two stages around person linking, then the marts' quality gate."""
from datetime import datetime, timedelta

from airflow.sdk import Asset, AssetAny, dag, task
from airflow.timetables.assets import AssetOrTimeSchedule
from airflow.timetables.trigger import CronTriggerTimetable
from lienthong.config.organisations import load_organisations
from lienthong.config.settings import TIMEZONE, load_settings
from lienthong.linking.policy import load_policy
from lienthong.pipeline import tasks
from lienthong.pipeline.dbt_in_airflow import dbt_build

RAW_ASSETS = [Asset(f"raw.{org.code}.{e.kind}") for org in load_organisations() for e in org.entities]


@dag(
    dag_id="warehouse_build",
    description="Build staging, intermediate, marts and review models; validate the marts",
    # On any landed batch, and nightly for the nights when no organisation sent anything.
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 4 * * *", timezone=TIMEZONE),
        assets=AssetAny(*RAW_ASSETS),
    ),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["warehouse", "dbt"],
    default_args={"owner": "data_engineering", "retries": 1, "retry_delay": timedelta(minutes=1)},
)
def warehouse_build():
    settings = load_settings()
    # Staging and the linking input first; people are linked in between; then everything that
    # reads the linked person IDs. The units' corrections are linking's evidence too (tasks.LINKING_INPUT).
    before_linking = list(tasks.LINKING_INPUT_MODELS)
    prepare = task(tasks.prepare_warehouse, task_id="prepare_warehouse")()
    dbt_staging = dbt_build("dbt_staging", settings, select=before_linking)
    if load_policy().partitioned:
        # Partitioned linking (docs/linking.md): one mapped task per partition, on as many workers as there are.
        planned = task(tasks.plan_linking, task_id="plan_linking")()
        partitions = task(tasks.link_partition, task_id="link_partition").expand_kwargs(planned)
        link = task(tasks.finish_linking, task_id="finish_linking")(planned)
        dbt_staging >> planned
        partitions >> link
    else:
        link = task(tasks.link_people, task_id="link_people")()
        dbt_staging >> link
    dbt_marts = dbt_build("dbt_marts", settings, exclude=before_linking)
    access = task(tasks.sync_access, task_id="sync_access")()
    validate = task(tasks.validate_marts, task_id="validate_marts", outlets=[Asset("marts")])()
    prepare >> dbt_staging
    link >> dbt_marts >> access >> validate


warehouse_build()
