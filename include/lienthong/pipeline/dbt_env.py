"""The environment for running dbt outside Airflow, derived from the one warehouse URL."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

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


def run_dbt(settings: Settings, warehouse_url: str, *args: str, check: bool = True,
            project: Path | None = None) -> subprocess.CompletedProcess:
    """One dbt command on the rendered project, outside Airflow (benches, tests): the finished process,
    its output captured. ``check``: a failure raises, with the output's tail. ``project``: a folder
    already rendered (rendering again removes what a caller added to it)."""
    project = project or dbt_project(settings)
    run = subprocess.run([str(Path(sys.executable).with_name("dbt")), *args, "--project-dir", str(project),
                          "--profiles-dir", str(project)], env=dbt_environment(warehouse_url), cwd=project,
                         capture_output=True, text=True)
    if check and run.returncode != 0:
        raise RuntimeError(f"dbt {' '.join(args)} failed:\n{run.stdout[-5000:]}\n{run.stderr[-2000:]}")
    return run


def build_warehouse(settings: Settings, warehouse_url: str) -> dict:
    """warehouse_build's dbt and linking steps in its order, outside Airflow (benches, tests, on
    landed deliveries): the warehouse prepared, seeds, the linker's input, the link, the rest of the
    project built and tested. Returns the link's figures."""
    from lienthong.pipeline import tasks

    tasks.prepare_warehouse()
    run_dbt(settings, warehouse_url, "seed")
    run_dbt(settings, warehouse_url, "run", "--select", *tasks.LINKING_INPUT_MODELS)
    linked = tasks.link_people()
    run_dbt(settings, warehouse_url, "build", "--exclude", *tasks.LINKING_INPUT_MODELS)
    return linked
