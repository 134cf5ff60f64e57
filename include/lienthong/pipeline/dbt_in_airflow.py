"""Cosmos configuration: the dbt project rendered as Airflow tasks, profile from the warehouse connection."""
from __future__ import annotations

from lienthong.config.settings import WAREHOUSE_CONN_ID, Settings


def cosmos_configs(settings: Settings) -> dict:
    """Keyword arguments for a Cosmos DbtTaskGroup over the whole dbt project."""
    from cosmos import ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import InvocationMode, LoadMode
    from cosmos.profiles import PostgresUserPasswordProfileMapping

    # dbt runs in-process (Cosmos' dbt runner) from this environment: no executable path to set.
    return {
        "project_config": ProjectConfig(dbt_project_path=settings.dbt_project_dir),
        "profile_config": ProfileConfig(
            profile_name="lienthong",
            target_name="default",
            profile_mapping=PostgresUserPasswordProfileMapping(
                conn_id=WAREHOUSE_CONN_ID, profile_args={"schema": "public"}),
        ),
        "execution_config": ExecutionConfig(invocation_mode=InvocationMode.DBT_RUNNER),
        "render_config": RenderConfig(load_method=LoadMode.DBT_LS, invocation_mode=InvocationMode.DBT_RUNNER),
        "operator_args": {"install_deps": False},
    }
