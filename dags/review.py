"""Airflow DAG `review_monthly`: the periodic review report for the month just ended."""
from datetime import datetime, timedelta

from airflow.sdk import dag, task
from airflow.timetables.interval import CronDataIntervalTimetable

from lienthong.config.settings import TIMEZONE
from lienthong.pipeline import tasks


@dag(
    dag_id="review_monthly",
    description="Render the monthly review workbook from the review marts",
    schedule=CronDataIntervalTimetable("0 6 1 * *", timezone=TIMEZONE),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["review"],
    default_args={"owner": "mttq_review", "retries": 1, "retry_delay": timedelta(minutes=10)},
)
def review_monthly():
    task(tasks.render_review, task_id="render_review")()


review_monthly()
