"""The environment every Airflow process of this project runs with.

Airflow reads its configuration from ``AIRFLOW__…`` variables; building them here (rather than an
``airflow.cfg`` in the repo) keeps one source of truth: the project settings and the warehouse URL.
"""
from __future__ import annotations

import os
from pathlib import Path

from lienthong.config.settings import TIMEZONE, WAREHOUSE_CONN_ID, Settings

# Telemetry and version checks reach for the network, which this project never does at run time.
QUIET = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "DBT_VERSION_CHECK": "False",
    "DO_NOT_TRACK": "1",
    "SCARF_ANALYTICS": "false",
    "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
    "AIRFLOW__CORE__ANALYTICS_ENABLED": "False",
    "GX_ANALYTICS_ENABLED": "False",
}


def airflow_environment(settings: Settings, warehouse_url: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """A full process environment for `airflow …` commands and DAG runs of this project."""
    home = settings.airflow_home
    env = dict(os.environ if base is None else base)
    env.update(QUIET)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(settings.dags_dir),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DEFAULT_TIMEZONE": TIMEZONE,
            "AIRFLOW__CORE__PARALLELISM": env.get("AIRFLOW__CORE__PARALLELISM", "4"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN")
            or metadata_url(settings),
            # A task's worker tells the API server it starts (and later finishes) with calls that are
            # not idempotent; at the default 5 s timeout a starved API server (a 2-core machine at load
            # 20) answered the first call after 34 s, the worker retried it, the retry was refused
            # (the task was no longer queued) and the task failed into a 5-minute retry.
            "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": env.get("AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT", "120"),
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            # Task logs quote batches and errors: the owner's alone (Airflow's default is 0o664/0o775).
            "AIRFLOW__LOGGING__FILE_TASK_HANDLER_NEW_FILE_PERMISSIONS": "0o600",
            "AIRFLOW__LOGGING__FILE_TASK_HANDLER_NEW_FOLDER_PERMISSIONS": "0o700",
            "AIRFLOW__COSMOS__CACHE_DIR": str(settings.state_dir / "cosmos"),
            f"AIRFLOW_CONN_{WAREHOUSE_CONN_ID.upper()}": warehouse_url,
            # Tasks re-read settings from these, so a run never depends on the caller's shell.
            "LIENTHONG_HOME": str(settings.home),
            "LIENTHONG_STATE_DIR": str(settings.state_dir),
            "LIENTHONG_SAMPLE_DIR": str(settings.sample_dir),
            "LIENTHONG_DROP_DIR": str(settings.drop_dir),
            "LIENTHONG_REFERENCE_DIR": str(settings.reference_dir),
            "LIENTHONG_OUTPUT_DIR": str(settings.output_dir),
            "LIENTHONG_WAREHOUSE_URL": warehouse_url,
        }
    )
    return env


def metadata_url(settings: Settings) -> str:
    """Airflow's metadata database when none is configured: its own database on the embedded
    PostgreSQL (which creates it at start), so that DAG runs in several processes write side by side.
    With a warehouse of one's own (LIENTHONG_WAREHOUSE_URL) the project creates nothing on that
    server: SQLite in the Airflow home, one writer at a time."""
    if settings.warehouse_url is None:
        from lienthong.warehouse.connection import embedded_server

        url = embedded_server(settings).airflow_url()
        if url:
            return url
    # SQLite makes a second writer wait 5 s, then fail with "database is locked": a `backfill create`
    # next to a running scheduler on a busy machine did. A minute's wait instead.
    return f"sqlite:///{settings.airflow_home / 'airflow.db'}?timeout=60"


def airflow_executable() -> str:
    """The `airflow` script of the environment this package runs in."""
    import sys

    candidate = Path(sys.executable).with_name("airflow")
    return str(candidate) if candidate.exists() else "airflow"
