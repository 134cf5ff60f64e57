"""Airflow DAG `warehouse_build`: dbt models (via Cosmos) and the marts' quality gate."""
from datetime import datetime, timedelta

from airflow.sdk import Asset, AssetAny, dag, task
from airflow.timetables.assets import AssetOrTimeSchedule
from airflow.timetables.trigger import CronTriggerTimetable
from cosmos import DbtTaskGroup

from lienthong.config.organisations import load_organisations
from lienthong.config.settings import TIMEZONE, load_settings
from lienthong.pipeline import tasks
from lienthong.pipeline.dbt_in_airflow import cosmos_configs

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
    default_args={"owner": "data_engineering", "retries": 1, "retry_delay": timedelta(minutes=5)},
)
def warehouse_build():
    prepare = task(tasks.prepare_warehouse, task_id="prepare_warehouse")()
    dbt_models = DbtTaskGroup(group_id="dbt", **cosmos_configs(load_settings()))
    validate = task(tasks.validate_marts, task_id="validate_marts", outlets=[Asset("marts")])()
    prepare >> dbt_models >> validate


warehouse_build()
