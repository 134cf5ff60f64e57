"""dbt's full parse, done ahead of the warehouse build while Airflow starts up on the other core.

The build's dbt tasks (Cosmos, lienthong.pipeline.dbt_in_airflow) keep dbt's partial parse between
tasks and nights, but on a first day (or once the state folder's Cosmos cache is gone) there is none
yet, and the first dbt task parses the whole project: about 5 s of a demo first day, on one core, in
the middle of the build. The nightly run starts this module beside its own start-up, when one core is
idle: it renders the project as the build's prepare_warehouse does, parses it as the build's dbt
tasks would (their profile, target, flags and Cosmos cache, in a copy linked like its own),
and leaves the partial parse where the build looks for it. A parse here that fails, or that dbt later
finds stale, costs only its own time: the build then parses in full, as before.

    python -m lienthong.pipeline.dbt_parse_ahead
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from lienthong.config.settings import Settings, load_settings
from lienthong.pipeline.dbt_in_airflow import dbt_cache_dir

# dbt's file, where Cosmos looks for it in a project or cache (cosmos.dbt.project.get_partial_parse_path),
# named here so that `lienthong run` checks for it without importing Cosmos, and Airflow with it.
PARTIAL_PARSE = Path("target") / "partial_parse.msgpack"


def partial_parse_kept(settings: Settings) -> bool:
    return (dbt_cache_dir(settings) / PARTIAL_PARSE).exists()


def parse_ahead(settings: Settings) -> bool:
    """Parse the rendered project and keep dbt's partial parse for the build; True when kept.
    Needs the warehouse's Airflow connection in the environment (the profile is made from it)."""
    # Cosmos' own steps for a task (cosmos.operators.local.run_command), without a task around them:
    # its cache functions are not public API, and the lock file pins the version they are read from.
    from cosmos import cache
    from cosmos.dbt.project import create_symlinks, environ
    from dbt.cli.main import dbtRunner

    from lienthong.pipeline.dbt_env import dbt_project
    from lienthong.pipeline.dbt_in_airflow import dbt_build

    dbt_project(settings)
    task = dbt_build("dbt_parse_ahead", settings)  # configured as the build's stages are (one function)
    with tempfile.TemporaryDirectory() as folder, task.profile_config.ensure_profile() as (profile, env_vars):
        create_symlinks(Path(task.project_dir), Path(folder), ignore_dbt_packages=False)
        with environ({**os.environ, **env_vars}):
            result = dbtRunner().invoke(["parse", *task._generate_dbt_flags(folder, profile)])
        parsed = Path(folder) / PARTIAL_PARSE
        if not result.success or not parsed.exists():
            print(f"dbt parse did not finish: {result.exception or 'see its lines above'}", file=sys.stderr)
            return False
        cache._update_partial_parse_cache(parsed, dbt_cache_dir(settings))
    return True


if __name__ == "__main__":
    sys.exit(0 if parse_ahead(load_settings()) else 1)
