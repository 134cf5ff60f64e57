"""Cosmos configuration: the dbt project rendered as Airflow tasks, profile from the warehouse connection."""
from __future__ import annotations

from lienthong.config.settings import WAREHOUSE_CONN_ID, Settings


def cosmos_configs(settings: Settings, select: list[str] | None = None, exclude: list[str] | None = None) -> dict:
    """Keyword arguments for a Cosmos DbtTaskGroup over the dbt project (or the selected part)."""
    from cosmos import ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import InvocationMode, LoadMode, TestBehavior, TestIndirectSelection
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
        # Cautious: a model's test task runs only the tests whose parents are all built by then;
        # tests across several models get their own task after the last of them.
        "execution_config": ExecutionConfig(invocation_mode=InvocationMode.DBT_RUNNER,
                                            test_indirect_selection=TestIndirectSelection.CAUTIOUS),
        # One task per model running `dbt build` on it (model, then its tests): half the tasks of
        # run-then-test, and each task's cost is mostly dbt's start-up.
        "render_config": RenderConfig(load_method=LoadMode.DBT_LS, invocation_mode=InvocationMode.DBT_RUNNER,
                                      test_behavior=TestBehavior.BUILD,
                                      select=select or [], exclude=exclude or [],
                                      should_detach_multiple_parents_tests=True),
        "operator_args": {"install_deps": False},
    }
