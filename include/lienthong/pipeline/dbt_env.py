"""The environment for running dbt outside Airflow, derived from the one warehouse URL."""
from __future__ import annotations

import os
from urllib.parse import unquote, urlsplit

from pathlib import Path

from lienthong.config.settings import Settings, load_settings
from lienthong.pipeline.airflow_env import QUIET
from lienthong.pipeline.dbt_generated import prepare_dbt_project


def dbt_project(settings: Settings | None = None) -> Path:
    """The dbt project folder to run dbt in, with the configured organisations rendered (state folder)."""
    settings = settings or load_settings()
    return prepare_dbt_project(settings.dbt_project_dir, settings.dbt_run_dir)


def dbt_environment(warehouse_url: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """Variables that dbt_project/profiles.yml reads, plus telemetry off."""
    parts = urlsplit(warehouse_url)
    if parts.scheme not in ("postgresql", "postgres") or not parts.hostname:
        raise ValueError("the warehouse URL must look like postgresql://user:password@host:port/database")
    env = dict(os.environ if base is None else base)
    env.update(QUIET)
    env.update(
        {
            "LIENTHONG_PG_HOST": parts.hostname,
            "LIENTHONG_PG_PORT_DBT": str(parts.port or 5432),
            "LIENTHONG_PG_USER": unquote(parts.username or ""),
            "LIENTHONG_PG_PASSWORD": unquote(parts.password or ""),
            "LIENTHONG_PG_DATABASE": parts.path.lstrip("/") or "postgres",
        }
    )
    return env
