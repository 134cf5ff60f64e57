"""Airflow DAGs `ingest_<org>`: one per organisation config, landing each day's delivery in raw."""
from datetime import datetime, timedelta

from airflow.sdk import Asset, dag, task
from airflow.timetables.interval import CronDataIntervalTimetable

from lienthong.config.organisations import load_organisations
from lienthong.config.settings import TIMEZONE
from lienthong.pipeline import tasks


def build(org):
    @dag(
        dag_id=f"ingest_{org.code}",
        description=f"Land {org.name}'s deliveries in the raw schema",
        schedule=CronDataIntervalTimetable(org.schedule, timezone=TIMEZONE),
        start_date=datetime(2026, 1, 1),
        catchup=False,
        max_active_runs=1,
        tags=["ingest", org.code],
        default_args={
            "owner": org.owner,
            "retries": 2,
            "retry_delay": timedelta(minutes=5),
            "execution_timeout": timedelta(hours=2),
        },
    )
    def ingest():
        for entity in org.entities:
            task(
                tasks.land,
                task_id=f"land_{entity.kind}",
                outlets=[Asset(f"raw.{org.code}.{entity.kind}")],
            )(org_code=org.code, kind=entity.kind)

    return ingest()


for _org in load_organisations():
    globals()[f"ingest_{_org.code}"] = build(_org)
