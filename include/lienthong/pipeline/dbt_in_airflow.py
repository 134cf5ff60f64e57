"""dbt inside Airflow through Cosmos: one `dbt build` task per stage of the warehouse build.

Per-model tasks (Cosmos' DbtTaskGroup) were measured here at about 6 minutes for the tiny sample
against 33 seconds for the same `dbt build` in one process: dbt's start-up per task dominates a
project of 60 models and 180 tests. A stage task keeps dbt's own per-model results in its log and
its threads; the warehouse connection still comes from the Airflow connection, never a file.
"""
from __future__ import annotations

import importlib.util
import re
from collections.abc import Mapping
from datetime import date
from functools import cache
from pathlib import Path

from lienthong.config.settings import WAREHOUSE_CONN_ID, Settings


def profile_config():
    from cosmos import ProfileConfig
    from cosmos.profiles import PostgresUserPasswordProfileMapping

    return ProfileConfig(
        profile_name="lienthong",
        target_name="default",
        profile_mapping=PostgresUserPasswordProfileMapping(
            conn_id=WAREHOUSE_CONN_ID, profile_args={"schema": "public", "threads": 2}),
    )


# dbt's own words for a project that does not parse or compile: the same on every retry.
_DOES_NOT_COMPILE = re.compile(r"\b(Compilation|Parsing) Error\b")


def does_not_compile(message: str) -> bool:
    return bool(_DOES_NOT_COMPILE.search(message))


# A night's data tests are what the night can have broken (docs/warehouse.md, "A night's data tests"):
# the tests tagged weekly (the review's per-period tables) are left out, and the tests configured with
# a night's `where` read the night's rows. The night of this weekday of the logical date (Monday = 0)
# runs the weekly ones too. A run whose conf says {"data_tests": "full"} tests every row: a changed var
# makes dbt parse the whole project again (and the next night once more), so not every week.
WEEKLY_TESTS_WEEKDAY = 6
NIGHT_TESTS = ["--exclude", "tag:weekly"]
FULL_TESTS = ["--vars", "{data_tests: full}"]
DATA_TEST_CHOICES = ("night", "full")  # the var data_tests in macros/testing.sql reads the same two


def data_test_flags(first_build: bool, day: date, conf: Mapping | None = None) -> list[str]:
    """The dbt flags choosing a build's data tests: every test on every row on demand or on a first
    build (every row is new: the restricted tests read all of them), every test on the weekly night,
    else a night's. An unknown choice fails the task rather than testing less than was asked."""
    choice = (conf or {}).get("data_tests", "night")
    if choice not in DATA_TEST_CHOICES:
        raise ValueError(f"conf data_tests={choice!r} is not one of {', '.join(DATA_TEST_CHOICES)}: "
                         "'full' tests every row, 'night' (the default) a night's; trigger the run again with one")
    if choice == "full" and not first_build:
        return FULL_TESTS
    if first_build or day.weekday() == WEEKLY_TESTS_WEEKDAY:
        return []
    return NIGHT_TESTS


def first_build(conn) -> bool:
    """No build has recorded how far the marts were built (the restricted tests' watermark)."""
    return conn.execute("select to_regclass('intermediate.int_member_month__built') is null").fetchone()[0]


def openlineage_listener_installed() -> bool:
    """Airflow's OpenLineage provider, the only reader of the lineage events Cosmos computes after a run."""
    return importlib.util.find_spec("airflow.providers.openlineage") is not None


@cache
def _operator_class():
    """Cosmos' `dbt build` operator, failing at once (no retry) when the project does not compile."""
    from airflow.sdk.exceptions import AirflowFailException
    from cosmos.operators.local import DbtBuildLocalOperator

    class DbtBuildOperator(DbtBuildLocalOperator):
        def build_cmd(self, context, cmd_flags=None):
            from lienthong.pipeline.tasks import delivery_date
            from lienthong.warehouse import connect, resolve_url

            with connect(resolve_url()) as conn:
                first = first_build(conn)
            dag_run = context.get("dag_run")
            flags = data_test_flags(first, delivery_date(context), dag_run.conf if dag_run else None)
            self.log.info(f"data tests: {' '.join(flags) or 'all (the first build or the weekly night)'}")
            return super().build_cmd(context, [*(cmd_flags or []), *flags])

        def calculate_openlineage_events_completes(self, env, project_dir, dbt_command_line=None) -> bool:
            # Cosmos parses the run's manifest and results into OpenLineage events after every dbt run
            # (2-4 s a stage at demo), for datasets (not emitted here) and Airflow's OpenLineage
            # listener: only where that provider is installed is there anyone to read them.
            if self.emit_datasets or openlineage_listener_installed():
                return super().calculate_openlineage_events_completes(env, project_dir, dbt_command_line)
            return False

        def handle_exception_dbt_runner(self, result) -> None:
            try:
                super().handle_exception_dbt_runner(result)
            except Exception as err:
                if does_not_compile(str(err)):
                    raise AirflowFailException(f"the dbt project does not compile; fix it, then rerun: {err}") from err
                raise

    return DbtBuildOperator


def dbt_cache_dir(settings: Settings) -> Path:
    """Where the build's dbt tasks keep dbt's partial parse between tasks and nights (Cosmos' cache)."""
    return settings.state_dir / "cosmos" / "warehouse_build"


def dbt_build(task_id: str, settings: Settings, select: list[str] | None = None,
              exclude: list[str] | None = None):
    """A Cosmos task running `dbt build` (models, seeds, snapshots and their data tests) on a selection."""
    from cosmos.constants import InvocationMode

    return _operator_class()(
        task_id=task_id,
        # The checkout's project plus the configured organisations' staging, prepared by the
        # prepare_warehouse task in the state folder (lienthong.pipeline.dbt_generated).
        project_dir=str(settings.dbt_run_dir),
        profile_config=profile_config(),
        select=select or [],
        exclude=exclude or [],
        install_deps=False,
        # A test runs in the stage that builds the last of its models: cross-stage tests neither run
        # early (on models not built yet) nor get lost.
        indirect_selection="buildable",
        invocation_mode=InvocationMode.DBT_RUNNER,
        # dbt's partial parse kept between tasks and nights (Cosmos keeps none for a task outside a
        # DbtDag): without it each stage parsed the whole project again, 20-40 s of a demo build.
        # dbt re-parses what changed (a new organisation's staging, a model) by its file hashes.
        partial_parse=True,
        cache_dir=dbt_cache_dir(settings),
        emit_datasets=False,  # the DAG publishes its own asset once the marts pass their gate
        # dbt's unit tests check the models' SQL on fixed inputs, which no night changes: they run in
        # the test suite (tests/integration/review/test_review_loop.py), not on every build (demo
        # night: 31 unit tests, 23 of the 150 seconds the two dbt stages spent on their nodes).
        dbt_cmd_flags=["--exclude-resource-type", "unit_test"],
    )
