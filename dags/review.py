"""Airflow DAGs `review_monthly` and `review_quarterly`: the periodic review reports (backfillable)."""
from datetime import datetime, timedelta

from airflow.sdk import dag, task
from airflow.timetables.interval import CronDataIntervalTimetable

from lienthong.config.settings import TIMEZONE
from lienthong.pipeline import tasks

# kind -> schedule: the run after a period closes reviews it (its logical date is the period start).
REVIEWS = {"month": "0 6 1 * *", "quarter": "0 6 1 1,4,7,10 *"}


def build(kind: str, schedule: str):
    @dag(
        dag_id=f"review_{kind}ly",
        description=f"Render the {kind}ly review (HTML report and Excel workbook) from the review marts",
        schedule=CronDataIntervalTimetable(schedule, timezone=TIMEZONE),
        start_date=datetime(2026, 1, 1),
        catchup=False,
        max_active_runs=1,
        tags=["review"],
        default_args={"owner": "mttq_review", "retries": 1, "retry_delay": timedelta(minutes=10)},
    )
    def review():
        rendered = task(tasks.render_review, task_id="render_review")(kind=kind)
        if kind == "month":
            # The public pages follow the monthly review, from the same night's bi aggregates.
            rendered >> task(tasks.build_site, task_id="build_site")()

    return review()


for _kind, _schedule in REVIEWS.items():
    globals()[f"review_{_kind}ly"] = build(_kind, _schedule)
