"""Task bodies for the DAGs: the thin Airflow-facing layer over the Airflow-free package.

Each function takes the run's dates from the Airflow context and prints what it did, so a
`dags test` or a task log reads as a story of the night.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

from lienthong.config.settings import TIMEZONE, load_settings


def _logical_local(context):
    # Scheduled runs and backfills have logical date = data interval start (the day or month they
    # cover); `dags test DAG D` and manual runs for D have logical date D. Both mean "about D".
    moment = context.get("logical_date") or context["data_interval_start"]
    return moment.in_timezone(TIMEZONE)


def delivery_date(context) -> date:
    """The day a run is about (local date)."""
    return _logical_local(context).date()


def review_period(context) -> str:
    """The month (YYYY-MM) a review run covers."""
    return _logical_local(context).strftime("%Y-%m")


def land(org_code: str, kind: str, **context) -> dict:
    """Land an organisation's delivery for the run's day; skip the task when nothing was sent."""
    from airflow.exceptions import AirflowFailException, AirflowSkipException

    from lienthong.config.organisations import OrganisationConfigError
    from lienthong.landing.ingest import ingest
    from lienthong.sources.base import SourceError
    from lienthong.sources.connections import from_airflow

    day = delivery_date(context)
    try:
        result = ingest(org_code, kind, day, lookup=from_airflow)
    except (SourceError, OrganisationConfigError) as err:
        # A bad file, config or token fails the same way on every retry: fail now, say why.
        # (A source that is down raises SourceUnavailableError and is retried by Airflow.)
        raise AirflowFailException(str(err)) from err
    if result is None:
        raise AirflowSkipException(f"{org_code} sent no {kind} delivery for {day}")
    print(f"[ingest] {result.summary()}")
    return {"status": result.status, "rows": result.row_count, "quarantined": result.quarantined_count}


def prepare_warehouse(**context) -> None:
    """Extensions, and every organisation's raw tables, so a night when one sent nothing still builds."""
    from lienthong.config.organisations import load_organisations
    from lienthong.landing.raw import ensure_raw_tables
    from lienthong.warehouse import connect, ensure_ready, resolve_url

    url = resolve_url()
    ensure_ready(url)
    with connect(url) as conn:
        for org in load_organisations():
            ensure_raw_tables(conn, org)
    print("[warehouse] extensions and raw tables ready")


def validate_marts(**context) -> None:
    """Run every mart suite under expectations/marts; critical failures fail the task."""
    from lienthong.quality.runner import run_gate
    from lienthong.warehouse import resolve_url

    settings = load_settings()
    suites = sorted((settings.expectations_dir / "marts").glob("*.json"))
    for outcome in run_gate(resolve_url(), suites, run_id=context["run_id"]):
        print(f"[quality] {outcome.summary()}")


def render_review(**context) -> str:
    from lienthong.review.workbook import render_review as render
    from lienthong.warehouse import resolve_url

    settings = load_settings()
    path: Path = render(resolve_url(), review_period(context), settings.output_dir)
    print(f"[review] workbook written: {path}")
    return str(path)
